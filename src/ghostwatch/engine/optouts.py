"""Who asked not to be contacted (docs/rules.md "Said stop, or said later").

An opt-out belongs to a person, not to a conversation: said once, in any conversation,
it holds for every conversation with them — including ones the user starts later —
until the user lifts it (`ghostwatch unmute ADDRESS`). The store remembers those the
mail no longer shows (`Rules.opted_out`), so its age never matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from ghostwatch.engine.evidence import Evidence, Tracked
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import IntentKind, OptOut


def _lifted(address: str, asked_at: datetime, rules: Rules) -> bool:
    lifted = rules.opt_out_lifted.get(address)
    return lifted is not None and asked_at <= lifted


def opted_out(tracked: Iterable[Tracked], evidence: Evidence, rules: Rules) -> dict[str, datetime]:
    """Address → when it first asked not to be contacted (and the user has not lifted)."""
    found = {a: t for a, t in rules.opted_out.items() if not _lifted(a, t, rules)}
    contacts = {contact for conv in tracked for contact in conv.contacts}
    for address in sorted(contacts):
        for message in evidence.mail_from.get(address, ()):
            intent = evidence.intent(message)
            if intent is None or intent.kind != IntentKind.OPT_OUT or message.date is None:
                continue
            if not _lifted(address, message.date, rules):
                found[address] = min(found.get(address, message.date), message.date)
    return found


def as_plan(found: Mapping[str, datetime]) -> tuple[OptOut, ...]:
    return tuple(OptOut(address, found[address]) for address in sorted(found))
