"""Google Meet REST API v2: conference records and their participants.

References: `conferenceRecords.list`
(https://developers.google.com/meet/api/reference/rest/v2/conferenceRecords/list) —
`filter` over `space.meeting_code`, `space.name`, `start_time`, `end_time` joined by
AND; `conferenceRecords.get`; `conferenceRecords.participants.list`
(https://developers.google.com/meet/api/reference/rest/v2/conferenceRecords.participants/list)
— a participant is a `signedinUser` (`users/{id}`, displayName), an `anonymousUser` or
a `phoneUser` (displayName only): never an email address.

Which participants are "outside" the user's side is what the seed (the ICS property
`X-GHOSTWATCH-EXTERNAL-JOINED`) or a test (`MeetStore.set_attendance`) says: a record
with an outside participant, or with only the user.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ghostwatch_sandbox.google.render import b64url, unb64url
from ghostwatch_sandbox.server import ApiError, Request, Response, bad_request, not_found

_DEFAULT_PAGE = 25  # conferenceRecords.list: "Default page size is 25"
_MAX_PAGE = 100
_RECORD = re.compile(r"^/v2/conferenceRecords/(?P<record>[^/]+)$")
_PARTICIPANTS = re.compile(r"^/v2/conferenceRecords/(?P<record>[^/]+)/participants$")
_TERM = re.compile(r'^\s*(?P<field>[a-z_.]+)\s*(?P<op>>=|<=|=|>|<)\s*"(?P<value>[^"]*)"\s*$')
_FIELDS = ("space.meeting_code", "space.name", "start_time", "end_time")
RECORD_LIFETIME = timedelta(days=30)  # "conference records are deleted 30 days after"


@dataclass(frozen=True, slots=True)
class Person:
    """One participant: `kind` is signedinUser, anonymousUser or phoneUser."""

    display_name: str
    kind: str = "signedinUser"
    user_id: str = ""


@dataclass(slots=True)
class Record:
    id: str
    meeting_code: str
    start: datetime
    end: datetime
    participants: list[Person] = field(default_factory=list)

    @property
    def space(self) -> str:
        return f"spaces/{_digest('space', self.meeting_code)}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


def signed_in(name: str, email: str) -> Person:
    """A signed-in participant; the user id is opaque (derived from the email)."""
    return Person(name or email.partition("@")[0], "signedinUser", _digest("user", email)[:12])


class MeetStore:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.records: dict[str, Record] = {}
        self._lock = threading.RLock()

    def record(
        self, meeting_code: str, start: datetime, end: datetime, people: list[Person]
    ) -> Record:
        """Add a conference record for one meeting of `meeting_code`."""
        with self._lock:
            key = _digest("record", meeting_code, start.isoformat())
            found = Record(key, meeting_code, start, end, list(people))
            self.records[key] = found
            return found

    def set_attendance(
        self, meeting_code: str, user: Person, outsider: Person | None, when: datetime
    ) -> None:
        """Replace the records of `meeting_code` by one: the user, and `outsider` if given."""
        with self._lock:
            for key in [k for k, r in self.records.items() if r.meeting_code == meeting_code]:
                del self.records[key]
            people = [user] if outsider is None else [user, outsider]
            self.record(meeting_code, when, when + timedelta(minutes=30), people)

    def find(self, key: str) -> Record:
        record = self.records.get(key)
        if record is None:
            raise not_found()
        return record


# --- Routes ---------------------------------------------------------------------------


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    if method != "GET":
        return None
    if path == "/v2/conferenceRecords":
        return "meet.conferenceRecords.list", {}
    if match := _PARTICIPANTS.match(path):
        return "meet.conferenceRecords.participants.list", {"record": match["record"]}
    if match := _RECORD.match(path):
        return "meet.conferenceRecords.get", {"record": match["record"]}
    return None


def handle(store: MeetStore, name: str, request: Request, args: dict[str, str]) -> Response:
    with store._lock:
        if name == "meet.conferenceRecords.list":
            keep = _filter(request.param("filter") or "")
            found = sorted((r for r in store.records.values() if keep(r)), key=_newest_first)
            chunk, token = _page(found, request)
            return _listed("conferenceRecords", [_record(r) for r in chunk], token)
        record = store.find(args["record"])
        if name == "meet.conferenceRecords.get":
            return Response.json(200, _record(record))
        chunk, token = _page(record.participants, request)
        items = [_participant(record, p) for p in chunk]
        return _listed("participants", items, token, total=len(record.participants))


def _newest_first(record: Record) -> tuple[float, str]:
    # "sorted by start time in descending order" (conferenceRecords.list)
    return (-record.start.timestamp(), record.id)


def _filter(text: str) -> Callable[[Record], bool]:
    """A conjunction of `field op "value"` terms (the EBNF the reference gives)."""
    terms = []
    for part in re.split(r"\s+AND\s+", text.strip()) if text.strip() else []:
        match = _TERM.match(part)
        if match is None or match["field"] not in _FIELDS:
            raise bad_request(f"Invalid filter: {text}", "badRequest")
        terms.append((match["field"], match["op"], match["value"]))
    return lambda record: all(_holds(record, *term) for term in terms)


def _holds(record: Record, name: str, op: str, value: str) -> bool:
    if name == "space.meeting_code":
        return op == "=" and record.meeting_code == value.lower()
    if name == "space.name":
        return op == "=" and record.space == value
    try:
        bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid timestamp in filter: {value}", "badRequest") from None
    actual = record.start if name == "start_time" else record.end
    return {"=": actual == bound, ">=": actual >= bound, "<=": actual <= bound,
            ">": actual > bound, "<": actual < bound}[op]  # fmt: skip


def _page(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
    try:
        size = int(request.param("pageSize") or _DEFAULT_PAGE)
        token = request.param("pageToken")
        start = int(unb64url(token).decode().removeprefix("m:")) if token else 0
    except (ValueError, ApiError, UnicodeDecodeError):
        raise bad_request("Invalid pageToken or pageSize", "badRequest") from None
    end = start + max(1, min(size, _MAX_PAGE))
    return items[start:end], (b64url(f"m:{end}".encode()) if end < len(items) else None)


def _listed(key: str, items: list[Any], token: str | None, total: int | None = None) -> Response:
    result: dict[str, Any] = {key: items}
    if token:
        result["nextPageToken"] = token
    if total is not None:
        result["totalSize"] = total
    return Response.json(200, result)


def _time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _record(record: Record) -> dict[str, Any]:
    return {
        "name": f"conferenceRecords/{record.id}",
        "startTime": _time(record.start),
        "endTime": _time(record.end),
        "expireTime": _time(record.end + RECORD_LIFETIME),
        "space": record.space,
    }


def _participant(record: Record, person: Person) -> dict[str, Any]:
    index = record.participants.index(person)
    body: dict[str, Any] = {
        "name": f"conferenceRecords/{record.id}/participants/{index + 1}",
        "earliestStartTime": _time(record.start),
        "latestEndTime": _time(record.end),
    }
    if person.kind == "signedinUser":
        body["signedinUser"] = {
            "user": f"users/{person.user_id}",
            "displayName": person.display_name,
        }
    else:
        body[person.kind] = {"displayName": person.display_name}
    return body
