"""Calendar and Teams attendance: `calendarView/delta`, `onlineMeetings`, attendance.

References (Graph v1.0): event delta over a calendar view
(https://learn.microsoft.com/en-us/graph/api/event-delta: `startDateTime` and
`endDateTime` on the first call only, no `$select`/`$filter`, instances of recurring
series), the event resource (attendees' `status.response`: none | organizer |
tentativelyAccepted | accepted | declined | notResponded; the signed-in user's own
answer in `responseStatus`, and `isOrganizer`), `onlineMeetings` found by
`$filter=JoinWebUrl eq '…'` and its `attendanceReports/{id}/attendanceRecords`
(https://learn.microsoft.com/en-us/graph/api/meetingattendancereport-list).

Seeding: events come from the Maildir's `calendar.ics` through the ICS reader the
Maildir provider uses; an event with `X-GHOSTWATCH-EXTERNAL-JOINED` becomes a Teams
meeting with one attendance report: the user, plus an outside attendee if TRUE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ghostwatch.mail.ics import read_calendar
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch_sandbox.google.calendar_seed import _window
from ghostwatch_sandbox.microsoft.delta import Round, decode, page_answer, start_round
from ghostwatch_sandbox.microsoft.errors import answer, bad_request, not_found
from ghostwatch_sandbox.microsoft.store import opaque
from ghostwatch_sandbox.server import Request, Response

RESPONSES = {
    PartStat.ACCEPTED: "accepted",
    PartStat.TENTATIVE: "tentativelyAccepted",
    PartStat.DECLINED: "declined",
    PartStat.NEEDS_ACTION: "notResponded",
    PartStat.DELEGATED: "none",
}
_JOIN_FILTER = re.compile(r"^\s*JoinWebUrl\s+eq\s+'(?P<url>[^']*)'\s*$", re.IGNORECASE)


@dataclass(slots=True)
class AttendanceRecord:
    email: str
    name: str
    seconds: int


@dataclass(slots=True)
class Meeting:
    id: str
    join_url: str
    start: datetime
    end: datetime
    reports: list[list[AttendanceRecord]] = field(default_factory=list)


@dataclass(slots=True)
class StoredEvent:
    serial: int
    event: CalendarEvent
    seq: int
    join_url: str | None = None


@dataclass
class GraphCalendar:
    user: str
    events: list[StoredEvent] = field(default_factory=list)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    """join URL → meeting."""
    seq: int = 0
    oldest_seq: int = 0

    def add(self, event: CalendarEvent, join_url: str | None = None) -> StoredEvent:
        self.seq += 1
        stored = StoredEvent(len(self.events) + 1, event, self.seq, join_url)
        self.events.append(stored)
        return stored

    def set_attendance(self, uid: str, joined_by_outsiders: bool) -> None:
        """One attendance report for the event `uid`: the user, and an outsider if asked."""
        for stored in self.events:
            if stored.event.uid == uid:
                url = stored.join_url or _join_url(self.user, uid)
                stored.join_url = url
                self.seq += 1
                stored.seq = self.seq
                self._report(stored.event, url, joined_by_outsiders)
                return
        raise KeyError(uid)

    def _report(self, event: CalendarEvent, url: str, joined: bool) -> None:
        seconds = int((event.end - event.start).total_seconds()) or 60
        me = AttendanceRecord(self.user, self.user.partition("@")[0], seconds)
        people = [me]
        if joined:
            people.append(_outsider(event, self.user, seconds))
        meeting = Meeting(opaque("MSo", self.user, url), url, event.start, event.end, [people])
        self.meetings[url] = meeting


def _join_url(user: str, uid: str) -> str:
    return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{opaque('', user, uid)[:32]}"


def _outsider(event: CalendarEvent, user: str, seconds: int) -> AttendanceRecord:
    """The first attendee from another domain; a guest without an address otherwise."""
    domain = user.rpartition("@")[2]
    for attendee in event.attendees:
        if attendee.address.domain != domain and not attendee.is_resource:
            return AttendanceRecord(attendee.address.email, attendee.address.name, seconds)
    return AttendanceRecord("", "Guest", seconds)


def seed_calendar(root: Path, calendar: GraphCalendar, now: datetime) -> int:
    path = root / "calendar.ics"
    if not path.is_file():
        return 0
    data = path.read_bytes()
    start, end = _window(data, now)
    for event in read_calendar(data, start, end):
        if event.external_joined is None:
            calendar.add(event)
            continue
        plain = CalendarEvent(**{**_fields(event), "external_joined": None})
        calendar.add(plain)
        calendar.set_attendance(event.uid, event.external_joined)
    return len(calendar.events)


def _fields(event: CalendarEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CalendarEvent.__slots__}


# --- calendarView/delta ---------------------------------------------------------------


def _when(value: str | None, name: str) -> datetime:
    if not value:
        raise bad_request(f"The parameter '{name}' is required.", "ErrorInvalidParameter")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"'{value}' is not a valid {name}.", "ErrorInvalidParameter") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def view_delta(calendar: GraphCalendar, request: Request) -> Response:
    if request.param("$select") or request.param("$filter"):
        raise bad_request("$select and $filter are not supported on event delta.")
    scope = ""
    if request.param("$skiptoken") is None and request.param("$deltatoken") is None:
        start = _when(request.param("startDateTime"), "startDateTime")
        end = _when(request.param("endDateTime"), "endDateTime")
        scope = f"calendar|{start.isoformat()}|{end.isoformat()}"
    current = _round(calendar, request, scope)
    _, start_text, end_text = current.scope.split("|", 2)
    start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    items = [
        ((s.seq, s.serial), event_json(calendar.user, s))
        for s in sorted(calendar.events, key=lambda s: (s.seq, s.serial))
        if current.since < s.seq <= current.upto and (s.seq, s.serial) > current.after
        and s.event.start < end and s.event.end > start
    ]  # fmt: skip
    return page_answer(request, current, items)


def _round(calendar: GraphCalendar, request: Request, scope: str) -> Round:
    token = request.param("$skiptoken") or request.param("$deltatoken")
    if token is not None:
        scope = decode(token).scope
    return start_round(request, scope, calendar.seq, calendar.oldest_seq)


def _time(when: datetime) -> dict[str, str]:
    return {"dateTime": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "timeZone": "UTC"}  # fmt: skip


def event_json(user: str, stored: StoredEvent) -> dict[str, Any]:
    event = stored.event
    uid, _, original = event.uid.rpartition("/") if _occurrence(event.uid) else (event.uid, "", "")
    body: dict[str, Any] = {
        "id": opaque("AAMkAE", user, "event", event.uid),
        "iCalUId": uid,
        "subject": event.summary,
        "start": _time(event.start),
        "end": _time(event.end),
        "isCancelled": event.cancelled,
        "type": "occurrence" if original else "singleInstance",
        "organizer": _person(event.organizer.name, event.organizer.email) if event.organizer
        else None,
        "attendees": [_attendee(a) for a in event.attendees],
        "isOrganizer": _organizer_is(user, event),
        "responseStatus": _my_response(user, event),
        "isOnlineMeeting": stored.join_url is not None,
        "onlineMeeting": {"joinUrl": stored.join_url} if stored.join_url else None,
    }  # fmt: skip
    if original:
        body["seriesMasterId"] = opaque("AAMkAE", user, "series", uid)
        body["originalStart"] = original
    return body


def _organizer_is(user: str, event: CalendarEvent) -> bool:
    return event.organizer is not None and event.organizer.email == user


def _my_response(user: str, event: CalendarEvent) -> dict[str, str]:
    """The signed-in user's own answer (event resource `responseStatus`): organizer when
    they organized it, else their PARTSTAT in the calendar file, else none."""
    mine = next((a.status for a in event.attendees if a.address.email == user), None)
    if _organizer_is(user, event):
        response = "organizer"
    else:
        response = RESPONSES[mine] if mine is not None else "none"
    return {"response": response, "time": "0001-01-01T00:00:00Z"}


def _occurrence(uid: str) -> bool:
    """The ICS reader names an instance of a series `<uid>/<original start, UTC ISO>`."""
    _, slash, tail = uid.rpartition("/")
    if not slash:
        return False
    try:
        datetime.fromisoformat(tail)
    except ValueError:
        return False
    return True


def _person(name: str, email: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name, "address": email}}


def _attendee(attendee: Attendee) -> dict[str, Any]:
    return {
        "type": "resource" if attendee.is_resource else "required",
        "status": {"response": RESPONSES[attendee.status], "time": "0001-01-01T00:00:00Z"},
        **_person(attendee.address.name, attendee.address.email),
    }


# --- onlineMeetings and attendance ----------------------------------------------------


def meetings(calendar: GraphCalendar, request: Request) -> Response:
    match = _JOIN_FILTER.match(request.param("$filter") or "")
    if match is None:
        raise bad_request("Filter on JoinWebUrl is required.", "InvalidArgument")
    found = calendar.meetings.get(match["url"])
    value = [] if found is None else [_meeting_json(found)]
    return answer(200, {"value": value})


def _meeting_json(meeting: Meeting) -> dict[str, Any]:
    return {"id": meeting.id, "joinWebUrl": meeting.join_url,
            "startDateTime": _stamp(meeting.start), "endDateTime": _stamp(meeting.end)}  # fmt: skip


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meeting(calendar: GraphCalendar, meeting_id: str) -> Meeting:
    for meeting in calendar.meetings.values():
        if meeting.id == meeting_id:
            return meeting
    raise not_found("The online meeting was not found.")


def reports(calendar: GraphCalendar, meeting_id: str) -> Response:
    meeting = _meeting(calendar, meeting_id)
    value = [
        {"id": f"{meeting.id}-r{n}", "totalParticipantCount": len(records),
         "meetingStartDateTime": _stamp(meeting.start),
         "meetingEndDateTime": _stamp(meeting.end + timedelta(minutes=1))}
        for n, records in enumerate(meeting.reports)
    ]  # fmt: skip
    return answer(200, {"value": value})


def records(calendar: GraphCalendar, meeting_id: str, report_id: str) -> Response:
    meeting = _meeting(calendar, meeting_id)
    index = report_id.removeprefix(f"{meeting.id}-r")
    if not index.isdigit() or int(index) >= len(meeting.reports):
        raise not_found("The attendance report was not found.")
    value = [
        {"id": f"r{n}", "emailAddress": r.email or None, "totalAttendanceInSeconds": r.seconds,
         "role": "Organizer" if n == 0 else "Attendee",
         "identity": {"displayName": r.name},
         "attendanceIntervals": [{"joinDateTime": _stamp(meeting.start),
                                  "leaveDateTime": _stamp(meeting.end),
                                  "durationInSeconds": r.seconds}]}
        for n, r in enumerate(meeting.reports[int(index)])
    ]  # fmt: skip
    return answer(200, {"value": value})
