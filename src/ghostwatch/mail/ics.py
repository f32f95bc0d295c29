"""An iCalendar file (RFC 5545) → `model.CalendarEvent` values, recurrences expanded.

`read_calendar` returns every event instance that overlaps the decision window and
every instance that starts up to `LATER_HORIZON` after it: the engine needs to know
whether "a later event with those attendees exists" (docs/rules.md "Meetings").

Robustness, because calendar exports are often sloppy:

* Bytes are decoded line by line — UTF-8, falling back to cp1252 for a line that is
  not UTF-8 — so one mis-encoded display name never costs the whole file.
* Events are expanded one UID at a time (a series: the master plus its RECURRENCE-ID
  overrides, RFC 5545 §3.8.4.4), so a broken event or RRULE is skipped with a logged
  reason and the rest of the calendar still counts. Only a file that is not
  iCalendar at all raises `ValueError`.

Times become aware UTC datetimes: DATE values (all-day events) are midnight UTC;
floating times (RFC 5545 §3.3.5 form #1) are read in the calendar's X-WR-TIMEZONE
when it has one (the x-wr-timezone convention), otherwise as UTC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import recurring_ical_events
import structlog
import x_wr_timezone

from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.mail import Address

log = structlog.get_logger(__name__)

LATER_HORIZON = timedelta(days=365)
MAX_INSTANCES = 1000
"""Instances of one series read at most: daily for the whole window and horizon is ~400;
more is a rule no meeting follows (FREQ=MINUTELY), cut with a warning."""
"""How far past the window to look for a later meeting with the same people."""

# RFC 5545 §3.2.12: unknown PARTSTAT values MUST be treated as NEEDS-ACTION.
_PARTSTAT = {
    "ACCEPTED": PartStat.ACCEPTED,
    "TENTATIVE": PartStat.TENTATIVE,
    "DECLINED": PartStat.DECLINED,
    "DELEGATED": PartStat.DELEGATED,
    "NEEDS-ACTION": PartStat.NEEDS_ACTION,
}
_RESOURCE_CUTYPES = frozenset({"ROOM", "RESOURCE"})  # RFC 5545 §3.2.3
_MEET_CODE = re.compile(r"meet\.google\.com/([a-z]{3}-[a-z]{4}-[a-z]{3})\b", re.IGNORECASE)
_CONFERENCE_PROPERTIES = ("X-GOOGLE-CONFERENCE", "LOCATION", "DESCRIPTION", "URL")
ATTENDANCE_PROPERTY = "X-GHOSTWATCH-EXTERNAL-JOINED"
"""TRUE/FALSE: an attendance record carried by a calendar export (see module doc)."""
_CALENDAR_PROPERTIES_TO_KEEP = ("CALSCALE",)
# What icalendar, recurring-ical-events (their errors subclass ValueError), dateutil and
# zoneinfo (ZoneInfoNotFoundError is a KeyError; a TZID naming a tzdata folder such as
# "Europe" raises IsADirectoryError, an OSError) raise for bad data in one event.
_BAD_DATA = (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError)


def read_calendar(
    data: bytes, window_start: datetime, window_end: datetime
) -> tuple[CalendarEvent, ...]:
    """Event instances overlapping [window_start, window_end + LATER_HORIZON], by start.

    Raises ValueError when `data` is not an iCalendar file at all.
    """
    calendars = _parse(data)
    until = window_end + LATER_HORIZON
    events = [
        event
        for calendar in calendars
        for uid, series in _series(_standardize(calendar))
        for event in _expand(uid, series, window_start, until)
    ]
    return tuple(sorted(events, key=lambda e: (e.start, e.uid)))


# --- Parsing the file ---------------------------------------------------------------


def _parse(data: bytes) -> list[icalendar.Component]:
    text = _decode(data)
    try:
        components = icalendar.Calendar.from_ical(text, multiple=True)
    except _BAD_DATA as error:  # icalendar resolves TZIDs while parsing
        raise ValueError(f"not an iCalendar file: {error}") from error
    calendars = [_as_calendar(c) for c in components]
    if not calendars:
        raise ValueError("not an iCalendar file: no VCALENDAR found")
    return calendars


def _decode(data: bytes) -> str:
    """Bytes → text; a line that is not UTF-8 is read as cp1252 (the usual culprit)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    lines = data.removeprefix(b"\xef\xbb\xbf").splitlines(keepends=True)
    return "".join(_decode_line(line) for line in lines)


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _as_calendar(component: icalendar.Component) -> icalendar.Component:
    """A bare VEVENT (some tools export one) is read as a calendar holding it."""
    if component.name == "VCALENDAR":
        return component
    calendar = icalendar.Calendar()
    calendar.add_component(component)
    return calendar


def _standardize(calendar: icalendar.Component) -> icalendar.Component:
    """Floating times are in X-WR-TIMEZONE when the calendar names one (Google exports).

    Done once per calendar, so a bad zone name costs only that convention, not
    every series; recurring-ical-events would otherwise apply it per series.
    """
    try:
        standard: icalendar.Component = x_wr_timezone.to_standard(calendar)
    except (ValueError, KeyError, OSError) as error:  # see _BAD_DATA
        zone = str(calendar.get("X-WR-TIMEZONE", ""))
        log.warning("ics.x_wr_timezone_ignored", zone=zone, reason=str(error))
        return calendar
    return standard


# --- Grouping events into series -----------------------------------------------------


def _series(calendar: icalendar.Component) -> Iterator[tuple[str, icalendar.Calendar]]:
    """One small calendar per UID: its usable components and the calendar's time zones."""
    groups: dict[str, list[icalendar.Component]] = {}
    for component in calendar.walk("VEVENT"):
        problem = _unusable(component)
        if problem:
            log.warning("ics.event_skipped", uid=str(component.get("UID", "")), reason=problem)
            continue
        groups.setdefault(_uid(component), []).append(component)
    timezones = calendar.walk("VTIMEZONE")
    for uid in sorted(groups):
        yield uid, _mini_calendar(calendar, timezones, groups[uid])


def _mini_calendar(
    parent: icalendar.Component,
    timezones: list[icalendar.Component],
    components: list[icalendar.Component],
) -> icalendar.Calendar:
    mini = icalendar.Calendar()
    for name in _CALENDAR_PROPERTIES_TO_KEEP:
        if name in parent:
            mini.add(name, parent[name])
    for component in [*timezones, *components]:
        mini.add_component(component)
    return mini


def _unusable(component: icalendar.Component) -> str | None:
    """Why an event cannot be read, or None. DTSTART is required (RFC 5545 §3.6.1)."""
    if "DTSTART" not in component:
        return "no DTSTART"
    for name in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
        if name in component and not _readable(component, name):
            return f"unreadable {name}: {str(component[name])[:80]!r}"
    return None


def _readable(component: icalendar.Component, name: str) -> bool:
    try:
        value = component.decoded(name)
    except _BAD_DATA:
        return False
    return isinstance(value, date | timedelta)


def _uid(component: icalendar.Component) -> str:
    """The UID; RFC 5545 requires one, so a stable stand-in is made from the content."""
    uid = str(component.get("UID", "")).strip()
    if uid:
        return uid
    digest = hashlib.sha256(component.to_ical()).hexdigest()[:16]
    return f"no-uid-{digest}"


# --- Expanding a series --------------------------------------------------------------


def _expand(
    uid: str, series: icalendar.Calendar, start: datetime, until: datetime
) -> Iterator[CalendarEvent]:
    try:
        instances = _instances(series, start, until)
    except _BAD_DATA as error:
        log.warning("ics.series_skipped", uid=uid, reason=f"{type(error).__name__}: {error}")
        return
    if len(instances) == MAX_INSTANCES:
        log.warning("ics.series_cut", uid=uid, instances=MAX_INSTANCES)
    recurring = _is_recurring(series)
    for instance in instances:
        event = _event(instance, uid, recurring)
        if event is not None:
            yield event


def _instances(
    series: icalendar.Calendar, start: datetime, until: datetime
) -> list[icalendar.Component]:
    """The series' instances in order from `start`, up to `until` and MAX_INSTANCES: a
    rule a stranger writes (FREQ=MINUTELY for a year: half a million) is read lazily and
    cut, instead of being expanded whole (minutes of a cycle)."""
    found: list[icalendar.Component] = []
    for instance in recurring_ical_events.of(series).after(start):
        if len(found) == MAX_INSTANCES or _start_of(instance) >= until:
            break
        found.append(instance)
    return found


def _start_of(instance: icalendar.Component) -> datetime:
    return to_utc(instance.decoded("DTSTART"))


def _is_recurring(series: icalendar.Calendar) -> bool:
    return any(
        name in component
        for component in series.walk("VEVENT")
        for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )


def _event(instance: icalendar.Component, uid: str, recurring: bool) -> CalendarEvent | None:
    try:
        return _convert(instance, uid, recurring)
    except _BAD_DATA as error:
        log.warning("ics.event_skipped", uid=uid, reason=f"{type(error).__name__}: {error}")
        return None


def _convert(instance: icalendar.Component, uid: str, recurring: bool) -> CalendarEvent:
    start = to_utc(instance.decoded("DTSTART"))
    end = to_utc(instance.decoded("DTEND")) if "DTEND" in instance else start
    if recurring:
        # The instance's identity is its RECURRENCE-ID (its original start), which
        # stays the same when the instance is moved (RFC 5545 §3.8.4.4).
        original = instance.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in instance else start
        uid = f"{uid}/{to_utc(original).isoformat()}"
    return CalendarEvent(
        uid=uid,
        summary=_text(instance.get("SUMMARY")),
        start=start,
        end=max(end, start),
        organizer=_organizer(instance.get("ORGANIZER")),
        attendees=_attendees(instance.get("ATTENDEE")),
        cancelled=_text(instance.get("STATUS")).upper() == "CANCELLED",
        external_joined=_attendance(instance.get(ATTENDANCE_PROPERTY), uid),
        conference_id=_conference_id(instance),
    )


def to_utc(value: date | datetime) -> datetime:
    """A DATE → midnight UTC; a floating time → read as UTC; an aware time → in UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- People --------------------------------------------------------------------------


def _attendees(value: Any) -> tuple[Attendee, ...]:
    seen: set[str] = set()
    result = []
    for prop in _as_list(value):
        attendee = _attendee(prop)
        if attendee is not None and attendee.address.email not in seen:
            seen.add(attendee.address.email)
            result.append(attendee)
    return tuple(result)


def _attendee(prop: Any) -> Attendee | None:
    address = _address(prop)
    if address is None:
        return None
    params = getattr(prop, "params", {})
    status = _PARTSTAT.get(str(params.get("PARTSTAT", "NEEDS-ACTION")).upper())
    cutype = str(params.get("CUTYPE", "INDIVIDUAL")).upper()
    return Attendee(
        address=address,
        status=status or PartStat.NEEDS_ACTION,
        is_resource=cutype in _RESOURCE_CUTYPES,
    )


def _organizer(value: Any) -> Address | None:
    props = _as_list(value)
    return _address(props[0]) if props else None


def _address(prop: Any) -> Address | None:
    """A `mailto:` calendar address (RFC 5545 §3.3.3), or the EMAIL parameter (RFC 7986)."""
    params = getattr(prop, "params", {})
    raw = str(prop).strip()
    if raw.lower().startswith("mailto:"):
        raw = raw[len("mailto:") :]
    elif "EMAIL" in params:
        raw = str(params["EMAIL"])
    email = raw.strip().strip("<>").lower()
    if "@" not in email or ":" in email or " " in email:
        return None
    return Address(email=email, name=str(params.get("CN", "")).strip())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- Conference and attendance -------------------------------------------------------


def _conference_id(instance: icalendar.Component) -> str | None:
    """The Google Meet code (abc-defg-hij), from the conference property or any link."""
    for name in _CONFERENCE_PROPERTIES:
        for value in _as_list(instance.get(name)):
            match = _MEET_CODE.search(_text(value))
            if match:
                return match.group(1).lower()
    return None


def _attendance(value: Any, uid: str) -> bool | None:
    flag = _text(value).upper()
    if flag in {"", "TRUE", "FALSE"}:
        return None if not flag else flag == "TRUE"
    log.warning("ics.attendance_ignored", uid=uid, value=flag)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    return str(value).strip()
