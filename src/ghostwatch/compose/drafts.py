"""Follow-up drafts: one Jinja2 template per step, rendered into a reply in the thread.

A conversation's draft answers the conversation's last message (RFC 5322 §3.6.4
In-Reply-To/References, the subject with one "Re: "), goes to the contacts who were on
my last message (the engine's `ConversationDecision.recipients`: no colleagues, no
bounced addresses) and is signed with the user's signature. A missed meeting's draft
is a new message to the meeting's outside attendees.

Templates (package `compose/templates/`, or the same name in the user's folder, which
wins) and what they are given:

- `nudge`, `nudge_second`, `nudge_after_absence`, `nudge_after_deferral` (they asked to
  be contacted again about now), `breakup`: `greeting` ("Hi Kathy"),
  `since` (when my last message went out, in words: "on Monday", "last week"),
  `reason` (None, or a `personal.Reason` with `text` and `kind`: "question" and
  "statement" are quoted from my last message, a "note" is the user's own line),
  `subject`, `attempt`, `after_absence`;
- `meeting_followup`: `greeting`, `when` (when the meeting was, in words), `summary`,
  `days` (what to suggest: "on Thursday or Friday, or early next week");
- all: `signature` (text), `signature_lines` (for the HTML part), `sender_name`.

Each step has a `.txt` and an `.html` template; only the `.html` one is autoescaped.
"""

from __future__ import annotations

import email.message
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2

from ghostwatch.compose import personal
from ghostwatch.compose.templating import environment, render
from ghostwatch.mail import outgoing
from ghostwatch.model.decisions import Action, ConversationDecision, MeetingDecision, State
from ghostwatch.model.mail import Address, Message, display_subject
from ghostwatch.model.outbox import Draft, Sender

DRAFT_TEMPLATES = (
    "nudge",
    "nudge_second",
    "nudge_after_absence",
    "nudge_after_deferral",
    "breakup",
    "meeting_followup",
)
"""Every built-in draft template (each as `<name>.txt` and `<name>.html`)."""

MAX_REFERENCES = 20
"""References keeps the thread's root and the latest ids; a years-long thread's full
chain makes a header some servers refuse (RFC 5322 §3.6.4 allows trimming)."""

MAX_SUMMARY = 80
"""Characters of a meeting's title quoted in the subject and the text (some calendars
put the whole agenda there)."""


def conversation_draft(
    decision: ConversationDecision,
    messages: Sequence[Message],
    sender: Sender,
    now: datetime,
    tz: tzinfo,
    note: str | None = None,
    templates: Path | None = None,
) -> Draft | None:
    """The draft for a due nudge or breakup; None for anything else, or with nobody to
    write to. `messages` are the conversation's, in date order; the one with
    `decision.last_outbound_key` should carry its body (`content`) for the reason line."""
    if decision.state is not State.DUE or decision.action not in (Action.NUDGE, Action.BREAKUP):
        return None
    last = _by_key(messages, decision.last_message_key) or (messages[-1] if messages else None)
    mine = _by_key(messages, decision.last_outbound_key)
    to = _addresses(decision.recipients, messages)
    if last is None or not to:
        return None
    name = template_name(decision)
    context = _signed(sender) | {
        "greeting": personal.greeting(to),
        "since": personal.time_in_words(_sent_at(mine, decision), now, tz),
        "reason": personal.reason(_body(mine), note),
        "subject": display_subject(decision.subject),
        "attempt": decision.attempt,
        "after_absence": decision.after_absence,
    }
    text, html = _render(name, context, templates)
    in_reply_to = _clean_id(last.message_id)
    return Draft(
        conversation=decision.id,
        step=decision.action,
        to=to,
        subject=f"Re: {display_subject(decision.subject)}",
        in_reply_to=in_reply_to,
        references=_references(last, in_reply_to),
        text=text,
        html=html,
        step_key=(
            f"{decision.id}/{decision.action.value}/{decision.attempt}/"
            f"{_silence_of(decision, mine)}"
        ),
    )


def _silence_of(decision: ConversationDecision, mine: Message | None) -> str:
    """A deferral's nudge follows their "later", not my message: a nudge owed for my
    message before they answered must not stand for it in the ledger."""
    if decision.deferred_by is not None:
        seed = f"deferred:{decision.deferred_by}"
        return hashlib.sha1(seed.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()[:8]
    return _silence(mine)


def _silence(mine: Message | None) -> str:
    """Which silence this step follows: my latest message, by its Message-ID.

    After a reply the attempt count starts again at 0, so conversation/step/attempt
    alone would repeat, and a ledger that acts once per key would never write the
    step owed for the new silence. The Message-ID is the same through every provider.
    """
    seed = (mine.message_id or str(mine.date)) if mine is not None else ""
    return hashlib.sha1(seed.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()[:8]


def template_name(decision: ConversationDecision) -> str:
    """Which template words this step: the first nudge, later nudges, the nudge when the
    time they asked for has come, the nudge after an out-of-office absence, or the
    break-up (which mentions an absence itself)."""
    if decision.action is Action.BREAKUP:
        return "breakup"
    if decision.deferred_by is not None:
        return "nudge_after_deferral"
    if decision.after_absence:
        return "nudge_after_absence"
    return "nudge" if decision.attempt == 0 else "nudge_second"


def meeting_draft(
    decision: MeetingDecision,
    sender: Sender,
    now: datetime,
    tz: tzinfo,
    templates: Path | None = None,
) -> Draft | None:
    """The "sorry we missed each other" draft for a missed meeting: a new message (the
    calendar invitation is not in the mailbox to reply to). None for other meetings."""
    if decision.action is not Action.MEETING_FOLLOWUP:
        return None
    names = dict(decision.contact_names)
    to = tuple(Address(email, _one_line(names.get(email, ""))) for email in decision.contacts)
    if not to:
        return None
    summary = _shortened(_one_line(decision.summary), MAX_SUMMARY) or "our call"
    context = _signed(sender) | {
        "greeting": personal.greeting(to),
        "when": personal.time_in_words(decision.start, now, tz),
        "summary": summary,
        "days": personal.meeting_days(now, tz),
    }
    text, html = _render("meeting_followup", context, templates)
    return Draft(
        conversation=decision.uid,
        step=Action.MEETING_FOLLOWUP,
        to=to,
        subject=f"Sorry we missed each other — {summary}",
        in_reply_to=None,
        references=(),
        text=text,
        html=html,
        # A uid is the inviter's text: made a token that reads back from a header exactly.
        step_key=f"{outgoing.step_token(decision.uid)}/{Action.MEETING_FOLLOWUP.value}/0",
    )


def draft_message(draft: Draft, sender: Sender) -> email.message.EmailMessage:
    """The draft as a MIME message ready to be put in the user's Drafts folder; every
    header goes through `mail.outgoing`. `UnsafeItem` for an address it cannot write.

    No Date and no Message-ID: the mail client sets both when the user sends it.
    """
    message = outgoing.new_message()
    outgoing.put_addresses(message, "From", [Address(sender.address, sender.name)])
    outgoing.put_addresses(message, "To", draft.to)
    outgoing.put(message, "Subject", draft.subject)
    if draft.in_reply_to:
        outgoing.put_ids(message, "In-Reply-To", [draft.in_reply_to])
    if draft.references:
        outgoing.put_ids(message, "References", draft.references)
    # The mailbox itself records which steps have a draft (values.Draft.step_key).
    outgoing.put(message, "X-Ghostwatch-Step", draft.step_key)
    # Plain text first: multipart/alternative lists parts from least to most preferred.
    message.set_content(draft.text, subtype="plain", charset="utf-8")
    message.add_alternative(draft.html, subtype="html", charset="utf-8")
    return message


# --- rendering ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _environment(templates: Path | None) -> jinja2.Environment:
    # One environment per folder: it caches compiled templates (and reloads edited ones).
    return environment(templates)


def _render(name: str, context: dict[str, Any], templates: Path | None) -> tuple[str, str]:
    env = _environment(templates)
    text = render(env, f"{name}.txt", context)
    html = render(env, f"{name}.html", context)
    return _tidy(text), html


def _tidy(text: str) -> str:
    """Optional blocks leave blank lines behind; a draft has single blank lines only."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _signed(sender: Sender) -> dict[str, Any]:
    signature = sender.signature.strip("\n") or sender.name or sender.address
    return {
        "signature": signature,
        "signature_lines": signature.splitlines(),
        "sender_name": sender.name,
    }


# --- the conversation -------------------------------------------------------------------------


def _by_key(messages: Sequence[Message], key: str | None) -> Message | None:
    return next((m for m in messages if m.key == key), None) if key else None


def _body(message: Message | None) -> str | None:
    return message.content.text if message is not None and message.content else None


def _sent_at(mine: Message | None, decision: ConversationDecision) -> datetime | None:
    return mine.date if mine is not None and mine.date else decision.silent_since


def _addresses(emails: Iterable[str], messages: Sequence[Message]) -> tuple[Address, ...]:
    """Each address with its display name: as the person signs their own mail, else as
    the latest message naming them does."""
    wanted = list(dict.fromkeys(emails))
    names: dict[str, str] = {}
    for message in messages:
        for address in message.recipients:
            if address.email in wanted and address.name:
                names[address.email] = address.name
    own: dict[str, str] = {}
    for message in messages:
        if message.sender and message.sender.email in wanted and message.sender.name:
            own[message.sender.email] = message.sender.name
    return tuple(Address(e, _one_line(own.get(e) or names.get(e, ""))) for e in wanted)


def _clean_id(message_id: str | None) -> str | None:
    """A Message-ID usable in a header: without brackets, printable ASCII, no spaces."""
    return outgoing.message_id(message_id)


def _references(last: Message, in_reply_to: str | None) -> tuple[str, ...]:
    """The answered message's References plus its own id (RFC 5322 §3.6.4), trimmed to
    the root and the latest ids."""
    chain = [r for r in map(_clean_id, last.references) if r]
    if in_reply_to:
        chain.append(in_reply_to)
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return tuple(chain)


# --- headers ---------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """No control characters: a hostile subject or name must not add headers."""
    return outgoing.header_text(text)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:—-") + "…"
