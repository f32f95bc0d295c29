"""The decision engine: a pure function of (messages, calendar, rules, now).

No I/O and no clock here (docs/architecture.md). The shell calls it in three steps, so bodies
are read only where they can change a decision:

    threads = thread(messages, rules.me)
    keys = content_wanted(threads, rules.me)        # the shell loads these bodies
    plan = decide(threads.with_content(bodies), events, rules, now)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ghostwatch.engine import conversations, horizon, marks, optouts, stats, suggestions
from ghostwatch.engine.evidence import (
    Evidence,
    Tracked,
    content_wanted,
    gather,
    tracked_conversations,
)
from ghostwatch.engine.meetings import decide_meetings
from ghostwatch.engine.rules import Rules
from ghostwatch.engine.threads import Threads, thread
from ghostwatch.engine.voices import one_voice
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.decisions import (
    ConversationDecision,
    InboundClass,
    JunkReply,
    Plan,
    State,
    SuspiciousMail,
)
from ghostwatch.model.mail import Message, display_subject

__all__ = ["Rules", "Threads", "content_wanted", "decide", "thread"]


class _LatestHumanMail(Mapping[str, datetime]):
    """address → date of their latest human message, classified only when asked."""

    def __init__(self, evidence: Evidence) -> None:
        self._evidence = evidence

    def __getitem__(self, address: str) -> datetime:
        for message in reversed(self._evidence.mail_from.get(address, ())):
            if self._evidence.unauthenticated(message) is not None:
                continue
            verdict = self._evidence.classification(message)
            if verdict.kind == InboundClass.HUMAN and message.date is not None:
                return message.date
        raise KeyError(address)

    def __iter__(self) -> Iterator[str]:
        return iter(self._evidence.mail_from)

    def __len__(self) -> int:
        return len(self._evidence.mail_from)


_NOT_MINE = "no message from you to an outside contact"


def _not_tracked(
    cid: str, messages: Sequence[Message], reason: str = _NOT_MINE
) -> ConversationDecision:
    return ConversationDecision(
        id=cid,
        subject=display_subject(messages[0].subject),
        contacts=(),
        state=State.NOT_TRACKED,
        reasons=(reason,),
        last_message_key=messages[-1].key,
    )


def _junk_order(j: JunkReply) -> tuple[float, str, str, str, str]:
    """By content first: the provider key only separates rows that read the same."""
    when = j.date.timestamp() if j.date else 0.0
    return (when, j.conversation, j.sender, j.subject, j.message_key)


def _suspicious(cid: str, message: Message, evidence: Evidence) -> SuspiciousMail:
    sender = message.sender
    found = evidence.unauthenticated(message)
    assert found is not None
    return SuspiciousMail(
        conversation=cid,
        sender=sender.email if sender else "",
        name=sender.name if sender else "",
        subject=message.subject,
        date=message.date,
        verdict=found.summary,
        message_key=message.key,
    )


def _suspicious_order(s: SuspiciousMail) -> tuple[float, str, str, str]:
    return (s.date.timestamp() if s.date else 0.0, s.conversation, s.sender, s.message_key)


def _junk_reply(cid: str, message: Message) -> JunkReply:
    sender = message.sender.email if message.sender else ""
    return JunkReply(cid, sender, message.subject, message.date, message.key)


def _with_suggestions(
    decision: ConversationDecision,
    evidence: Evidence,
    seen: Mapping[str, Counter[str]],
    rules: Rules,
) -> ConversationDecision:
    if decision.state == State.NOT_TRACKED:
        return decision
    from_contacts = [m for c in decision.contacts for m in evidence.mail_from.get(c, ())]
    found = (
        suggestions.other_contacts(decision, seen)
        + suggestions.escalation(decision, rules.high_value)
        + suggestions.send_window(decision, from_contacts)
    )
    return replace(decision, suggestions=(*decision.suggestions, *found)) if found else decision


def decide(threads: Threads, events: Sequence[CalendarEvent], rules: Rules, now: datetime) -> Plan:
    """Every conversation's and meeting's decision at instant `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    me = rules.me
    tracked = tracked_conversations(threads, me)
    first = min((t.outbound[0].date for t in tracked.values() if t.outbound[0].date), default=None)
    evidence = gather(threads, me, first, rules.calendar)
    evidence.followed = frozenset(tracked)
    stopped = optouts.opted_out(tracked.values(), evidence, rules)
    # The mailbox's own labels (engine/marks.py): read each cycle, never stored, so
    # removing one undoes it. A `ghostwatch/vip` is high-value as `note --high-value` is.
    marked = marks.read(threads.conversations, tracked)
    rules = replace(rules, high_value=rules.high_value | marked.vip)
    past = horizon.out_of_scope(threads.conversations, rules, now)
    decisions: list[ConversationDecision] = []
    junk: list[JunkReply] = []
    suspicious: dict[str, SuspiciousMail] = {}
    answered: list[tuple[Tracked, conversations.Answers]] = []
    for cid, messages in threads.conversations.items():
        # Past the horizon a conversation is out of scope; its messages stay evidence.
        conv = tracked.get(cid) if cid not in past else None
        if conv is None:
            old = cid in past and cid in tracked
            why = horizon.reason(past[cid], rules) if old else _NOT_MINE
            decisions.append(_not_tracked(cid, messages, why))
            continue
        found = conversations.answers(conv, evidence)
        answered.append((conv, found))
        decisions.append(conversations.decide(conv, found, evidence, rules, now, stopped, marked))
        junk.extend(_junk_reply(cid, m) for m in conversations.junk_replies(conv, found))
        for message in found.suspicious:
            suspicious.setdefault(message.key, _suspicious(cid, message, evidence))
    meetings = decide_meetings(
        events, me, now, _LatestHumanMail(evidence), rules.meeting_window_days
    )
    decisions, meeting_list = one_voice(decisions, meetings, rules, now)
    silent = {
        c.rpartition("@")[2] for d in decisions if d.state in suggestions.SILENT for c in d.contacts
    }
    seen = suggestions.people_by_domain(threads.messages(), me, silent)
    return Plan(
        now=now,
        conversations=tuple(_with_suggestions(d, evidence, seen, rules) for d in decisions),
        junk_replies=tuple(sorted(junk, key=_junk_order)),
        meetings=tuple(meeting_list),
        skipped=tuple(sorted(m.key for m in threads.messages() if m.date is None)),
        weeks=stats.weekly(answered, rules.calendar, rules.cadence, now),
        suspicious=tuple(sorted(suspicious.values(), key=_suspicious_order)),
        opt_outs=optouts.as_plan(stopped),
    )
