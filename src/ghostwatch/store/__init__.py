"""ghostwatch's state: sqlmodel tables, their Alembic migrations, and the `Store` API.

Usage: `store = Store.open(url); store.upgrade(); with store.transaction() as tx: ...`.
"""

from __future__ import annotations

from ghostwatch.store.ledger import LedgerError
from ghostwatch.store.records import AccountInfo, ConversationSettings, LedgerEntry, Snapshot
from ghostwatch.store.store import Store
from ghostwatch.store.tables import LedgerStatus
from ghostwatch.store.tx import Tx

__all__ = [
    "AccountInfo",
    "ConversationSettings",
    "LedgerEntry",
    "LedgerError",
    "LedgerStatus",
    "Snapshot",
    "Store",
    "Tx",
]
