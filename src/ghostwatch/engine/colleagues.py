"""Someone else at a contact's organization, writing in another conversation
(docs/rules.md "A colleague in a new conversation").

A colleague of the prospect who starts a new thread may be answering for them — or
writing about something else entirely (a team lunch, another deal). It counts as a reply
only when it is plainly about this conversation: it names a contact (the address, or the
first and last name), quotes or references my message, or its normalized subject contains
this conversation's. Otherwise the conversation keeps its state and the digest notes it.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime

from ghostwatch.engine.classify.verdict import may_be_automatic
from ghostwatch.engine.evidence import Evidence, Tracked
from ghostwatch.engine.threads import sort_key
from ghostwatch.model.decisions import ConversationDecision, InboundClass, Suggestion
from ghostwatch.model.mail import Message, is_public_domain, normalize_subject

_SPACE = re.compile(r"\s+")


def in_other_conversations(
    conv: Tracked, evidence: Evidence, seen: set[str]
) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    """(about this conversation, about something else): human mail after my latest
    message from someone at a contact's organization who is no contact of it, in a
    conversation of their own (one I do not follow)."""
    about: list[Message] = []
    others: list[Message] = []
    topic = Topic.of(conv, evidence)
    for domain in sorted(_organizations(conv)):
        for message in _started_after(domain, conv.latest_date, evidence):
            if message.key in seen:
                continue
            if topic.plainly_about(message):
                # A reply only if a person wrote it (the body says, too); an
                # unauthenticated one is listed as suspicious by `answers`.
                if evidence.classification(message).kind == InboundClass.HUMAN:
                    about.append(message)
            elif not may_be_automatic(message) and evidence.unauthenticated(message) is None:
                others.append(message)  # only noted: what the headers say is enough
    return tuple(sorted(about, key=sort_key)), tuple(sorted(others, key=sort_key))


def _started_after(domain: str, when: datetime, evidence: Evidence) -> list[Message]:
    """Conversations someone at `domain` started after `when`, by their first message.

    Only conversations I do not follow: mail in one I follow is about that one, and a
    later message of theirs continues their own (what it is about was said first)."""
    started = evidence.started_by_org.get(domain)
    if started is None:
        started = evidence.started_by_org[domain] = sorted(
            (m for m in evidence.mail_from_org.get(domain, ()) if _starts_its_own(m, evidence)),
            key=sort_key,
        )
    return started[bisect.bisect_right(started, when, key=_date) :]


def _date(message: Message) -> datetime:
    assert message.date is not None  # mail_from_org holds dated mail only
    return message.date


def _starts_its_own(message: Message, evidence: Evidence) -> bool:
    cid = evidence.conversation_of.get(message.key, "")
    return cid not in evidence.followed and evidence.first_of.get(cid) == message.key


def _organizations(conv: Tracked) -> set[str]:
    domains = {c.rpartition("@")[2] for c in conv.contacts}
    return {d for d in domains if not is_public_domain(d)}


@dataclass(frozen=True, slots=True)
class Topic:
    """What makes a message plainly about one conversation, worked out once for it."""

    subject: str
    ids: frozenset[str]
    words: tuple[str, ...]
    """Contacts' addresses and full names, and my addresses (a quote's attribution line
    "On Mon, Alex <alex@…> wrote:" or a forward's "From: Alex <alex@…>" carries mine)."""

    @classmethod
    def of(cls, conv: Tracked, evidence: Evidence) -> Topic:
        ids = frozenset(m.message_id for m in conv.messages if m.message_id)
        words = (*conv.contacts, *sorted(_full_names(conv)), *sorted(evidence.me.addresses))
        return cls(normalize_subject(conv.messages[0].subject), ids, words)

    def plainly_about(self, message: Message) -> bool:
        """Names a contact, quotes or references my message, or shares the subject."""
        if self.subject and self.subject in normalize_subject(message.subject):
            return True
        if self.ids.intersection(message.in_reply_to, message.references):
            return True
        text = _folded(message.subject, message.content.text if message.content else "")
        return any(word in text for word in self.words)


def _full_names(conv: Tracked) -> set[str]:
    """The contacts' names as my mail and theirs spell them, first and last at least."""
    names: set[str] = set()
    for message in conv.messages:
        people = [*message.addressees, *([message.sender] if message.sender else [])]
        for person in people:
            name = _folded(person.name, "")
            if person.email in conv.contacts and len(name.split()) >= 2:
                names.add(name)
    return names


@functools.lru_cache(maxsize=1 << 12)
def _folded(subject: str, text: str) -> str:
    """Subject and text, whitespace and case folded (once per message: a str caches its
    hash, so the lookup is cheap however long the text)."""
    return _SPACE.sub(" ", f"{subject}\n{text}").casefold().strip()


def noted(decision: ConversationDecision, others: tuple[Message, ...]) -> ConversationDecision:
    """The conversation keeps its state; its reasons and the digest say who wrote."""
    if not others:
        return decision
    first = others[0]
    assert first.sender is not None
    assert first.date is not None
    when = first.date.date().isoformat()
    domain = first.sender.domain
    note = (
        f"someone else from {domain} wrote to you on {when} ({first.sender.email}),"
        " not about this conversation"
    )
    what = f"Read {first.sender.email}'s mail of {when}: someone else from {domain} wrote to"
    tip = Suggestion(
        "colleague_wrote", f"{what} you, not about this conversation", first.sender.email
    )
    return replace(
        decision, reasons=(*decision.reasons, note), suggestions=(*decision.suggestions, tip)
    )
