"""The tables ghostwatch keeps its state in (docs/architecture.md).

Headers and decisions only: no table has a column that could hold a message body.
Every time is stored in UTC and read back timezone-aware, on SQLite as on PostgreSQL.
Constraint and index names are explicit so later migrations can refer to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

# Every table this package owns, for migrations and checks that must not touch others'.
TABLES = (
    "accounts",
    "sync_cursors",
    "conversation_snapshots",
    "action_ledger",
    "digests",
    "conversation_settings",
    "message_headers",
    "opt_outs",
    "leases",
    "lease_holders",
    "vault_entries",
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is UTC in the database and aware in Python.

    SQLite has no time zones, so the value is normalised to UTC before it is written and
    labelled UTC when it is read. A naive datetime is refused: its zone would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give it a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LedgerStatus(StrEnum):
    INTENDED = "intended"
    """Recorded before the provider call; not yet known to have happened."""
    DONE = "done"
    """The provider confirmed it (provider_ref says what it made)."""
    ABANDONED = "abandoned"
    """The step counts as taken but its effect is gone (the user deleted our draft)."""
    WITHDRAWN = "withdrawn"
    """ghostwatch deleted its own unsent draft, exactly as written, once the conversation
    no longer wanted it; the step may be intended again if it falls due again."""


def _account_fk() -> Any:
    return Field(foreign_key="accounts.id", primary_key=True, ondelete="CASCADE")


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_accounts_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    provider: str
    address: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_cycle_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    # Failed cycles since the last delivered digest (migration 0003): the next digest
    # reports them, and the transaction recording its delivery clears them.
    trouble_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trouble_last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trouble_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    trouble_kind: str | None = None
    trouble_message: str | None = None
    trouble_needs_you: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The random part of the account's digest Message-IDs (migration 0004): made on first
    # use (Tx.digest_key), so an id nobody outside can guess settles a lost delivery.
    digest_key: str | None = None


class CursorRow(SQLModel, table=True):
    """Where the last sync stopped (Gmail historyId, Graph delta link, IMAP UIDs)."""

    __tablename__ = "sync_cursors"

    account_id: int = _account_fk()
    name: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SnapshotRow(SQLModel, table=True):
    """The last decision about a conversation: the engine's output, never its input mail."""

    __tablename__ = "conversation_snapshots"
    __table_args__ = (sa.Index("ix_conversation_snapshots_due", "account_id", "state", "due_at"),)

    account_id: int = _account_fk()
    conversation: str = Field(primary_key=True)
    subject: str
    contacts: list[str] = Field(sa_type=sa.JSON)
    state: str
    action: str
    attempt: int
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_in_junk: bool
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LedgerRow(SQLModel, table=True):
    """One side effect: written as intended before the provider call, settled after it."""

    __tablename__ = "action_ledger"
    __table_args__ = (
        # The idempotency guarantee itself: a second intent for a key cannot be inserted,
        # whichever replica or process tries.
        sa.UniqueConstraint("account_id", "key", name="uq_action_ledger_key"),
        sa.Index("ix_action_ledger_status", "account_id", "status"),
        sa.Index("ix_action_ledger_conversation", "account_id", "conversation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", ondelete="CASCADE")
    key: str
    kind: str
    conversation: str
    step: str
    status: str
    provider_ref: str | None = None
    reason: str | None = None
    intended_at: datetime = Field(sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A digest of what a draft said when ghostwatch wrote it (migration 0005,
    # mail/fingerprint.py): only a draft still exactly so is ever withdrawn.
    fingerprint: str | None = None


class DigestRow(SQLModel, table=True):
    __tablename__ = "digests"

    account_id: int = _account_fk()
    day: date = Field(primary_key=True)
    provider_ref: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class SettingRow(SQLModel, table=True):
    """What the user told ghostwatch about one conversation."""

    __tablename__ = "conversation_settings"

    account_id: int = _account_fk()
    conversation: str = Field(primary_key=True)
    muted: bool = False
    note: str | None = None
    high_value: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)


class HeaderRow(SQLModel, table=True):
    """The headers an incremental provider has read (never a body): what it keeps so a
    poll fetches only what changed. Written in the same transaction as its cursor."""

    __tablename__ = "message_headers"

    account_id: int = _account_fk()
    source: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    data: dict[str, Any] = Field(sa_type=sa.JSON)


class OptOutRow(SQLModel, table=True):
    """A person who asked not to be contacted (docs/rules.md "Said stop, or said later"):
    kept per address, whatever the age of the message that said it, until the user lifts
    it (`ghostwatch unmute ADDRESS` sets `lifted_at`; an opt-out asked again later counts
    again). An address and two instants: never the words of the message."""

    __tablename__ = "opt_outs"

    account_id: int = _account_fk()
    address: str = Field(primary_key=True)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LeaseRow(SQLModel, table=True):
    """Which replica polls an account (migration 0007, store/leases.py): by the
    account's configured name, since a replica leases it before its first cycle."""

    __tablename__ = "leases"

    account: str = Field(primary_key=True)
    holder: str | None = None
    # Grows with every change of hands: the fencing token an action's transaction checks.
    generation: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeaseHolderRow(SQLModel, table=True):
    """A live replica, renewed with its leases: how many share the accounts."""

    __tablename__ = "lease_holders"

    holder: str = Field(primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class VaultRow(SQLModel, table=True):
    """One token vault entry, encrypted exactly as its file would be (migration 0008,
    store/vault_rows.py): the database never sees a token in clear."""

    __tablename__ = "vault_entries"

    name: str = Field(primary_key=True)
    token: bytes = Field(sa_type=sa.LargeBinary)
    updated_at: datetime = Field(sa_type=UTCDateTime)
