"""Provider-neutral values: what every provider translates the outside world into.

The engine reads only these types. They are frozen and slotted: a 100,000-message
mailbox is held in memory as these objects, so they stay small.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum

# A Date outside these years is garbage (or hostile), not mail. Providers treat it as
# missing; the engine ignores it, so no calendar arithmetic near year 9999 can overflow.
PLAUSIBLE_YEARS = (1900, 2200)


def plausible(when: datetime | None) -> bool:
    return when is not None and PLAUSIBLE_YEARS[0] <= when.year <= PLAUSIBLE_YEARS[1]


class Folder(StrEnum):
    """The role of the folder a message sits in (DESIGN.md §2 names them)."""

    INBOX = "inbox"
    SENT = "sent"
    JUNK = "junk"
    DRAFTS = "drafts"
    TRASH = "trash"
    OTHER = "other"


class InboundClass(StrEnum):
    HUMAN = "human"
    OUT_OF_OFFICE = "out_of_office"
    AUTO_ACK = "auto_ack"
    BOUNCE = "bounce"


class State(StrEnum):
    """Conversation states — exactly these words (DESIGN.md §1)."""

    NOT_TRACKED = "not_tracked"
    WAITING = "waiting"
    DUE = "due"
    REPLIED = "replied"
    SNOOZED = "snoozed"
    BOUNCED = "bounced"
    LET_GO = "let_go"
    MUTED = "muted"


class Action(StrEnum):
    NONE = "none"
    NUDGE = "nudge"
    BREAKUP = "breakup"
    MEETING_FOLLOWUP = "meeting_followup"


class MeetingState(StrEnum):
    UPCOMING = "upcoming"
    HELD = "held"
    MISSED = "missed"
    RESCHEDULED = "rescheduled"


class PartStat(StrEnum):
    """An attendee's answer, RFC 5545 §3.2.12 PARTSTAT (absent means NEEDS-ACTION)."""

    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    NEEDS_ACTION = "needs_action"
    DELEGATED = "delegated"


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: `email` is always lower-case; `name` is the decoded display name."""

    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def local(self) -> str:
        return self.email.rpartition("@")[0]

    def __reduce__(self) -> tuple[type[Address], tuple[str, str]]:
        return Address, (self.email, self.name)  # see _message_values below: why


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """One per-recipient block of an RFC 3464 delivery-status report."""

    recipient: str
    action: str = ""
    status: str = ""
    diagnostic: str = ""


@dataclass(frozen=True, slots=True)
class Content:
    """What the classifier reads beyond the headers, extracted once from the MIME tree.

    Only loaded for messages that could be automatic or that decide a state;
    never stored (DESIGN.md §3: bodies are not kept).
    """

    text: str = ""
    """Decoded human-readable body text (text/plain, or HTML reduced to text), truncated."""
    delivery_status: tuple[DeliveryStatus, ...] = ()
    """Per-recipient fields of a message/delivery-status part, if any."""
    returned_message_ids: tuple[str, ...] = ()
    """Message-IDs quoted from a returned original (message/rfc822, text/rfc822-headers)."""
    returned_recipients: tuple[str, ...] = ()
    """To/Cc addresses of a returned original, a hint for non-standard bounces."""
    content_type: str = ""
    """The top-level Content-Type, e.g. 'multipart/report; report-type=delivery-status'."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message as decisions need it: headers, never a whole body."""

    key: str
    """Provider-unique id (Maildir: folder-relative file name without flags)."""
    folder: Folder
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = ""
    date: datetime | None = None
    """Aware, in UTC. None when no usable date could be found."""
    utc_offset_minutes: int | None = None
    """The sender's UTC offset as written in the Date header (for send windows)."""
    message_id: str | None = None
    """Without angle brackets."""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    thread_id: str | None = None
    """The provider's own thread id (Gmail threadId, Graph conversationId), if any."""
    bcc: tuple[Address, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    """Classification evidence only: (lower-case name, decoded value) of signal headers."""
    content: Content | None = None
    place: str | None = None
    """The provider's own folder where `folder` does not tell it (Graph: the mail folder
    id of a message of role OTHER, such as Archive or Clients/Contoso); else None."""

    def header(self, name: str) -> str | None:
        """The first value of a signal header (name lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc + self.bcc

    def __reduce__(self) -> tuple[type[Message], tuple[object, ...]]:
        return Message, _message_values(self)


# Why Message and Address pickle by constructor: Maildir worker processes send 100,000
# messages to the parent (providers/maildir.py). A slots dataclass pickles through
# __getstate__/__setstate__, one setattr per field; rebuilding through the constructor
# measured ~2x faster to load and 20% faster to dump.
_message_values = operator.attrgetter(*(f.name for f in fields(Message)))


@dataclass(frozen=True, slots=True)
class Classification:
    """What an inbound message is, and the evidence for it (`ghostwatch classify`)."""

    kind: InboundClass
    return_date: date | None = None
    failed_recipients: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    quoted_message_ids: tuple[str, ...] = ()
    """For bounces: Message-IDs of the original that the report quotes."""


@dataclass(frozen=True, slots=True)
class Attendee:
    address: Address
    status: PartStat = PartStat.NEEDS_ACTION
    is_resource: bool = False
    """Rooms and equipment (CUTYPE=ROOM/RESOURCE) are not people."""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    summary: str
    start: datetime
    end: datetime
    organizer: Address | None = None
    attendees: tuple[Attendee, ...] = ()
    cancelled: bool = False
    external_joined: bool | None = None
    """From an attendance record (Meet, Teams): did anyone outside my side join?
    None when there is no record."""
    conference_id: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Digest-only advice; never an action (DESIGN.md §1 Suggestions)."""

    kind: str
    """'other_contact', 'escalate' or 'send_window'."""
    text: str
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationDecision:
    id: str
    subject: str
    contacts: tuple[str, ...]
    state: State
    action: Action = Action.NONE
    attempt: int = 0
    due_at: datetime | None = None
    snoozed_until: datetime | None = None
    reply_in_junk: bool = False
    reasons: tuple[str, ...] = ()
    # What compose and the digest need beyond the contract's fields:
    last_outbound_key: str | None = None
    last_message_key: str | None = None
    recipients: tuple[str, ...] = ()
    """Contacts on my latest outbound message that have not bounced: who a draft goes to."""
    bounced: tuple[str, ...] = ()
    after_absence: bool = False
    """The next draft should acknowledge an out-of-office absence."""
    silent_since: datetime | None = None
    let_go_at: datetime | None = None
    """When a `let_go` conversation was let go (the digest shows it once, after that)."""
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(frozen=True, slots=True)
class JunkReply:
    conversation: str
    sender: str
    subject: str
    date: datetime | None
    message_key: str


@dataclass(frozen=True, slots=True)
class MeetingDecision:
    uid: str
    summary: str
    start: datetime
    contacts: tuple[str, ...]
    state: MeetingState
    action: Action = Action.NONE
    reasons: tuple[str, ...] = ()
    # What drafts and the digest need beyond the contract's fields:
    end: datetime | None = None
    contact_names: tuple[tuple[str, str], ...] = ()
    """(address, display name) of each outside attendee, as the calendar names them."""
    next_meeting: datetime | None = None
    """The start of the next meeting with any of its contacts, if one is booked."""


@dataclass(frozen=True, slots=True)
class WeekStats:
    """How the user's outreach fared, per week (the digest's "Your numbers")."""

    week_start: date
    """Monday of the week, in the account's time zone."""
    started: int
    """Conversations whose first message from me went out that week."""
    replied: int
    """Of those, how many got a human answer (so far)."""
    went_silent: int
    """Of those, how many got no answer and are past their first follow-up's due time."""
    median_hours_to_reply: float | None


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the engine decided for one mailbox at one instant."""

    now: datetime
    conversations: tuple[ConversationDecision, ...] = ()
    junk_replies: tuple[JunkReply, ...] = ()
    meetings: tuple[MeetingDecision, ...] = ()
    skipped: tuple[str, ...] = field(default=())
    """Keys of messages the engine could not use (no date), for the log."""
    weeks: tuple[WeekStats, ...] = ()
    """The last four weeks, oldest first."""


@dataclass(slots=True)
class SyncDelta:
    """What an incremental source read since its last commit, to store in one transaction
    with its cursor: the cursor moves only together with the headers it covers."""

    cursor: str
    upserts: dict[str, Message] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    reset: bool = False
    """A full resync happened: every stored header of this source is replaced."""


@dataclass(frozen=True, slots=True)
class Trouble:
    """An account's cycles that failed since its last delivered digest: the digest's
    notice at the top. Never a token or mail: the message is one ghostwatch wrote."""

    since: datetime
    """When the first of these failures happened."""
    failures: int
    last_at: datetime
    """When the latest one happened."""
    kind: str
    """The latest error's class name (TokenRevoked, GmailError, ...)."""
    message: str
    """The latest error's own message, written for people ('' for an unexpected error,
    whose text may quote a provider's payload)."""
    needs_you: bool
    """The message says what the user must do (a `UserError`: sign in again, ...)."""
