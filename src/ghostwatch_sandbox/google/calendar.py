"""Calendar API v3 `events.list` on one primary calendar, seeded from a `calendar.ics`.

Reference: https://developers.google.com/calendar/api/v3/reference/events/list and the
Event resource (https://developers.google.com/calendar/api/v3/reference/events).

* `timeMin` is an exclusive bound on an event's end, `timeMax` an exclusive bound on its
  start (both RFC 3339 with an offset).
* `orderBy=startTime` needs `singleEvents=true` (400 otherwise); seeded events are
  already single instances (the ICS reader expanded them), so `singleEvents` changes
  nothing else.
* Cancelled events are left out unless `showDeleted=true` (or in an incremental sync).
* `syncToken` ("Synchronize resources efficiently",
  https://developers.google.com/calendar/api/guides/sync) cannot be combined with
  timeMin/timeMax/q/orderBy/iCalUID/updatedMin (400); an expired token answers 410
  `fullSyncRequired`. `nextSyncToken` comes only on the last page.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ghostwatch.model.calendar import CalendarEvent, PartStat
from ghostwatch_sandbox.google.render import b64url, unb64url
from ghostwatch_sandbox.server import ApiError, Request, Response, bad_request, not_found

_DEFAULT_RESULTS = 250  # events.list: "By default the value is 250 events."
_MAX_RESULTS = 2500  # "The page size can never be larger than 2500 events."
_SYNC_EXCLUSIVE = ("timeMin", "timeMax", "q", "orderBy", "iCalUID", "updatedMin")
_RESPONSE_STATUS = {
    PartStat.ACCEPTED: "accepted",
    PartStat.TENTATIVE: "tentative",
    PartStat.DECLINED: "declined",
    PartStat.NEEDS_ACTION: "needsAction",
    PartStat.DELEGATED: "needsAction",  # Calendar has no "delegated" answer
}
_PATH = re.compile(r"^/calendar/v3/calendars/(?P<calendar>[^/]+)/events$")


@dataclass(frozen=True, slots=True)
class Stored:
    id: str
    event: CalendarEvent
    serial: int
    """The change serial of its last write (what sync tokens count)."""
    updated: datetime


def event_id(uid: str) -> str:
    """A valid event id: base32hex characters (a-v, 0-9), 5 to 1024 long (hex is a subset)."""
    return hashlib.sha256(uid.encode()).hexdigest()[:26]


def series_of(uid: str) -> tuple[str, datetime | None]:
    """The ICS reader names a recurring instance `{UID}/{original start ISO}`."""
    series, slash, original = uid.rpartition("/")
    if not slash:
        return uid, None
    try:
        when = datetime.fromisoformat(original)
    except ValueError:
        return uid, None
    return (series, when) if when.tzinfo is not None else (uid, None)


class CalendarStore:
    """The user's primary calendar: events by id, and a change serial for sync tokens."""

    def __init__(self, user: str, clock: Callable[[], float]) -> None:
        self.user = user
        self.clock = clock
        self.events: dict[str, Stored] = {}
        self.serial = 0
        self.epoch = 0
        """Sync tokens of an earlier epoch are expired (410)."""
        self._lock = threading.RLock()

    def put(self, event: CalendarEvent) -> str:
        """Add or replace an event (by uid); returns its id."""
        with self._lock:
            self.serial += 1
            key = event_id(event.uid)
            now = datetime.fromtimestamp(self.clock(), UTC)
            self.events[key] = Stored(key, event, self.serial, now)
            return key

    def seed(self, events: Iterable[CalendarEvent]) -> int:
        added = [self.put(event) for event in events]
        return len(added)

    def cancel(self, uid: str) -> None:
        """Cancel an event (as the organizer deleting it does): status becomes cancelled."""
        with self._lock:
            stored = self.events[event_id(uid)]
            self.put(replace(stored.event, cancelled=True))

    def expire_sync_tokens(self) -> None:
        """Every sync token handed out so far is now too old (the next use answers 410)."""
        with self._lock:
            self.epoch += 1

    def token(self) -> str:
        return b64url(f"s:{self.epoch}:{self.serial}".encode())

    def since(self, token: str) -> list[Stored]:
        """Events changed after the token's serial, or 410 when it is expired or unknown."""
        try:
            epoch, serial = map(int, unb64url(token).decode().removeprefix("s:").split(":"))
        except (ValueError, ApiError, UnicodeDecodeError):
            epoch, serial = -1, -1
        if epoch != self.epoch or not 0 <= serial <= self.serial:
            raise ApiError(410, "Sync token is no longer valid, a full sync is required.",
                           "fullSyncRequired")  # fmt: skip
        return [s for s in self.events.values() if s.serial > serial]


# --- events.list ----------------------------------------------------------------------


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    match = _PATH.match(path)
    if method != "GET" or match is None:
        return None
    return "calendar.events.list", {"calendar": match["calendar"]}


def events_list(store: CalendarStore, request: Request, calendar: str) -> Response:
    if calendar not in ("primary", store.user):
        raise not_found()
    with store._lock:
        found, serial_token = _select(store, request)
        chunk, next_page = _page(found, request)
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{store.serial}"',
            "summary": store.user,
            "updated": _time(datetime.fromtimestamp(store.clock(), UTC)),
            "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [],
            "items": [resource(s, store.user) for s in chunk],
        }
        if next_page:
            result["nextPageToken"] = next_page
        else:
            result["nextSyncToken"] = serial_token
    return Response.json(200, result)


def _select(store: CalendarStore, request: Request) -> tuple[list[Stored], str]:
    sync = request.param("syncToken")
    if sync is not None:
        clash = [name for name in _SYNC_EXCLUSIVE if request.param(name) is not None]
        if clash:
            raise bad_request(f"Sync token cannot be combined with {clash[0]}.", "invalid")
        found = store.since(sync)
    else:
        found = _in_window(store, request)
    if request.param("orderBy") == "startTime":
        if not request.flag("singleEvents"):
            raise bad_request("The requested ordering is not available for the particular query.",
                              "badRequest")  # fmt: skip
        found.sort(key=lambda s: (s.event.start, s.id))
    elif request.param("orderBy") not in (None, "updated"):
        raise bad_request(f"Invalid value for orderBy: {request.param('orderBy')}", "invalid")
    else:
        found.sort(key=lambda s: (s.serial, s.id))
    return found, store.token()


def _in_window(store: CalendarStore, request: Request) -> list[Stored]:
    low, high = _bound(request, "timeMin"), _bound(request, "timeMax")
    deleted = request.flag("showDeleted")
    return [
        s
        for s in store.events.values()
        if (deleted or not s.event.cancelled)
        and (low is None or s.event.end > low)
        and (high is None or s.event.start < high)
    ]


def _bound(request: Request, name: str) -> datetime | None:
    text = request.param(name)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Bad Request: {name} is not an RFC 3339 time", "badRequest") from None
    if value.tzinfo is None:  # "Must be an RFC3339 timestamp with mandatory time zone offset"
        raise bad_request(f"Bad Request: {name} needs a time zone offset", "badRequest")
    return value


def _page(found: list[Stored], request: Request) -> tuple[list[Stored], str | None]:
    try:
        size = int(request.param("maxResults") or _DEFAULT_RESULTS)
        token = request.param("pageToken")
        start = int(unb64url(token).decode().removeprefix("p:")) if token else 0
    except (ValueError, ApiError, UnicodeDecodeError):
        raise bad_request("Invalid pageToken or maxResults", "invalid") from None
    end = start + max(1, min(size, _MAX_RESULTS))
    return found[start:end], (b64url(f"p:{end}".encode()) if end < len(found) else None)


# --- The Event resource -----------------------------------------------------------------


def _time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resource(stored: Stored, user: str) -> dict[str, Any]:
    event = stored.event
    series, original = series_of(event.uid)
    body: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{stored.serial}"',
        "id": stored.id,
        "status": "cancelled" if event.cancelled else "confirmed",
        "created": _time(stored.updated),
        "updated": _time(stored.updated),
        "summary": event.summary,
        "start": {"dateTime": _time(event.start), "timeZone": "UTC"},
        "end": {"dateTime": _time(event.end), "timeZone": "UTC"},
        "iCalUID": series,
        "sequence": 0,
        "eventType": "default",
    }
    if original is not None:
        body["id"] = f"{event_id(series)}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        body["recurringEventId"] = event_id(series)
        body["originalStartTime"] = {"dateTime": _time(original), "timeZone": "UTC"}
    if event.organizer is not None:
        body["organizer"] = _person(event.organizer.email, event.organizer.name, user)
    if event.attendees:
        body["attendees"] = [_attendee(a, event, user) for a in event.attendees]
    if event.conference_id:
        body["conferenceData"] = conference(event.conference_id)
    return body


def _person(email: str, name: str, user: str) -> dict[str, Any]:
    person: dict[str, Any] = {"email": email}
    if name:
        person["displayName"] = name
    if email == user:
        person["self"] = True
    return person


def _attendee(attendee: Any, event: CalendarEvent, user: str) -> dict[str, Any]:
    body = _person(attendee.address.email, attendee.address.name, user)
    body["responseStatus"] = _RESPONSE_STATUS[attendee.status]
    if attendee.is_resource:
        body["resource"] = True
    if event.organizer is not None and event.organizer.email == attendee.address.email:
        body["organizer"] = True
    return body


def conference(code: str) -> dict[str, Any]:
    """Event.conferenceData for a Google Meet meeting (conferenceId is the meeting code)."""
    return {
        "conferenceId": code,
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "entryPoints": [
            {"entryPointType": "video", "uri": f"https://meet.google.com/{code}", "label": code}
        ],
    }
