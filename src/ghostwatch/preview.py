"""Drafts for a scan, without touching the mailbox (`ghostwatch preview`, `digest`).

The engine decides *that* a step is due; composing needs the words of my latest
message to the prospect, so only those few bodies are read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path

from ghostwatch.compose.drafts import conversation_draft, meeting_draft
from ghostwatch.compose.values import Draft, Sender
from ghostwatch.engine.people import Identity
from ghostwatch.model import Action, ConversationDecision, Message
from ghostwatch.providers.port import MailSource
from ghostwatch.scan import Scan

_DRAFTED = frozenset({Action.NUDGE, Action.BREAKUP})


def sender_from_mail(scan: Scan, me: Identity, address: str, signature: str | None) -> Sender:
    """The user as their own sent mail names them (the commonest From display name)."""
    names = Counter(
        m.sender.name
        for m in scan.threads.messages()
        if m.sender and m.sender.name and me.is_me(m.sender.email)
    )
    name = names.most_common(1)[0][0] if names else address.partition("@")[0]
    return Sender(name=name, address=address, signature=name if signature is None else signature)


def _with_bodies(
    messages: tuple[Message, ...], decision: ConversationDecision, source: MailSource
) -> tuple[Message, ...]:
    key = decision.last_outbound_key
    bodies = source.load_content([key] if key is not None else [])
    return tuple(replace(m, content=bodies[m.key]) if m.key in bodies else m for m in messages)


def compose_drafts(
    scan: Scan,
    source: MailSource,
    sender: Sender,
    tz: tzinfo,
    notes: Mapping[str, str] | None = None,
    templates: Path | None = None,
) -> list[Draft]:
    """Every draft the plan calls for: due follow-ups, then missed-meeting notes."""
    plan, drafts = scan.plan, []
    for decision in plan.conversations:
        if decision.action in _DRAFTED:
            thread = _with_bodies(scan.threads.conversations[decision.id], decision, source)
            note = (notes or {}).get(decision.id)
            drafts.append(
                conversation_draft(decision, thread, sender, plan.now, tz, note, templates)
            )
    for meeting in plan.meetings:
        drafts.append(meeting_draft(meeting, sender, plan.now, tz, templates))
    return [d for d in drafts if d is not None]
