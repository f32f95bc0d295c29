"""Business days and the follow-up cadence (DESIGN.md §1 "Silence and the cadence").

Business days are Monday–Friday in the account's time zone, minus the public holidays
of an optional country (the `holidays` package). Adding business days keeps the local
time of day, so a message sent at 10:00 on a Friday is nudged at 10:00 on the Wednesday.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from ghostwatch.model import Action

UTC_ZONE = ZoneInfo("UTC")


def holiday_dates(country: str | None, subdivision: str | None = None) -> Container[date]:
    """The public holidays of `country` (ISO 3166 alpha-2); nothing when None.

    Raises `NotImplementedError` for an unknown country (the entry point reports it).
    """
    if not country:
        return frozenset()
    dates: Container[date] = holidays.country_holidays(country.upper(), subdiv=subdivision)
    return dates


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo = UTC_ZONE
    holidays: Container[date] = field(default_factory=frozenset)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def at(self, day: date, clock: time) -> datetime:
        """`day` at local `clock` time (a nonexistent DST time is moved forward by zoneinfo)."""
        return datetime.combine(day, clock).replace(tzinfo=self.tz)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`days` business days after `start`, at the same local time of day."""
        local = self.local(start)
        day = local.date()
        for _ in range(days):
            day = self.next_business_day(day)
        return self.at(day, local.time().replace(tzinfo=None))

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Business days d with start's local date < d ≤ end's local date."""
        first, last = self.local(start).date(), self.local(end).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    after_business_days: int


@dataclass(frozen=True, slots=True)
class Cadence:
    """Which follow-up comes after how many attempts, and when to let go."""

    steps: tuple[Step, ...] = (
        Step(Action.NUDGE, 3),
        Step(Action.NUDGE, 7),
        Step(Action.BREAKUP, 14),
    )
    let_go_after_business_days: int = 10

    def step(self, attempt: int) -> Step | None:
        """The step due after `attempt` follow-ups, or None when all were sent."""
        return self.steps[attempt] if 0 <= attempt < len(self.steps) else None
