"""One voice per person (docs/rules.md): at most one draft per contact per day.

A missed-meeting follow-up speaks first; a nudge to the same person waits for the
next business day, keeping its time of day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import Action, ConversationDecision, MeetingDecision, State


def one_voice(
    conversations: Sequence[ConversationDecision],
    meetings: Sequence[MeetingDecision],
    rules: Rules,
    now: datetime,
) -> tuple[list[ConversationDecision], list[MeetingDecision]]:
    spoken: set[str] = set()
    meetings_out = [_meeting_turn(m, spoken) for m in sorted(meetings, key=_meeting_order)]
    due = sorted((c for c in conversations if c.state == State.DUE), key=_due_order)
    turns = {c.id: _conversation_turn(c, spoken, rules, now) for c in due}
    return [turns.get(c.id, c) for c in conversations], meetings_out


def _meeting_order(meeting: MeetingDecision) -> tuple[datetime, str]:
    return (meeting.start, meeting.uid)


def _due_order(decision: ConversationDecision) -> tuple[datetime, str]:
    assert decision.due_at is not None  # every due decision carries its due time
    return (decision.due_at, decision.id)


def _meeting_turn(meeting: MeetingDecision, spoken: set[str]) -> MeetingDecision:
    if meeting.action != Action.MEETING_FOLLOWUP:
        return meeting
    clash = spoken.intersection(meeting.contacts)
    spoken.update(meeting.contacts)
    if not clash:
        return meeting
    reason = f"{', '.join(sorted(clash))} already gets a follow-up today"
    return replace(meeting, action=Action.NONE, reasons=(*meeting.reasons, reason))


def _conversation_turn(
    decision: ConversationDecision, spoken: set[str], rules: Rules, now: datetime
) -> ConversationDecision:
    clash = spoken.intersection(decision.recipients)
    if not clash:
        spoken.update(decision.recipients)
        return decision
    cal = rules.calendar
    assert decision.due_at is not None
    clock = cal.local(decision.due_at).time().replace(tzinfo=None)
    later = cal.at(cal.next_business_day(cal.local(now).date()), clock)
    reason = f"one draft per person per day: {', '.join(sorted(clash))} already gets one today"
    return replace(
        decision,
        state=State.WAITING,
        action=Action.NONE,
        due_at=later,
        reasons=(*decision.reasons, reason),
    )
