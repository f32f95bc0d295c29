"""Someone else at a contact's organization, writing in another conversation
(docs/rules.md "A colleague in a new conversation").

A colleague of the prospect who starts a new thread may be answering for them — or
writing about something else entirely (a team lunch, another deal). It counts as a reply
only when it is plainly about this conversation: it names a contact (the address, or the
first and last name), quotes or references my message, or its normalized subject contains
this conversation's. Otherwise the conversation keeps its state and the digest notes it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ghostwatch.engine.evidence import Evidence, Tracked
from ghostwatch.engine.threads import sort_key
from ghostwatch.model.decisions import ConversationDecision, InboundClass, Suggestion
from ghostwatch.model.mail import Message, is_public_domain, normalize_subject

_SPACE = re.compile(r"\s+")


def in_other_conversations(
    conv: Tracked, evidence: Evidence, seen: set[str]
) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    """(about this conversation, about something else): human mail after my latest
    message from someone at a contact's organization who is no contact of it."""
    about: list[Message] = []
    others: list[Message] = []
    mine = {m.key for m in conv.messages}
    for domain in sorted(_organizations(conv)):
        for message in evidence.mail_from_org.get(domain, ()):
            if message.key in seen or message.key in mine or not _after(message, conv):
                continue
            if evidence.classification(message).kind != InboundClass.HUMAN:
                continue
            if plainly_about(message, conv, evidence):
                about.append(message)  # an unauthenticated one is listed as suspicious
            elif evidence.unauthenticated(message) is None:
                others.append(message)
    return tuple(sorted(about, key=sort_key)), tuple(sorted(others, key=sort_key))


def _organizations(conv: Tracked) -> set[str]:
    domains = {c.rpartition("@")[2] for c in conv.contacts}
    return {d for d in domains if not is_public_domain(d)}


def _after(message: Message, conv: Tracked) -> bool:
    return message.date is not None and message.date > conv.latest_date


def plainly_about(message: Message, conv: Tracked, evidence: Evidence) -> bool:
    """Names a contact, quotes or references my message, or shares the subject."""
    subject = normalize_subject(conv.messages[0].subject)
    if subject and subject in normalize_subject(message.subject):
        return True
    ids = {m.message_id for m in conv.messages if m.message_id}
    if ids.intersection(message.in_reply_to, message.references):
        return True
    text = _folded(f"{message.subject}\n{message.content.text if message.content else ''}")
    if any(contact in text for contact in conv.contacts):
        return True
    if any(name in text for name in _full_names(conv)):
        return True
    # A quote or a forward of my message carries my address in its attribution line
    # ("On Mon, Alex <alex@…> wrote:") or its header block ("From: Alex <alex@…>").
    return any(address in text for address in evidence.me.addresses)


def _full_names(conv: Tracked) -> set[str]:
    """The contacts' names as my mail and theirs spell them, first and last at least."""
    names: set[str] = set()
    for message in conv.messages:
        people = [*message.addressees, *([message.sender] if message.sender else [])]
        for person in people:
            name = _folded(person.name)
            if person.email in conv.contacts and len(name.split()) >= 2:
                names.add(name)
    return names


def _folded(text: str) -> str:
    return _SPACE.sub(" ", text).casefold()


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
    tip = Suggestion("colleague_wrote", note, first.sender.email)
    return replace(
        decision, reasons=(*decision.reasons, note), suggestions=(*decision.suggestions, tip)
    )
