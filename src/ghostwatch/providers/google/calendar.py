"""Google Calendar v3 and Google Meet v2 through google-api-python-client: meetings.

`GoogleCalendar.events(start, end)` lists the primary calendar's event instances from
`start` to a year past `end` (`events.list` with `singleEvents=true`,
`orderBy=startTime`, `showDeleted=true` so that cancelled meetings count,
https://developers.google.com/calendar/api/v3/reference/events/list), and for events
with a Meet conference (`conferenceData.conferenceId`, the meeting code) asks Meet
whether anyone outside the user's side joined (`conferenceRecords.list` filtered on
`space.meeting_code`, then `conferenceRecords.participants.list`,
https://developers.google.com/meet/api/reference/rest/v2/conferenceRecords).

Meet gives display names, never email addresses (docs/providers.md), so the user's side is
recognised by name: a signed-in participant whose display name is that of an attendee
(or organizer) in the user's own domain, or its email's local part. Anonymous and
phone participants, and everyone else, are outside.

`GoogleCalendar.changes(sync_token)` is the incremental read (`syncToken` →
`nextSyncToken`); an expired token (410) raises `CursorExpired`: clear and read in
full again (https://developers.google.com/calendar/api/guides/sync).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ghostwatch.errors import CursorExpired
from ghostwatch.mail.ics import LATER_HORIZON
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.mail import Address
from ghostwatch.providers.google.api import DEFAULT_POLICY, GoogleApiError, execute, google_service
from ghostwatch.providers.retry import RetryPolicy

PAGE_SIZE = 2500  # events.list maximum
_PART_STAT = {
    "accepted": PartStat.ACCEPTED,
    "tentative": PartStat.TENTATIVE,
    "declined": PartStat.DECLINED,
    "needsAction": PartStat.NEEDS_ACTION,
}
# A participant may join a little early; a record that starts within this much before
# the event, or during it, is that meeting's record.
_EARLY = timedelta(hours=1)


class CalendarError(GoogleApiError):
    """Calendar or Meet answered with an error ghostwatch cannot work around."""


def calendar_service(api_endpoint: str, credentials: Any) -> Any:
    """The Calendar client from its bundled discovery document (endpoint: URL/calendar/v3/)."""
    return google_service("calendar", "v3", api_endpoint, credentials)


def meet_service(api_endpoint: str, credentials: Any) -> Any:
    """The Meet client (its paths start with v2/, so the endpoint is the bare root)."""
    return google_service("meet", "v2", api_endpoint, credentials)


class GoogleCalendar:
    """The user's primary calendar, with Meet attendance when a Meet client is given."""

    def __init__(
        self,
        calendar_service: Any,
        meet_service: Any | None = None,
        calendar_id: str = "primary",
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.calendar = calendar_service
        self.meet = meet_service
        self.calendar_id = calendar_id
        self.retry = retry

    def _execute(self, request: Any) -> Any:
        try:
            return execute(request, CalendarError, policy=self.retry)
        except CalendarError as error:
            if error.status == 410:
                raise CursorExpired("Calendar answered 410: the sync token expired") from error
            raise

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """Instances overlapping [start, end + a year], by start (see `MailSource.events`)."""
        window = {
            "timeMin": _rfc3339(start),
            "timeMax": _rfc3339(end + LATER_HORIZON),
            "singleEvents": True,
            "orderBy": "startTime",
            "showDeleted": True,
        }
        found = [self._attended(item) for item in self._pages(window)]
        return tuple(sorted(found, key=lambda e: (e.start, e.uid)))

    def changes(self, sync_token: str | None) -> tuple[list[dict[str, Any]], str]:
        """Event resources changed since `sync_token` (all of them for None), and the next
        token. Raises `CursorExpired` on 410."""
        query: dict[str, Any] = {"syncToken": sync_token} if sync_token else {}
        items: list[dict[str, Any]] = []
        cursor = ""  # the last page's nextSyncToken
        for page in self._raw_pages(query):
            items.extend(page.get("items", []))
            cursor = page.get("nextSyncToken", cursor)
        return items, cursor

    # --- reading -------------------------------------------------------------------

    def _pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for page in self._raw_pages(query):
            yield from page.get("items", [])

    def _raw_pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        events = self.calendar.events()
        token: str | None = None
        while True:
            page: dict[str, Any] = self._execute(
                events.list(
                    calendarId=self.calendar_id, maxResults=PAGE_SIZE, pageToken=token, **query
                )
            )
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    def _attended(self, item: dict[str, Any]) -> CalendarEvent:
        event = event_from_resource(item)
        if self.meet is None or event.conference_id is None:
            return event
        joined = self._outsiders_joined(self.meet, event, _my_side(item))
        return replace(event, external_joined=joined)

    def _outsiders_joined(
        self, meet: Any, event: CalendarEvent, mine: frozenset[str]
    ) -> bool | None:
        records = meet.conferenceRecords()
        code = event.conference_id
        query = (
            f'space.meeting_code = "{code}" AND start_time >= "{_rfc3339(event.start - _EARLY)}"'
            f' AND start_time <= "{_rfc3339(event.end)}"'
        )
        names = [r["name"] for page in self._meet_pages(records.list, filter=query)
                 for r in page.get("conferenceRecords", [])]  # fmt: skip
        if not names:
            return None
        participants = records.participants()
        return any(
            _outside(p, mine)
            for name in names
            for page in self._meet_pages(participants.list, parent=name)
            for p in page.get("participants", [])
        )

    def _meet_pages(self, method: Any, **query: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page: dict[str, Any] = self._execute(method(pageSize=100, pageToken=token, **query))
            yield page
            token = page.get("nextPageToken")
            if not token:
                return


# --- resources → model ----------------------------------------------------------------


def event_from_resource(item: dict[str, Any]) -> CalendarEvent:
    """An Event resource → `CalendarEvent` (uid as the ICS reader names instances)."""
    start = _when(item["start"])
    uid = item.get("iCalUID") or item["id"]
    if "recurringEventId" in item and "originalStartTime" in item:
        uid = f"{uid}/{_when(item['originalStartTime']).isoformat()}"
    organizer = item.get("organizer")
    return CalendarEvent(
        uid=uid,
        summary=item.get("summary", ""),
        start=start,
        end=max(_when(item.get("end", item["start"])), start),
        organizer=_address(organizer) if organizer else None,
        attendees=tuple(_attendee(a) for a in item.get("attendees", []) if a.get("email")),
        cancelled=item.get("status") == "cancelled",
        conference_id=item.get("conferenceData", {}).get("conferenceId"),
        my_status=_my_status(item),
        organized_by_me=bool(organizer.get("self")) if organizer else None,
    )


def _my_status(item: dict[str, Any]) -> PartStat | None:
    """The answer of the attendee marked `self` ("whether this entry represents the
    calendar on which this copy of the event appears", events resource); None when I am
    not among the attendees (an event of my own with no guests)."""
    me = next((a for a in item.get("attendees", []) if a.get("self")), None)
    return _attendee(me).status if me is not None and me.get("email") else None


def _when(value: dict[str, Any]) -> datetime:
    """`dateTime` (RFC 3339) in UTC, or an all-day `date` at midnight UTC (as ICS DATEs)."""
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(UTC)
    return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)


def _address(person: dict[str, Any]) -> Address:
    return Address(email=person["email"].lower(), name=person.get("displayName", ""))


def _attendee(person: dict[str, Any]) -> Attendee:
    return Attendee(
        address=_address(person),
        status=_PART_STAT.get(person.get("responseStatus", ""), PartStat.NEEDS_ACTION),
        is_resource=bool(person.get("resource")),
    )


def _my_side(item: dict[str, Any]) -> frozenset[str]:
    """Names (folded) the user's side goes by in Meet: same-domain people on the event."""
    people = [*item.get("attendees", []), *([item["organizer"]] if "organizer" in item else [])]
    me = next((p["email"] for p in people if p.get("self") and p.get("email")), None)
    if me is None:
        return frozenset()
    domain = me.lower().rpartition("@")[2]
    names: set[str] = set()
    for person in people:
        email = person.get("email", "").lower()
        if email.rpartition("@")[2] == domain:
            names.update({email.partition("@")[0], person.get("displayName", "")})
    return frozenset(name.casefold() for name in names if name)


def _outside(participant: dict[str, Any], mine: frozenset[str]) -> bool:
    user = participant.get("signedinUser")
    if user is None:
        return True  # anonymousUser / phoneUser: not a signed-in member of my side
    return str(user.get("displayName", "")).casefold() not in mine


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
