"""One database transaction and the questions a service cycle asks inside it.

Everything a cycle records (cursor, snapshots, ledger confirmations) goes through one
`Tx`, so it commits together or not at all. Inserts that may race another replica use
INSERT ... ON CONFLICT, so the loser of a race learns it lost instead of getting an error.

This module holds accounts, trouble, sync cursors and headers, conversations, opt-outs
and digests; the action ledger's methods are in store/ledger.py and the statements all
of them write with in store/statements.py, which `Tx` inherits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from ghostwatch.model.decisions import ConversationDecision, OptOut
from ghostwatch.model.mail import Message
from ghostwatch.model.sync import SyncDelta, Trouble
from ghostwatch.store import leases
from ghostwatch.store.headers import header_data, message_from_data
from ghostwatch.store.ledger import LedgerTx
from ghostwatch.store.records import AccountInfo, ConversationSettings, Snapshot
from ghostwatch.store.snapshots import UPDATED_FIELDS, snapshot_from_row, snapshot_values
from ghostwatch.store.statements import SNAPSHOT_CHUNK
from ghostwatch.store.tables import (
    AccountRow,
    CursorRow,
    DigestRow,
    HeaderRow,
    LedgerRow,
    OptOutRow,
    SettingRow,
    SnapshotRow,
    UTCDateTime,
)

# An error text is for a person reading `ghostwatch accounts`, not a full traceback.
MAX_ERROR_CHARS = 2000
# The digest's notice quotes the last error; a few lines at most.
MAX_TROUBLE_CHARS = 500
# 128 bits: a digest Message-ID nobody outside the store can guess.
DIGEST_KEY_BYTES = 16

# What a mailbox taught us, per account (`forget_mailbox`); conversation_settings is the
# user's own and stays.
_LEARNED = tuple(
    sa.inspect(table).columns["account_id"]
    for table in (CursorRow, HeaderRow, SnapshotRow, LedgerRow, DigestRow)
)
# An account's trouble columns with no failure recorded (`clear_trouble`).
_NO_TROUBLE: dict[str, Any] = {
    "trouble_since": None,
    "trouble_last_at": None,
    "trouble_failures": 0,
    "trouble_kind": None,
    "trouble_message": None,
    "trouble_needs_you": False,
}
_NOTHING_LEARNED: dict[str, Any] = {"last_cycle_at": None, "last_error": None, **_NO_TROUBLE}


class Tx(LedgerTx):
    def fenced(self, fence: leases.Fence) -> None:
        """`LeaseLost` unless this replica still holds the account's lease at the fence's
        generation; the lease row stays locked until this transaction ends, so nothing
        it records can land after another replica took the account (store/leases.py)."""
        leases.check(self._session.connection(), fence)

    # -- accounts ---------------------------------------------------------------------

    def account(self, name: str, provider: str, address: str) -> int:
        """Create the account or update its provider and address; its id either way."""
        self._upsert(
            AccountRow,
            [{"name": name, "provider": provider, "address": address, "created_at": self._now()}],
            keys=("name",),
            update=("provider", "address"),
        )
        found = self._session.exec(select(AccountRow.id).where(AccountRow.name == name)).one()
        assert found is not None  # the row was just written in this transaction
        return found

    def accounts(self) -> list[AccountInfo]:
        rows = self._session.exec(select(AccountRow).order_by(col(AccountRow.name))).all()
        return [
            AccountInfo(r.id or 0, r.name, r.provider, r.address, r.last_cycle_at, r.last_error)
            for r in rows
        ]

    def forget_mailbox(self, name: str) -> bool:
        """Forget what was learned from the account's mailbox (sync cursors and cached
        headers, snapshots, ledger, digests, last cycle, trouble), keeping the user's own
        choices (mutes, notes): for a mailbox that started again from nothing. False: no
        account of that name."""
        query = select(AccountRow.id).where(AccountRow.name == name)
        account = self._session.exec(query).first()
        if account is None:
            return False
        for column in _LEARNED:
            self._session.exec(sa.delete(column.table).where(column == account))
        self._update(AccountRow, AccountRow.id == account, **_NOTHING_LEARNED)
        return True

    def record_cycle(self, account: int, at: datetime, error: str | None) -> None:
        """When the account's last cycle ran and how it ended (None: it succeeded)."""
        text = None if error is None else error[:MAX_ERROR_CHARS]
        self._update(AccountRow, AccountRow.id == account, last_cycle_at=at, last_error=text)

    def digest_key(self, account: int) -> str:
        """The random part of the account's digest Message-IDs, made on first use. Made
        only where none is stored yet, then read back: two replicas asking at once agree."""
        fresh = secrets.token_hex(DIGEST_KEY_BYTES)
        self._update(AccountRow, AccountRow.id == account, col(AccountRow.digest_key).is_(None),
                     digest_key=fresh)  # fmt: skip
        query = select(AccountRow.digest_key).where(AccountRow.id == account)
        key = self._session.exec(query).one()
        assert key is not None  # written just above unless it was there already
        return key

    # -- trouble: failed cycles since the last delivered digest --------------------------

    def record_failure(
        self, account: int, at: datetime, kind: str, message: str, *, needs_you: bool
    ) -> None:
        """One more failed cycle for the next digest to report; the first sets `since`.
        Counted in SQL, so failures two replicas record at once both count."""
        when = sa.literal(at, type_=UTCDateTime())
        self._update(
            AccountRow,
            AccountRow.id == account,
            trouble_since=sa.func.coalesce(col(AccountRow.trouble_since), when),
            trouble_last_at=when,
            trouble_failures=col(AccountRow.trouble_failures) + 1,
            trouble_kind=kind,
            trouble_message=message[:MAX_TROUBLE_CHARS],
            trouble_needs_you=needs_you,
        )

    def trouble(self, account: int) -> Trouble | None:
        row = self._session.exec(select(AccountRow).where(AccountRow.id == account)).one()
        if not row.trouble_failures or row.trouble_since is None or row.trouble_last_at is None:
            return None
        return Trouble(
            since=row.trouble_since,
            failures=row.trouble_failures,
            last_at=row.trouble_last_at,
            kind=row.trouble_kind or "",
            message=row.trouble_message or "",
            needs_you=row.trouble_needs_you,
        )

    def clear_trouble(self, account: int, shown: Trouble) -> bool:
        """Forget the trouble a delivered digest showed (call it in the transaction that
        records that digest). A failure recorded after the digest read it changes the row,
        which is then kept whole and shown again: reported twice rather than never."""
        changed = self._update(
            AccountRow,
            AccountRow.id == account,
            AccountRow.trouble_failures == shown.failures,
            AccountRow.trouble_last_at == shown.last_at,
            **_NO_TROUBLE,
        )
        return changed == 1

    # -- sync cursors -----------------------------------------------------------------

    def cursor(self, account: int, name: str) -> str | None:
        query = select(CursorRow.value).where(
            CursorRow.account_id == account, CursorRow.name == name
        )
        return self._session.exec(query).one_or_none()

    def set_cursor(self, account: int, name: str, value: str) -> None:
        row = {"account_id": account, "name": name, "value": value, "updated_at": self._now()}
        self._upsert(CursorRow, [row], keys=("account_id", "name"), update=("value", "updated_at"))

    # -- conversations ----------------------------------------------------------------

    def save_snapshots(
        self, account: int, decisions: Sequence[ConversationDecision], now: datetime
    ) -> None:
        # In key order: two replicas upserting overlapping sets on PostgreSQL then lock rows
        # in the same order and cannot deadlock each other.
        ordered = sorted(decisions, key=lambda decision: decision.id)
        rows = [snapshot_values(account, decision, now) for decision in ordered]
        for start in range(0, len(rows), SNAPSHOT_CHUNK):
            chunk = rows[start : start + SNAPSHOT_CHUNK]
            self._upsert(
                SnapshotRow, chunk, keys=("account_id", "conversation"), update=UPDATED_FIELDS
            )

    def snapshots(self, account: int) -> dict[str, Snapshot]:
        query = select(SnapshotRow).where(SnapshotRow.account_id == account)
        return {row.conversation: snapshot_from_row(row) for row in self._session.exec(query)}

    def conversation_settings(self, account: int) -> dict[str, ConversationSettings]:
        query = select(SettingRow).where(SettingRow.account_id == account)
        return {
            row.conversation: ConversationSettings(row.muted, row.note, row.high_value)
            for row in self._session.exec(query)
        }

    def set_conversation(
        self,
        account: int,
        conversation: str,
        *,
        muted: bool | None = None,
        note: str | None = None,
        high_value: bool | None = None,
    ) -> None:
        """Change only the settings given; an empty note clears it."""
        given = {"muted": muted, "note": note, "high_value": high_value}
        changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if "note" in changes:
            changes["note"] = changes["note"] or None
        row = {"muted": False, "note": None, "high_value": False, **changes}
        row |= {"account_id": account, "conversation": conversation, "updated_at": self._now()}
        update = (*changes, "updated_at")
        self._upsert(SettingRow, [row], keys=("account_id", "conversation"), update=update)

    # -- opt-outs: who asked not to be contacted ------------------------------------------

    def opt_outs(self, account: int) -> dict[str, tuple[datetime, datetime | None]]:
        """Address → (when it asked not to be contacted, when the user lifted that)."""
        query = select(OptOutRow).where(OptOutRow.account_id == account)
        return {row.address: (row.asked_at, row.lifted_at) for row in self._session.exec(query)}

    def record_opt_outs(self, account: int, found: Iterable[OptOut]) -> None:
        """Keep what a cycle found. An address already kept keeps its first `asked_at`,
        unless the user lifted it and the person has asked again since."""
        for opt_out in sorted(found, key=lambda o: o.address):
            row = {
                "account_id": account,
                "address": opt_out.address,
                "asked_at": opt_out.asked_at,
                "updated_at": self._now(),
            }
            if self._upsert(OptOutRow, [row], keys=("account_id", "address")):
                continue
            self._update(
                OptOutRow,
                OptOutRow.account_id == account,
                OptOutRow.address == opt_out.address,
                col(OptOutRow.lifted_at).is_not(None),
                col(OptOutRow.lifted_at) < opt_out.asked_at,
                asked_at=opt_out.asked_at,
                lifted_at=None,
                updated_at=self._now(),
            )

    def lift_opt_out(self, account: int, address: str, at: datetime) -> bool:
        """The user lifts an address's opt-out (everything it asked up to `at`). False:
        no opt-out is kept for it."""
        changed = self._update(
            OptOutRow,
            OptOutRow.account_id == account,
            OptOutRow.address == address,
            lifted_at=at,
            updated_at=self._now(),
        )
        return changed == 1

    # -- incremental sync -------------------------------------------------------------

    def cached_headers(self, account: int, source: str) -> list[Message]:
        query = select(HeaderRow).where(HeaderRow.account_id == account, HeaderRow.source == source)
        return [message_from_data(row.key, row.data) for row in self._session.exec(query)]

    def apply_sync(self, account: int, source: str, delta: SyncDelta) -> None:
        """Store a source's delta and move its cursor, in this one transaction."""
        mine = sa.and_(col(HeaderRow.account_id) == account, col(HeaderRow.source) == source)
        if delta.reset:
            self._session.exec(sa.delete(HeaderRow).where(mine))
        gone = sorted(delta.removed - delta.upserts.keys())
        for start in range(0, len(gone), SNAPSHOT_CHUNK):
            keys = gone[start : start + SNAPSHOT_CHUNK]
            self._session.exec(sa.delete(HeaderRow).where(mine, col(HeaderRow.key).in_(keys)))
        rows: list[dict[str, Any]] = [
            {"account_id": account, "source": source, "key": key, "data": header_data(message)}
            for key, message in sorted(delta.upserts.items())
        ]
        for start in range(0, len(rows), SNAPSHOT_CHUNK):
            chunk = rows[start : start + SNAPSHOT_CHUNK]
            self._upsert(HeaderRow, chunk, keys=("account_id", "source", "key"), update=("data",))
        self.set_cursor(account, source, delta.cursor)

    # -- digests ----------------------------------------------------------------------

    def record_digest(
        self, account: int, day: date, provider_ref: str | None, *, at: datetime | None = None
    ) -> bool:
        """Record the day's digest. False: that day already has one."""
        row = {
            "account_id": account,
            "day": day,
            "provider_ref": provider_ref,
            "created_at": at or self._now(),
        }
        return self._upsert(DigestRow, [row], keys=("account_id", "day")) == 1

    def last_digest(self, account: int) -> datetime | None:
        query = select(func.max(DigestRow.created_at)).where(DigestRow.account_id == account)
        return self._session.exec(query).one()
