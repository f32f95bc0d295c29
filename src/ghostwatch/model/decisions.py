"""What the engine decides: a `Plan` of conversation and meeting decisions, the states and
actions they use (docs/rules.md), and what `classify` says of one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class InboundClass(StrEnum):
    HUMAN = "human"
    OUT_OF_OFFICE = "out_of_office"
    AUTO_ACK = "auto_ack"
    BOUNCE = "bounce"


class IntentKind(StrEnum):
    """What a person's reply asks of the user beyond this conversation (docs/rules.md
    "Said stop, or said later")."""

    OPT_OUT = "opt_out"
    DEFERRAL = "deferral"


@dataclass(frozen=True, slots=True)
class Intent:
    """An intent found in a reply's own words."""

    kind: IntentKind
    words: str
    """The words that carry it, as written (for `classify` and the reasons)."""
    named: date | None = None
    """For a deferral: the first day of the time it names (a month, a quarter, a date)."""
    until: date | None = None
    """For a deferral: the first business day on or after `named` (the engine's calendar)."""


@dataclass(frozen=True, slots=True)
class OptOut:
    """A person who asked not to be contacted, and when (docs/rules.md "Said stop")."""

    address: str
    asked_at: datetime


class State(StrEnum):
    """Conversation states — exactly these words (docs/rules.md)."""

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


@dataclass(frozen=True, slots=True)
class Classification:
    """What an inbound message is, and the evidence for it (`ghostwatch classify`)."""

    kind: InboundClass
    return_date: date | None = None
    failed_recipients: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    quoted_message_ids: tuple[str, ...] = ()
    """For bounces: Message-IDs of the original that the report quotes."""
    delayed_recipients: tuple[str, ...] = ()
    """Recipients a delivery report says are still being retried (RFC 3464 `delayed`).
    Information only: a delay notice is `auto_ack` and never bounces anyone."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Digest-only advice; never an action (docs/rules.md Suggestions)."""

    kind: str
    """'other_contact', 'escalate', 'send_window' or 'colleague_wrote'."""
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
    deferred_by: str | None = None
    """The Message-ID (or key) of the reply that asked to be contacted later, once that
    time has come: the draft says they asked to reconnect now."""
    silent_since: datetime | None = None
    let_go_at: datetime | None = None
    """When a `let_go` conversation was let go (the digest shows it once, after that)."""
    suggestions: tuple[Suggestion, ...] = ()
    high_value: bool = False
    """Marked high-value (`ghostwatch/vip` in the mailbox, or `note --high-value`): the
    digest lists it first and says so."""


@dataclass(frozen=True, slots=True)
class JunkReply:
    conversation: str
    sender: str
    subject: str
    date: datetime | None
    message_key: str


@dataclass(frozen=True, slots=True)
class SuspiciousMail:
    """Mail that would have counted for a conversation (a reply, an absence, a bounce) but
    that the user's own provider did not authenticate (docs/rules.md "Authenticity")."""

    conversation: str
    sender: str
    """The address it claims to be from."""
    name: str
    subject: str
    date: datetime | None
    verdict: str
    """What the topmost Authentication-Results said, e.g. 'dmarc=fail'."""
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
    opt_outs: tuple[OptOut, ...] = ()
    """Everyone who asked not to be contacted, in the mail or as the store remembered
    (minus those the user lifted): the shell keeps them, whatever their age."""
    suspicious: tuple[SuspiciousMail, ...] = ()
    """Unauthenticated mail that was not counted, for the digest's "Suspicious"."""
