"""A replica's mailbox writes under its lease (service/leasing.py).

Each write first asks whether the lease is still held by the replica's own clock; the
database refuses what it would record anyway (`Store.fenced`), but the provider call
comes between two transactions: a replica paused after recording an intent must not
write the draft once it wakes, when another replica may already have written it. Reads
pass through: a read changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email.message import EmailMessage

from ghostwatch.errors import LeaseLost
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.port import DraftListing, MailActions


class FencedActions:
    """A `MailActions` whose writes are refused (`LeaseLost`) once `held()` says no."""

    def __init__(self, inner: MailActions, held: Callable[[], bool]) -> None:
        self.inner = inner
        self._held = held

    def _check(self, what: str) -> None:
        if not self._held():
            raise LeaseLost(f"{what} not done: this replica's lease ran out")

    # -- reads ------------------------------------------------------------------------
    def draft_listing(self) -> DraftListing:
        return self.inner.draft_listing()

    def existing_steps(self) -> dict[str, str]:
        return self.inner.existing_steps()

    def written_fingerprint(self, message: EmailMessage) -> str:
        return self.inner.written_fingerprint(message)

    def draft_fingerprint(self, draft_id: str) -> str | None:
        return self.inner.draft_fingerprint(draft_id)

    def find_message(self, message_id: str) -> str | None:
        return self.inner.find_message(message_id)

    def find_digest(self, message_id: str, sender: str) -> str | None:
        return self.inner.find_digest(message_id, sender)

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        return self.inner.draft_links(draft_ids)

    # -- writes -----------------------------------------------------------------------
    def withdraw_draft(self, draft_id: str) -> None:
        self._check("withdrawing a draft")
        self.inner.withdraw_draft(draft_id)

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        self._check("writing a draft")
        return self.inner.create_draft(draft, message, thread_id)

    def rescue(self, message_key: str) -> None:
        self._check("moving a reply out of junk")
        self.inner.rescue(message_key)

    def deliver_digest(self, message: EmailMessage) -> str:
        self._check("delivering the digest")
        return self.inner.deliver_digest(message)
