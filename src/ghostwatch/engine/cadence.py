"""Business days and the follow-up cadence (docs/rules.md "Silence and the cadence").

Business days are Monday–Friday in the account's time zone, minus the public holidays
of an optional country (the `holidays` package). Adding business days keeps the local
time of day, so a message sent at 10:00 on a Friday is nudged at 10:00 on the Wednesday.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from ghostwatch.model.decisions import Action

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

    def first_business_day(self, day: date) -> date:
        """`day` itself when it is a business day, else the next one."""
        return day if self.is_business_day(day) else self.next_business_day(day)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`days` business days after `start`, at the same local time of day."""
        local = self.local(start)
        day = local.date()
        for _ in range(days):
            day = self.next_business_day(day)
        return self.at(day, local.time().replace(tzinfo=None))

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Business days d with start's local date < d ≤ end's local date.

        Counted by whole weeks, not day by day: conversations can be years old.
        """
        first, last = self.local(start).date(), self.local(end).date()
        if last <= first:
            return 0
        weeks, rest = divmod((last - first).days, 7)
        tail = sum((first + timedelta(days=n)).weekday() < 5 for n in range(1, rest + 1))
        return weeks * 5 + tail - self._weekday_holidays(first, last)

    def _weekday_holidays(self, first: date, last: date) -> int:
        """Holidays on a weekday with first < d ≤ last."""
        if not isinstance(self.holidays, Iterable):
            return sum(  # a bare Container can only be asked, day by day
                (day := first + timedelta(days=n)).weekday() < 5 and day in self.holidays
                for n in range(1, (last - first).days + 1)
            )
        for year in range(first.year, last.year + 1):
            _ = date(year, 1, 1) in self.holidays  # `holidays` fills in a year when asked
        return sum(first < day <= last and day.weekday() < 5 for day in self.holidays)


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
