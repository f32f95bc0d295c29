"""Business-day arithmetic against a plain day-by-day reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ghostwatch.engine.cadence import BusinessCalendar, holiday_dates

CALENDARS = [
    BusinessCalendar(),
    BusinessCalendar(ZoneInfo("America/New_York"), holiday_dates("US")),
    BusinessCalendar(ZoneInfo("Europe/Berlin"), holiday_dates("DE")),
    BusinessCalendar(holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)})),
]


def day_by_day(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    first, last = cal.local(start).date(), cal.local(end).date()
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += cal.is_business_day(day)
    return count


@settings(max_examples=300, deadline=None)
@given(
    cal=st.sampled_from(CALENDARS),
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    hours=st.integers(-200, 30_000),
)
def test_counting_by_weeks_equals_counting_day_by_day(
    cal: BusinessCalendar, start: datetime, hours: int
) -> None:
    end = start + timedelta(hours=hours)
    assert cal.business_days_between(start, end) == day_by_day(cal, start, end)


@settings(max_examples=200, deadline=None)
@given(
    cal=st.sampled_from(CALENDARS),
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    days=st.integers(0, 40),
)
def test_adding_n_business_days_lands_n_business_days_later(
    cal: BusinessCalendar, start: datetime, days: int
) -> None:
    later = cal.add_business_days(start, days)
    assert cal.business_days_between(start, later) == days
    assert later.time() == cal.local(start).time()
    assert days == 0 or cal.is_business_day(later.date())
