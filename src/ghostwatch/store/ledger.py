"""The action ledger's half of a transaction: every step a cycle takes is intended
before the provider call and settled after it (docs/architecture.md).

An entry goes intended → done (confirmed with the provider's id) or abandoned (taken,
its effect gone, never made again); a done draft that ghostwatch itself deleted goes to
withdrawn, and only then may its step be intended anew. A transition that cannot happen
is a `LedgerError`. `Tx` (store/tx.py) inherits these methods, so callers ask one `Tx`
and the ledger commits with everything else the cycle records.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlmodel import col, select

from ghostwatch.errors import GhostwatchError
from ghostwatch.store.records import LedgerEntry
from ghostwatch.store.statements import SNAPSHOT_CHUNK, Statements
from ghostwatch.store.tables import LedgerRow, LedgerStatus


class LedgerError(GhostwatchError):
    """A ledger transition that cannot happen: a bug in the caller, never a user mistake."""


class LedgerTx(Statements):
    """The ledger's methods of `Tx`: intend, settle, and what is pending or made."""

    def intend(self, account: int, key: str, kind: str, conversation: str, step: str) -> bool:
        """Record the intent to act. False: the key is already recorded; do not act again
        — unless ghostwatch withdrew that step's draft itself: then it is intended anew."""
        row = {
            "account_id": account,
            "key": key,
            "kind": kind,
            "conversation": conversation,
            "step": step,
            "status": LedgerStatus.INTENDED.value,
            "intended_at": self._now(),
        }
        if self._upsert(LedgerRow, [row], keys=("account_id", "key")) == 1:
            return True
        # One UPDATE: of two replicas reopening a withdrawn step at once, one wins.
        reopened = self._update(
            LedgerRow,
            *self._ledger_key(account, key),
            LedgerRow.status == LedgerStatus.WITHDRAWN.value,
            status=LedgerStatus.INTENDED.value,
            intended_at=row["intended_at"],
            provider_ref=None,
            reason=None,
            settled_at=None,
            fingerprint=None,
        )
        return reopened == 1

    def written(self, account: int, key: str, fingerprint: str) -> None:
        """The digest of the draft about to be written, kept on its intent before the
        provider call: a crash after the call leaves the digest of exactly what was made."""
        self._update(
            LedgerRow,
            *self._ledger_key(account, key),
            LedgerRow.status == LedgerStatus.INTENDED.value,
            fingerprint=fingerprint,
        )

    def confirm(self, account: int, key: str, provider_ref: str) -> None:
        """intended → done: the provider made it, and this is its id."""
        changed = self._update(
            LedgerRow,
            *self._ledger_key(account, key),
            LedgerRow.status == LedgerStatus.INTENDED.value,
            status=LedgerStatus.DONE.value,
            provider_ref=provider_ref,
            settled_at=self._now(),
        )
        if changed:
            return
        found = self.entry(account, key)
        # Confirming twice with the same id is a retry after a lost reply, not a mistake.
        if found is None or found.status != LedgerStatus.DONE or found.provider_ref != provider_ref:
            raise LedgerError(f"cannot confirm {key!r}: it is {_describe(found)}")

    def abandon(self, account: int, key: str, reason: str) -> None:
        """The step counts as taken, but its effect is gone; it is never made again."""
        changed = self._update(
            LedgerRow,
            *self._ledger_key(account, key),
            col(LedgerRow.status).in_([LedgerStatus.INTENDED.value, LedgerStatus.DONE.value]),
            status=LedgerStatus.ABANDONED.value,
            reason=reason,
            settled_at=self._now(),
        )
        if not changed and self.entry(account, key) is None:
            raise LedgerError(f"cannot abandon {key!r}: it was never intended")

    def withdrawn(self, account: int, key: str) -> None:
        """done → withdrawn: ghostwatch deleted its own unsent draft (docs/rules.md,
        "Drafts stay true"). Unlike an abandoned step, the step may be intended again."""
        self._update(
            LedgerRow,
            *self._ledger_key(account, key),
            LedgerRow.status == LedgerStatus.DONE.value,
            status=LedgerStatus.WITHDRAWN.value,
            settled_at=self._now(),
        )

    def drafts_made(
        self, account: int, refs: Collection[str], steps: Collection[str]
    ) -> list[LedgerEntry]:
        """Confirmed drafts whose recorded id is among `refs`, or whose step is among
        `steps`: ghostwatch's drafts the mailbox's Drafts still shows."""
        found: dict[str, LedgerEntry] = {}
        for column, values in (
            (LedgerRow.provider_ref, sorted(refs)),
            (LedgerRow.step, sorted(steps)),
        ):
            for start in range(0, len(values), SNAPSHOT_CHUNK):
                query = select(LedgerRow).where(
                    LedgerRow.account_id == account,
                    LedgerRow.kind == "draft",
                    LedgerRow.status == LedgerStatus.DONE.value,
                    col(column).in_(values[start : start + SNAPSHOT_CHUNK]),
                )
                found.update((row.key, _entry(row)) for row in self._session.exec(query))
        return [found[key] for key in sorted(found)]

    def pending(self, account: int) -> list[LedgerEntry]:
        """Intents with no confirmation (a crash between the call and the record)."""
        query = (
            select(LedgerRow)
            .where(
                LedgerRow.account_id == account,
                LedgerRow.status == LedgerStatus.INTENDED.value,
            )
            .order_by(col(LedgerRow.intended_at), col(LedgerRow.id))
        )
        return [_entry(row) for row in self._session.exec(query)]

    def entries(self, account: int, keys: Collection[str]) -> dict[str, LedgerEntry]:
        """The ledger's entries among `keys`, by key, in one query per chunk."""
        wanted, found = sorted(set(keys)), dict[str, LedgerEntry]()
        for start in range(0, len(wanted), SNAPSHOT_CHUNK):
            query = select(LedgerRow).where(
                LedgerRow.account_id == account,
                col(LedgerRow.key).in_(wanted[start : start + SNAPSHOT_CHUNK]),
            )
            found.update((row.key, _entry(row)) for row in self._session.exec(query))
        return found

    def entry(self, account: int, key: str) -> LedgerEntry | None:
        row = self._session.exec(select(LedgerRow).where(*self._ledger_key(account, key)))
        found = row.one_or_none()
        return None if found is None else _entry(found)

    @staticmethod
    def _ledger_key(account: int, key: str) -> tuple[Any, Any]:
        return LedgerRow.account_id == account, LedgerRow.key == key


def _entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        key=row.key,
        kind=row.kind,
        conversation=row.conversation,
        step=row.step,
        status=LedgerStatus(row.status),
        intended_at=row.intended_at,
        provider_ref=row.provider_ref,
        reason=row.reason,
        settled_at=row.settled_at,
        fingerprint=row.fingerprint,
    )


def _describe(found: LedgerEntry | None) -> str:
    if found is None:
        return "not in the ledger (intend it first)"
    return f"{found.status.value} with {found.provider_ref!r}"
