"""What the mailbox as a whole says about each tracked conversation.

Decisions need more than one conversation's messages: a prospect may answer in a new
thread, and bounces rarely thread at all. This module builds those cross-conversation
indexes once, and tells the shell which few bodies are worth reading.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.classify import authenticity
from ghostwatch.engine.classify.authenticity import AuthVerdict
from ghostwatch.engine.classify.intent import message_intent
from ghostwatch.engine.classify.verdict import classify, may_be_automatic
from ghostwatch.engine.people import Identity, is_bot, is_mail_daemon
from ghostwatch.engine.threads import Threads, sort_key
from ghostwatch.model.decisions import Classification, Intent
from ghostwatch.model.mail import Folder, Message, is_public_domain


def is_mine(message: Message, me: Identity) -> bool:
    """I sent it: From is me *and* it is filed in Sent (docs/rules.md "Mine"). Anyone can
    write my address in From; only my own provider files what I send in Sent, so a
    from-me message anywhere else — a copy I Bcc'd myself, a forgery in the Inbox — is
    nobody's outbound."""
    return (
        message.folder is Folder.SENT
        and message.sender is not None
        and me.is_me(message.sender.email)
    )


def is_outbound(message: Message, me: Identity) -> bool:
    """Mail I sent to someone outside: mine, dated, with a contact in To or Cc."""
    return (
        is_mine(message, me)
        and message.date is not None
        and any(me.is_contact(a.email) for a in message.addressees)
    )


def is_external_inbound(message: Message, me: Identity) -> bool:
    """Written by someone outside my organization who could be a person."""
    sender = message.sender
    return (
        sender is not None
        and message.date is not None
        and not me.is_internal(sender.email)
        and not is_bot(sender.email)
    )


@dataclass(frozen=True, slots=True)
class Tracked:
    """A conversation in which I wrote to at least one contact."""

    id: str
    messages: tuple[Message, ...]
    outbound: tuple[Message, ...]
    contacts: tuple[str, ...]
    latest_date: datetime
    """The date of my latest outbound message."""

    @property
    def latest(self) -> Message:
        return self.outbound[-1]


def tracked_conversations(threads: Threads, me: Identity) -> dict[str, Tracked]:
    found: dict[str, Tracked] = {}
    for cid, messages in threads.conversations.items():
        outbound = tuple(m for m in messages if is_outbound(m, me))
        contacts = sorted(
            {a.email for m in outbound for a in m.addressees if me.is_contact(a.email)}
        )
        if outbound:
            latest = outbound[-1].date
            assert latest is not None  # is_outbound requires a date
            found[cid] = Tracked(cid, messages, outbound, tuple(contacts), latest)
    return found


# Header-only hints that a message may be a delivery report: DSNs come from the null
# sender or a mail daemon (`is_mail_daemon`, the classifier's test too), non-standard
# ones say so in the subject.
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|deliver(?:y|ed)? (?:status|failure|failed|has failed|notification|problem)"
    r"|returned mail|failure notice|mail delivery|not be delivered|couldn.t be delivered"
    r"|non remis|unzustellbar|nicht zugestellt|no entregado|non recapitato|onbestelbaar"
    r"|não entregue|mail system error|rejected|permanent error",
    re.I,
)


@functools.lru_cache(maxsize=1 << 16)
def _bounce_subject(subject: str) -> bool:
    return bool(_BOUNCE_SUBJECT.search(subject))


def may_be_bounce(message: Message) -> bool:
    sender = message.sender
    if sender is None or is_mail_daemon(sender.email, sender.name):
        return True
    if _bounce_subject(message.subject):
        return True
    for name, value in message.headers:
        if name == "x-failed-recipients":
            return True
        if name == "return-path" and value.strip() == "<>":
            return True
        if name == "content-type" and "report" in value.lower():
            return True
    return False


@dataclass(slots=True)
class Evidence:
    """Cross-conversation indexes, and a memo of classifications (pure, built once)."""

    me: Identity
    conversation_of: dict[str, str] = field(default_factory=dict)
    mail_from: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    mail_from_org: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    """External mail by the sender's organization, for domains that are no public mail
    domain (docs/rules.md "A colleague in a new conversation")."""
    bounces_for: dict[str, list[tuple[Message, Classification]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Delivery reports by failed recipient and by quoted Message-ID."""
    suspicious_reports: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    """Would-be delivery reports the user's provider did not authenticate, indexed as
    `bounces_for`: they bounce nothing, the digest lists them."""
    classes: dict[str, Classification] = field(default_factory=dict)
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    """The account's business days: a deferral's date is the first one of its time."""
    intents: dict[str, Intent | None] = field(default_factory=dict)
    forged: dict[str, AuthVerdict | None] = field(default_factory=dict)
    followed: frozenset[str] = frozenset()
    """Ids of the tracked conversations (set by the caller once it knows them)."""
    first_of: dict[str, str] = field(default_factory=dict)
    """Conversation id → the key of its first message."""
    started_by_org: dict[str, list[Message]] = field(default_factory=dict)
    """Domain → first messages of the conversations people there started (a memo)."""

    def classification(self, message: Message) -> Classification:
        found = self.classes.get(message.key)
        if found is None:
            found = self.classes[message.key] = classify(message)
        return found

    def intent(self, message: Message) -> Intent | None:
        """What a person's reply asks beyond its conversation (read once per message).
        Mail the user's provider did not authenticate asks nothing (docs/rules.md
        "Authenticity"): a forger must not be able to mute, or snooze, a prospect."""
        if message.key not in self.intents:
            verdict = self.classification(message)
            forged = self.unauthenticated(message) is not None
            found = None if forged else message_intent(message, verdict, self.calendar)
            self.intents[message.key] = found
        return self.intents[message.key]

    def unauthenticated(self, message: Message) -> AuthVerdict | None:
        """The topmost Authentication-Results' verdict when it fails the message: never
        a reply, bounce or absence (docs/rules.md "Authenticity"). Read once a message."""
        if message.key not in self.forged:
            self.forged[message.key] = authenticity.unauthenticated(message)
        return self.forged[message.key]


def gather(
    threads: Threads,
    me: Identity,
    since: datetime | None,
    calendar: BusinessCalendar | None = None,
) -> Evidence:
    """Index who wrote what where, and every delivery report after `since`."""
    evidence = Evidence(me, calendar=calendar or BusinessCalendar())
    for cid, messages in threads.conversations.items():
        evidence.first_of[cid] = messages[0].key
        for message in messages:
            evidence.conversation_of[message.key] = cid
            if message.sender is None or not me.is_me(message.sender.email):
                _index_inbound(evidence, message, since)
    return evidence


def _index_inbound(evidence: Evidence, message: Message, since: datetime | None) -> None:
    if is_external_inbound(message, evidence.me):
        assert message.sender is not None
        evidence.mail_from[message.sender.email].append(message)
        domain = message.sender.domain
        if not is_public_domain(domain):
            evidence.mail_from_org[domain].append(message)
    late = since is not None and message.date is not None and message.date >= since
    # Trash is searched for replies only: a report the user deleted bounces nothing.
    if late and message.folder is not Folder.TRASH and may_be_bounce(message):
        found = evidence.classification(message)
        if found.kind == "bounce":
            forged = evidence.unauthenticated(message) is not None
            for ref in {*found.failed_recipients, *found.quoted_message_ids}:
                if forged:
                    evidence.suspicious_reports[ref].append(message)
                else:
                    evidence.bounces_for[ref].append((message, found))


def content_wanted(threads: Threads, me: Identity) -> set[str]:
    """Keys of the messages whose body can change a decision.

    Headers suffice for most mail: bodies are read only for possible bounces after my
    first message (for their failed recipients), and for possible auto-replies after my
    latest message to their conversation or sender (out-of-office or auto-ack, and the
    return date). Before my latest message, headers alone tell a person from a robot,
    which is all the attempt count needs.
    """
    tracked = tracked_conversations(threads, me)
    horizon = _contact_horizons(tracked.values(), _latest_human_looking(threads, me))
    first = min((t.outbound[0].date for t in tracked.values() if t.outbound[0].date), default=None)
    if first is None:
        return set()
    wanted: set[str] = set()
    for cid, messages in threads.conversations.items():
        conv = tracked.get(cid)
        since = conv.latest_date if conv else None
        wanted.update(m.key for m in messages if _wants_body(m, me, since, horizon, first))
        if conv is None and _colleague_starts(messages[0], me, horizon):
            wanted.add(messages[0].key)
    wanted |= _may_ask(threads, tracked, me)
    return wanted


def _may_ask(threads: Threads, tracked: Mapping[str, Tracked], me: Identity) -> set[str]:
    """The messages that could say "stop" or "later" and change a decision (docs/rules.md
    "Said stop, or said later"), by headers alone:

    * the latest answer after my latest message in a conversation, there or from one of
      its contacts anywhere — the last one a person may have written, and any automatic
      notice after it (a deferral is the latest human answer; an opt-out often is);
    * everything a contact of a *silent* conversation wrote after I first wrote to them:
      an opt-out said anywhere, even before my latest message, must keep a follow-up
      from being drafted.

    A contact who said "stop" and then wrote again, in conversations that have all been
    answered since, has no draft to stop: their words are read once a silent one exists.
    """
    by_sender: dict[str, list[Message]] = defaultdict(list)
    for messages in threads.conversations.values():
        for message in messages:
            if is_external_inbound(message, me):
                assert message.sender is not None
                by_sender[message.sender.email].append(message)
    wanted: set[str] = set()
    silent: dict[str, datetime] = {}
    for conv in tracked.values():
        mail = [*conv.messages, *(m for c in conv.contacts for m in by_sender.get(c, ()))]
        answers = sorted(
            (
                m
                for m in mail
                if m.date and m.date > conv.latest_date and is_external_inbound(m, me)
            ),
            key=sort_key,
        )
        for answer in reversed(answers):
            wanted.add(answer.key)
            if not may_be_automatic(answer):
                break  # the latest a person wrote; earlier answers decide nothing
        start = conv.outbound[0].date
        assert start is not None  # is_outbound requires a date
        for contact in () if answers else conv.contacts:
            silent[contact] = min(silent.get(contact, start), start)
    for contact, start in silent.items():
        wanted.update(m.key for m in by_sender.get(contact, ()) if m.date and m.date > start)
    return wanted


def _latest_human_looking(threads: Threads, me: Identity) -> dict[str, datetime]:
    """Sender → date of their latest external mail that headers do not mark automatic."""
    latest: dict[str, datetime] = {}
    for message in threads.messages():
        if is_external_inbound(message, me) and not may_be_automatic(message):
            assert message.sender is not None
            assert message.date is not None
            held = latest.get(message.sender.email)
            if held is None or message.date > held:
                latest[message.sender.email] = message.date
    return latest


def _contact_horizons(
    tracked: Iterable[Tracked], latest_human: Mapping[str, datetime]
) -> dict[str, datetime]:
    """Per contact, and per contact's organization (a domain, never a public one): the
    earliest 'latest outbound' of the conversations they are in. An organization counts
    only for conversations no person has visibly answered since (no contact wrote
    anything headers call human, and nobody outside did in the thread): a colleague's new
    mail can change nothing in an answered one, and each of its bodies costs a read."""
    horizon: dict[str, datetime] = {}
    for conv in tracked:
        silent = not _answered(conv, latest_human)
        for contact in conv.contacts:
            domain = contact.rpartition("@")[2]
            org = silent and not is_public_domain(domain)
            for key in (contact, "@" + domain) if org else (contact,):
                held = horizon.get(key)
                horizon[key] = conv.latest_date if held is None else min(held, conv.latest_date)
    return horizon


def _answered(conv: Tracked, latest_human: Mapping[str, datetime]) -> bool:
    people = set(conv.contacts) | {
        m.sender.email for m in conv.messages if m.sender and m.date and m.date > conv.latest_date
    }
    return any(latest_human.get(p, conv.latest_date) > conv.latest_date for p in people)


def _wants_body(
    message: Message,
    me: Identity,
    conversation_since: datetime | None,
    horizon: Mapping[str, datetime],
    first_outbound: datetime,
) -> bool:
    if message.date is None or message.date < first_outbound:
        return False
    if message.sender is not None and me.is_me(message.sender.email):
        return False
    if may_be_bounce(message):
        return True
    if not is_external_inbound(message, me):
        return False
    assert message.sender is not None
    since = horizon.get(message.sender.email)
    recent = (conversation_since is not None and message.date > conversation_since) or (
        since is not None and message.date > since
    )
    # The date tests first: they are cheap and rule out most mail before the header scan.
    return recent and may_be_automatic(message)


def _colleague_starts(message: Message, me: Identity, horizon: Mapping[str, datetime]) -> bool:
    """Someone at a contact's organization started a conversation of their own after my
    latest message to it: its body tells whether it is about mine (names a contact,
    quotes me; docs/rules.md "A colleague in a new conversation")."""
    if message.date is None or not is_external_inbound(message, me):
        return False
    assert message.sender is not None
    since = horizon.get("@" + message.sender.domain)
    return since is not None and message.date > since
