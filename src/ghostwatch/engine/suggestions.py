"""Digest-only advice (docs/rules.md "Suggestions"): never an action. Each one says the
one thing to do, starting with its verb ("Ask …", "Send it …").

* another person at the prospect's organization already seen in the mail, when the
  contact is silent or bounced (ask a colleague or an assistant, never go over a head);
* escalation to the user's manager for high-value conversations after the last nudge;
* a send window early in the morning or after hours in the contact's own time zone,
  read from the UTC offset of their latest message's Date header.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta, timezone

from ghostwatch.engine.people import Identity
from ghostwatch.engine.threads import sort_key
from ghostwatch.model.decisions import Action, ConversationDecision, State, Suggestion
from ghostwatch.model.mail import Message, is_public_domain

SILENT = frozenset({State.DUE, State.WAITING, State.LET_GO, State.BOUNCED})
_MORNING, _EVENING = (7, 30), (17, 30)


def people_by_domain(
    messages: Iterable[Message], me: Identity, domains: set[str]
) -> dict[str, Counter[str]]:
    """For each of `domains`: each contact address seen there, and how often."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    wanted = {d for d in domains if not is_public_domain(d)}
    for message in messages:
        people = [*message.recipients, *([message.sender] if message.sender else [])]
        for person in people:
            if person.domain in wanted and me.is_contact(person.email):
                seen[person.domain][person.email] += 1
    return seen


def other_contacts(
    decision: ConversationDecision, seen: Mapping[str, Counter[str]], limit: int = 2
) -> list[Suggestion]:
    if decision.state not in SILENT:
        return []
    domains = sorted({c.rpartition("@")[2] for c in decision.contacts})
    found: list[Suggestion] = []
    for domain in domains:
        for address, _ in seen.get(domain, Counter()).most_common():
            if address not in decision.contacts and len(found) < limit:
                text = f"Ask {address} (also at {domain}) whether anything changed"
                found.append(Suggestion("other_contact", text, address))
    return found


def escalation(decision: ConversationDecision, high_value: frozenset[str]) -> list[Suggestion]:
    late = decision.attempt >= 2 or decision.action == Action.BREAKUP
    if decision.id not in high_value or decision.state not in SILENT or not late:
        return []
    who = decision.contacts[0] if decision.contacts else "them"
    text = f"Ask your manager to write to {who}: a high-value deal can reopen from the top"
    return [Suggestion("escalate", text)]


def send_window(
    decision: ConversationDecision, latest_from_contact: Sequence[Message]
) -> list[Suggestion]:
    """Early morning or after hours in the contact's zone, from their Date offset."""
    dated = [m for m in latest_from_contact if m.utc_offset_minutes is not None and m.date]
    if decision.state != State.DUE or not dated:
        return []
    latest = max(dated, key=sort_key)
    assert latest.sender is not None
    assert latest.utc_offset_minutes is not None
    label = timezone(timedelta(minutes=latest.utc_offset_minutes)).tzname(None)
    text = (
        f"Send it around {_MORNING[0]:02d}:{_MORNING[1]:02d} or "
        f"{_EVENING[0]:02d}:{_EVENING[1]:02d} their time ({latest.sender.email} writes "
        f"from {label})"
    )
    return [Suggestion("send_window", text, latest.sender.email)]
