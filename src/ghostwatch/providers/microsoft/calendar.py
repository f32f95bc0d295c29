"""Outlook calendar and Teams attendance through Microsoft Graph: meetings.

Events: one `calendarView/delta` round over the window (start to a year past end,
`ics.LATER_HORIZON`), which returns the instances of recurring series
(https://learn.microsoft.com/en-us/graph/api/event-delta). An instance of a series is
named as the ICS reader names it, `<iCalUId>/<original start, UTC ISO>`.

Attendance: for an event with a Teams meeting (`onlineMeeting.joinUrl`), the meeting is
found by `onlineMeetings?$filter=JoinWebUrl eq '…'` and its attendance reports read
(https://learn.microsoft.com/en-us/graph/api/meetingattendancereport-list). Someone from
outside joined if a record has no address or one outside the user's domain; no report
means no record (None). Each of the three steps is one batch for all such events.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from ghostwatch.mail.ics import LATER_HORIZON
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.mail import Address
from ghostwatch.providers.microsoft.graph import GraphClient, Part, checked

_RESPONSES = {
    "accepted": PartStat.ACCEPTED,
    "tentativelyAccepted": PartStat.TENTATIVE,
    "declined": PartStat.DECLINED,
}
PAGE_SIZE = 1000
K = TypeVar("K", bound=Hashable)


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _when(value: dict[str, Any]) -> datetime:
    """Graph's `{dateTime, timeZone}`; the sandbox and `Prefer: outlook.timezone` give UTC."""
    return _utc(str(value["dateTime"])[:26])


def _address(value: dict[str, Any]) -> Address:
    found = value.get("emailAddress") or {}
    return Address(email=str(found.get("address", "")).lower(), name=str(found.get("name") or ""))


def event_from_item(item: dict[str, Any]) -> CalendarEvent:
    uid = str(item.get("iCalUId") or item["id"])
    if item.get("type") in ("occurrence", "exception") and item.get("originalStart"):
        uid = f"{uid}/{_utc(str(item['originalStart'])).isoformat()}"
    start = _when(item["start"])
    organizer = item.get("organizer")
    meeting = item.get("onlineMeeting") or {}
    return CalendarEvent(
        uid=uid,
        summary=str(item.get("subject") or ""),
        start=start,
        end=max(_when(item.get("end") or item["start"]), start),
        organizer=_address(organizer) if organizer else None,
        attendees=tuple(_attendee(a) for a in item.get("attendees") or []),
        cancelled=bool(item.get("isCancelled")),
        conference_id=meeting.get("joinUrl"),
        my_status=_my_status(item),
        organized_by_me=_organized_by_me(item),
    )


def _my_status(item: dict[str, Any]) -> PartStat | None:
    """The event's `responseStatus`: "the response of the signed-in user" (none,
    organizer, tentativelyAccepted, accepted, declined, notResponded). An organizer
    answers nothing: None, as `organized_by_me` says it all."""
    response = str((item.get("responseStatus") or {}).get("response", ""))
    if not response or response == "organizer":
        return None
    return _RESPONSES.get(response, PartStat.NEEDS_ACTION)


def _organized_by_me(item: dict[str, Any]) -> bool | None:
    """`isOrganizer` ("set to true if the calendar owner is the organizer"), or a
    `responseStatus` of organizer when the property is left out."""
    if isinstance(item.get("isOrganizer"), bool):
        return bool(item["isOrganizer"])
    response = (item.get("responseStatus") or {}).get("response")
    return True if response == "organizer" else None


def _attendee(value: dict[str, Any]) -> Attendee:
    response = str((value.get("status") or {}).get("response", ""))
    return Attendee(
        address=_address(value),
        status=_RESPONSES.get(response, PartStat.NEEDS_ACTION),
        is_resource=value.get("type") == "resource",
    )


class OutlookCalendar:
    """The mailbox's primary calendar; Teams attendance when `attendance` is on."""

    def __init__(self, client: GraphClient, address: str, *, attendance: bool = True) -> None:
        self.client = client
        self.domain = address.lower().rpartition("@")[2]
        self.attendance = attendance

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        found = [event_from_item(item) for item in self._items(start, end + LATER_HORIZON)]
        if self.attendance:
            found = self._attended(found)
        return tuple(sorted(found, key=lambda e: (e.start, e.uid)))

    def _items(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        window = f"startDateTime={_stamp(start)}&endDateTime={_stamp(end)}"
        url = f"{self.client.mailbox}/calendarView/delta?{window}"
        items: list[dict[str, Any]] = []
        while True:
            part = Part("view", url, headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
            page = checked(self.client.batch([part])["view"], "calendarView/delta").json()
            items += [i for i in page.get("value", []) if "@removed" not in i]
            if "@odata.nextLink" not in page:
                return items
            url = self.client.relative(str(page["@odata.nextLink"]))

    def _attended(self, events: list[CalendarEvent]) -> list[CalendarEvent]:
        online = sorted({e.conference_id for e in events if e.conference_id})
        if not online:
            return events
        joined = self._outsiders_joined(online)
        return [_with_attendance(e, joined) for e in events]

    def _outsiders_joined(self, urls: list[str]) -> dict[str, bool]:
        """Join URL → did anyone outside join, for the meetings that have a report."""
        box = self.client.mailbox
        finds = {u: f"{box}/onlineMeetings?$filter=" + quote(f"JoinWebUrl eq '{u}'") for u in urls}
        meetings = {u: str(found[0]["id"]) for u, found in self._values(finds).items() if found}
        reports = self._values(
            {u: f"{box}/onlineMeetings/{m}/attendanceReports" for u, m in meetings.items()}
        )
        paths = {
            (u, str(r["id"])): f"{box}/onlineMeetings/{meetings[u]}/attendanceReports/"
            f"{r['id']}/attendanceRecords"
            for u, found in reports.items()
            for r in found
        }
        joined: dict[str, bool] = {}
        for (url, _), records in self._values(paths).items():
            joined[url] = joined.get(url, False) or any(map(self._is_outsider, records))
        return joined

    def _values(self, paths: dict[K, str]) -> dict[K, list[dict[str, Any]]]:
        """GET every path in batches; each answer's `value` list, by the path's key."""
        keys = list(paths)
        answers = self.client.batch(Part(str(n), paths[k]) for n, k in enumerate(keys))
        return {k: checked(answers[str(n)], paths[k].split("?")[0]).json().get("value", [])
                for n, k in enumerate(keys)}  # fmt: skip

    def _is_outsider(self, record: dict[str, Any]) -> bool:
        email = str(record.get("emailAddress") or "").lower()
        return not email or email.rpartition("@")[2] != self.domain


def _with_attendance(event: CalendarEvent, joined: dict[str, bool]) -> CalendarEvent:
    if event.conference_id in joined:
        return replace(event, external_joined=joined[event.conference_id])
    return event


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
