"""The digest's numbers (docs/rules.md: "when prospects often go silent, the process needs a
tune-up"): per week, conversations started, answered, gone silent, time to first answer."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from ghostwatch.engine.cadence import BusinessCalendar, Cadence
from ghostwatch.engine.conversations import Answers
from ghostwatch.engine.evidence import Tracked
from ghostwatch.model.decisions import WeekStats


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _first_answer(conv: Tracked, found: Answers) -> datetime | None:
    start = conv.outbound[0].date
    assert start is not None  # outbound messages are dated
    return min((m.date for m in found.humans if m.date and m.date > start), default=None)


def _went_silent(
    conv: Tracked, cadence: Cadence, calendar: BusinessCalendar, now: datetime
) -> bool:
    """No answer, and the first follow-up's wait is over: silence, not patience."""
    first = cadence.step(0)
    start = conv.outbound[0].date
    assert start is not None
    wait = first.after_business_days if first else 0
    return calendar.add_business_days(start, wait) <= now


def weekly(
    conversations: Iterable[tuple[Tracked, Answers]],
    calendar: BusinessCalendar,
    cadence: Cadence,
    now: datetime,
    weeks: int = 4,
) -> tuple[WeekStats, ...]:
    """The last `weeks` weeks (this one included), oldest first, by my first message."""
    this_week = _monday(calendar.local(now).date())
    starts = [this_week - timedelta(weeks=n) for n in reversed(range(weeks))]
    rows: dict[date, list[tuple[Tracked, datetime | None]]] = {s: [] for s in starts}
    for conv, found in conversations:
        first = conv.outbound[0].date
        assert first is not None
        week = _monday(calendar.local(first).date())
        if week in rows:
            rows[week].append((conv, _first_answer(conv, found)))
    return tuple(_week(s, rows[s], calendar, cadence, now) for s in starts)


def _week(
    start: date,
    rows: list[tuple[Tracked, datetime | None]],
    calendar: BusinessCalendar,
    cadence: Cadence,
    now: datetime,
) -> WeekStats:
    hours = [
        (answer - first).total_seconds() / 3600
        for conv, answer in rows
        if answer is not None and (first := conv.outbound[0].date) is not None
    ]
    silent = sum(
        answer is None and _went_silent(conv, cadence, calendar, now) for conv, answer in rows
    )
    return WeekStats(
        week_start=start,
        started=len(rows),
        replied=len(hours),
        went_silent=silent,
        median_hours_to_reply=round(statistics.median(hours), 1) if hours else None,
    )
