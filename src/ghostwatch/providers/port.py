"""The port every mailbox adapter implements for reading (docs/architecture.md).

The scan shell and the service's cycle read mail only through this, so a Maildir, a
Gmail account and an Outlook mailbox give the engine the same values, and one contract
test suite (`tests/contract_mail_source.py`) holds every adapter to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol, runtime_checkable

from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Message
from ghostwatch.model.outbox import Draft
from ghostwatch.model.sync import SyncDelta


class MailSource(Protocol):
    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        """Headers only, `key`s stable: at least every message that can bear on a decision —
        my sent mail and whole threads, and all mail (junk and drafts included) from the
        people and organisations I wrote to or met and from mail daemons. An adapter may
        return more (the Maildir reader returns everything); a synced one less."""
        ...

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies for messages already read, by key; unknown or broken ones are left out."""
        ...

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """Calendar events from `start`, and every later one up to a year past `end`
        (a later meeting makes a missed one rescheduled)."""
        ...


@runtime_checkable
class IncrementalSource(Protocol):
    """A `MailSource` that reads only changes after its first sync (Gmail history, Graph
    delta). The cycle resumes it from the store and commits its delta after acting."""

    sync_name: str
    """Names its cursor and stored headers, e.g. 'gmail'."""

    def resume(self, cursor: str | None, headers: Iterable[Message]) -> None:
        """Start from a committed state (None: no state yet, a full sync is due)."""
        ...

    @property
    def resumed(self) -> bool:
        """Whether the source holds a state already (in a long-running process it does)."""
        ...

    def delta(self) -> SyncDelta | None:
        """Everything read since the last `committed()`; None if nothing to commit."""
        ...

    def committed(self) -> None:
        """The delta is stored: forget it."""
        ...


@dataclass(frozen=True, slots=True)
class DraftListing:
    """What the Drafts folder holds now, as the cycle's ledger needs it.

    `ids` is the evidence a recorded draft still exists: the id `create_draft` returned is
    listed there while the draft is in Drafts, whatever the answer says of its headers.
    `steps` is the evidence a draft whose id was never recorded (a crash before the
    confirmation, a lost database) exists: the X-Ghostwatch-Step it carries. A header is
    never the only proof of a recorded draft, for a provider may drop it (Exchange on a
    reply, another client re-saving the draft)."""

    ids: frozenset[str] = frozenset()
    """The id of every draft in the mailbox, ghostwatch's or not."""
    steps: Mapping[str, str] = field(default_factory=dict)
    """Step key → draft id, for every draft carrying X-Ghostwatch-Step."""


class MailActions(Protocol):
    """The port every writable mailbox adapter implements (docs/architecture.md: act).

    Writes only make things the user can see and undo; nothing here sends mail.
    """

    def draft_listing(self) -> DraftListing:
        """Every draft's id, and the steps of those carrying X-Ghostwatch-Step. Raises
        when any draft could not be read: a draft missing from the answer reads as gone."""
        ...

    def existing_steps(self) -> dict[str, str]:
        """Step key → draft id for every draft carrying X-Ghostwatch-Step (the `steps` of
        `draft_listing`)."""
        ...

    def written_fingerprint(self, message: EmailMessage) -> str:
        """The digest (`mail.fingerprint`) this mailbox will show of a draft made from
        `message`: the part of it this provider keeps, in the canonical form."""
        ...

    def draft_fingerprint(self, draft_id: str) -> str | None:
        """The digest of the draft `draft_id` as the mailbox holds it now; None when there
        is no such draft (sent, deleted)."""
        ...

    def withdraw_draft(self, draft_id: str) -> None:
        """Remove one draft ghostwatch made, that one alone; one already gone is no error."""
        ...

    def find_message(self, message_id: str) -> str | None:
        """The provider's id of the message with this Message-ID (no brackets), if any."""
        ...

    def find_digest(self, message_id: str, sender: str) -> str | None:
        """The provider's id of the digest with this Message-ID (no brackets) if it is in
        the Inbox and From `sender` (the user), else None. Only that settles a delivery
        whose answer was lost: a message a stranger planted elsewhere (Spam) or wrote
        under another From is not today's digest."""
        ...

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        """Save `message` as a draft in the provider's thread `thread_id`; its draft id."""
        ...

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        """Draft id → the web address where that draft opens in the user's mail, for
        the digest (docs/rules.md, the digest). A draft with no such address — gone, or a
        mailbox with no web client (IMAP, Maildir) — is left out: no link rather than a
        dead one."""
        ...

    def rescue(self, message_key: str) -> None:
        """Move a message out of junk into the inbox."""
        ...

    def deliver_digest(self, message: EmailMessage) -> str:
        """Put the digest into the inbox, unread, without sending it; its message id."""
        ...
