"""Seed the Calendar and Meet emulators from a Maildir's `calendar.ics`.

Events are read with the same ICS reader the Maildir provider uses
(`providers.ics.read_calendar`, recurrences expanded to instances), over a window from
the earliest DTSTART in the file to two years past the latest one (or past today).

Attendance: an event carrying `X-GHOSTWATCH-EXTERNAL-JOINED:TRUE|FALSE` gets a Meet
conference record — the user and one outside participant, or the user alone. An event
with that property but no Meet link gets a Meet conference (a meeting code derived
from its UID), as Google Calendar attaches one to events created with Meet.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ghostwatch.mail.ics import read_calendar
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Address
from ghostwatch_sandbox.google.calendar import CalendarStore
from ghostwatch_sandbox.google.meet import MeetStore, Person, signed_in

_DTSTART = re.compile(rb"^DTSTART[^:\r\n]*:(\d{4})(\d{2})(\d{2})", re.MULTILINE)
_AHEAD = timedelta(days=730)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _window(data: bytes, now: datetime) -> tuple[datetime, datetime]:
    starts = [
        datetime(int(y), max(1, int(m)), max(1, int(d)), tzinfo=UTC)
        for y, m, d in _DTSTART.findall(data)
        if 1900 <= int(y) <= 2200 and int(m) <= 12 and int(d) <= 31
    ]
    first = min(starts, default=now) - timedelta(days=1)
    return first, max([*starts, now]) + _AHEAD


def meeting_code(uid: str) -> str:
    """A Meet-shaped code (abc-defg-hij) for an event without one."""
    digest = hashlib.sha256(uid.encode()).digest()
    letters = "".join(_LETTERS[b % 26] for b in digest[:10])
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"


def seed_calendar(root: Path, calendar: CalendarStore, meet: MeetStore, now: datetime) -> int:
    """Add the events of `root/calendar.ics` (if any); returns how many."""
    path = root / "calendar.ics"
    if not path.is_file():
        return 0
    data = path.read_bytes()
    start, end = _window(data, now)
    events = [_attend(event, calendar.user, meet) for event in read_calendar(data, start, end)]
    return calendar.seed(events)


def _attend(event: CalendarEvent, user: str, meet: MeetStore) -> CalendarEvent:
    if event.external_joined is None:
        return event
    code = event.conference_id or meeting_code(event.uid)
    outsider = _outsider(event, user) if event.external_joined else None
    people = [_me(event, user)] + ([outsider] if outsider else [])
    meet.record(code, event.start, max(event.end, event.start + timedelta(minutes=1)), people)
    # The calendar itself carries no attendance: Meet's records do.
    return replace(event, conference_id=code, external_joined=None)


def _me(event: CalendarEvent, user: str) -> Person:
    people = [a.address for a in event.attendees]
    if event.organizer is not None:
        people.append(event.organizer)
    name = next((p.name for p in people if p.email == user and p.name), "")
    return signed_in(name, user)


def _outsider(event: CalendarEvent, user: str) -> Person:
    """The first attendee from another domain, signed in; an anonymous guest otherwise."""
    domain = user.rpartition("@")[2]
    for attendee in event.attendees:
        address: Address = attendee.address
        if address.domain != domain and not attendee.is_resource:
            return signed_in(address.name, address.email)
    return Person("Guest", "anonymousUser")
