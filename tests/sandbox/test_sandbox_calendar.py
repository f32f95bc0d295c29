"""Calendar v3 and Meet v2 in the sandbox, driven by the real client over HTTP, and the
`GoogleCalendar` provider reading them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import googleapiclient
import pytest
from googleapiclient.errors import HttpError

from ghostwatch.errors import CursorExpired
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.mail import Address
from ghostwatch.providers.google.calendar import (
    CalendarError,
    GoogleCalendar,
    calendar_service,
    meet_service,
)
from ghostwatch.providers.retry import NO_RETRY
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.calendar_seed import meeting_code
from tests.support.builder import ME, Mailbox, scan

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache/documents"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def vevent(uid: str, start: str, *lines: str, minutes: int = 30) -> str:
    begin = datetime.fromisoformat(start).replace(tzinfo=UTC)
    stamp = "%Y%m%dT%H%M%SZ"
    return "\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"SUMMARY:{uid}",
            f"DTSTART:{begin:{stamp}}",
            f"DTEND:{begin + timedelta(minutes=minutes):{stamp}}",
            'ORGANIZER;CN="Alex Morgan":mailto:alex@ghostwatch.example',
            'ATTENDEE;CN="Alex Morgan";PARTSTAT=ACCEPTED:mailto:alex@ghostwatch.example',
            *lines,
            "END:VEVENT",
        ]
    )


KATHY_OK = 'ATTENDEE;CN="Kathy Lopez";PARTSTAT=ACCEPTED:mailto:kathy@contoso.example'
CALENDAR = "\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ghostwatch tests//EN",
        vevent("held", "2026-11-16 10:00", KATHY_OK,
               "X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij",
               "X-GHOSTWATCH-EXTERNAL-JOINED:TRUE"),
        vevent("no-show", "2026-11-17 10:00", KATHY_OK,
               "DESCRIPTION:https://meet.google.com/xyz-abcd-efg",
               "X-GHOSTWATCH-EXTERNAL-JOINED:FALSE"),
        vevent("no-record", "2026-11-18 10:00", KATHY_OK,
               "LOCATION:https://meet.google.com/qrs-tuvw-xyz"),
        vevent("flag-only", "2026-11-18 12:00", KATHY_OK, "X-GHOSTWATCH-EXTERNAL-JOINED:FALSE"),
        vevent("room", "2026-11-19 09:00",
               "ATTENDEE;CUTYPE=ROOM;CN=Board:mailto:board@resource.example",
               'ATTENDEE;CN="Raj";PARTSTAT=TENTATIVE:mailto:raj@tailspin.example',
               "ATTENDEE;PARTSTAT=DECLINED:mailto:lee@fabrikam.example"),
        vevent("called-off", "2026-11-19 11:00", KATHY_OK, "STATUS:CANCELLED"),
        vevent("weekly", "2026-11-02 08:00", KATHY_OK, "RRULE:FREQ=WEEKLY;COUNT=6"),
        vevent("next-year", "2027-06-01 09:00", KATHY_OK),
        "END:VCALENDAR",
        "",
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("calendar")
    Mailbox(root).calendar(CALENDAR)
    return root


@pytest.fixture
def sandbox(seed_dir: Path) -> Iterator[GmailSandbox]:
    with GmailSandbox.serve(seed=seed_dir, user=ME) as running:
        yield running


@pytest.fixture
def cal(sandbox: GmailSandbox) -> Any:
    return calendar_service(f"{sandbox.url}/calendar/v3/", sandbox.credentials())


@pytest.fixture
def meet(sandbox: GmailSandbox) -> Any:
    return meet_service(sandbox.url, sandbox.credentials())


@pytest.fixture
def reader(cal: Any, meet: Any) -> GoogleCalendar:
    return GoogleCalendar(cal, meet)


def listed(cal: Any, **query: Any) -> dict[str, Any]:
    answer: dict[str, Any] = cal.events().list(calendarId="primary", **query).execute()
    return answer


def summaries(answer: dict[str, Any]) -> list[str]:
    return [item["summary"] for item in answer.get("items", [])]


# --- events.list ----------------------------------------------------------------------


def test_time_window_and_start_order(cal: Any) -> None:
    answer = listed(cal, timeMin="2026-11-16T10:15:00Z", timeMax="2026-11-18T11:00:00+01:00",
                    singleEvents=True, orderBy="startTime")  # fmt: skip
    # timeMin bounds the end (the 10:00-10:30 "held" overlaps), timeMax the start.
    assert summaries(answer) == ["held", "no-show"]  # no-record starts at timeMax: out
    assert "nextSyncToken" in answer
    assert "nextPageToken" not in answer


def test_cancelled_events_only_when_asked(cal: Any) -> None:
    window = {"timeMin": "2026-11-19T00:00:00Z", "timeMax": "2026-11-20T00:00:00Z"}
    assert summaries(listed(cal, **window)) == ["room"]
    shown = listed(cal, showDeleted=True, singleEvents=True, orderBy="startTime", **window)
    assert [i["status"] for i in shown["items"]] == ["confirmed", "cancelled"]


def test_attendees_and_conference(cal: Any) -> None:
    items = {i["summary"]: i for i in listed(cal)["items"]}
    room = items["room"]
    assert room["organizer"] == {"email": ME, "displayName": "Alex Morgan", "self": True}
    statuses = {a["email"]: (a["responseStatus"], a.get("resource", False), a.get("self", False))
                for a in room["attendees"]}  # fmt: skip
    assert statuses == {
        ME: ("accepted", False, True),
        "board@resource.example": ("needsAction", True, False),
        "raj@tailspin.example": ("tentative", False, False),
        "lee@fabrikam.example": ("declined", False, False),
    }
    assert items["held"]["conferenceData"]["conferenceId"] == "abc-defg-hij"
    assert items["flag-only"]["conferenceData"]["conferenceId"] == meeting_code("flag-only")
    assert "conferenceData" not in items["next-year"]


def test_recurring_instances(cal: Any) -> None:
    weekly = [i for i in listed(cal, singleEvents=True)["items"] if i["summary"] == "weekly"]
    assert len(weekly) == 6
    assert {i["iCalUID"] for i in weekly} == {"weekly"}
    assert len({i["recurringEventId"] for i in weekly}) == 1
    assert weekly[0]["id"] == f"{weekly[0]['recurringEventId']}_20261102T080000Z"


def test_paging_hands_out_the_sync_token_on_the_last_page(cal: Any) -> None:
    seen, token, pages = [], None, []
    while True:
        page = listed(cal, maxResults=4, pageToken=token, singleEvents=True, orderBy="startTime")
        pages.append(page)
        seen += [i["id"] for i in page["items"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(pages) == 3
    assert len(seen) == len(set(seen)) == 12  # 7 events and 6 instances, less the cancelled
    assert all("nextSyncToken" not in p for p in pages[:-1])
    assert "nextSyncToken" in pages[-1]
    with pytest.raises(HttpError) as bad:
        listed(cal, pageToken="garbage!")
    assert bad.value.resp.status == 400


def test_sync_token_gives_only_changes(sandbox: GmailSandbox, cal: Any) -> None:
    token = listed(cal)["nextSyncToken"]
    assert listed(cal, syncToken=token).get("items", []) == []
    sandbox.calendar.cancel("held")
    event = CalendarEvent("new", "New", NOW, NOW + timedelta(hours=1), organizer=Address(ME))
    sandbox.calendar.put(event)
    changed = listed(cal, syncToken=token)
    assert {(i["summary"], i["status"]) for i in changed["items"]} == {
        ("held", "cancelled"), ("New", "confirmed"),
    }  # fmt: skip
    assert listed(cal, syncToken=changed["nextSyncToken"]).get("items", []) == []


@pytest.mark.parametrize("clash", ["timeMin", "timeMax", "orderBy", "q", "iCalUID"])
def test_sync_token_refuses_filters(cal: Any, clash: str) -> None:
    token = listed(cal)["nextSyncToken"]
    value = {"orderBy": "startTime", "timeMin": "2026-01-01T00:00:00Z",
             "timeMax": "2026-01-01T00:00:00Z"}.get(clash, "x")  # fmt: skip
    with pytest.raises(HttpError) as refused:
        listed(cal, syncToken=token, singleEvents=True, **{clash: value})
    assert refused.value.resp.status == 400


def test_expired_sync_token_is_410(sandbox: GmailSandbox, cal: Any, reader: GoogleCalendar) -> None:
    token = listed(cal)["nextSyncToken"]
    sandbox.calendar.expire_sync_tokens()
    with pytest.raises(HttpError) as gone:
        listed(cal, syncToken=token)
    assert gone.value.resp.status == 410
    assert json.loads(gone.value.content)["error"]["errors"][0]["reason"] == "fullSyncRequired"
    with pytest.raises(CursorExpired):
        reader.changes(token)
    items, fresh = reader.changes(None)  # the full sync again
    assert len(items) == 12
    assert reader.changes(fresh) == ([], fresh)


def test_request_errors(cal: Any, sandbox: GmailSandbox) -> None:
    cases = [
        ({"orderBy": "startTime"}, 400),  # needs singleEvents=true
        ({"timeMin": "2026-11-16T10:00:00"}, 400),  # no offset
        ({"calendarId": "someone@else.example"}, 404),
    ]
    for query, status in cases:
        query.setdefault("calendarId", "primary")
        with pytest.raises(HttpError) as refused:
            cal.events().list(**query).execute()
        assert refused.value.resp.status == status, query
    sandbox.faults.add("503", method="calendar.events.list")
    with pytest.raises(HttpError):
        listed(cal)
    sandbox.revoke()
    sandbox.expire_tokens()
    with pytest.raises(Exception, match="invalid_grant"):
        listed(cal)


# --- Meet -----------------------------------------------------------------------------


def participants(meet: Any, code: str) -> list[dict[str, Any]]:
    query = f'space.meeting_code = "{code}"'
    records = meet.conferenceRecords().list(filter=query).execute()["conferenceRecords"]
    found: list[dict[str, Any]] = []
    for record in records:
        page = meet.conferenceRecords().participants().list(parent=record["name"]).execute()
        found += page["participants"]
    return found


def test_meet_records_by_meeting_code(meet: Any, sandbox: GmailSandbox) -> None:
    joined = participants(meet, "abc-defg-hij")
    assert [p["signedinUser"]["displayName"] for p in joined] == ["Alex Morgan", "Kathy Lopez"]
    assert all(p["signedinUser"]["user"].startswith("users/") for p in joined)
    assert "@" not in json.dumps(joined)  # Meet never tells email addresses
    assert len(participants(meet, "xyz-abcd-efg")) == 1
    assert meet.conferenceRecords().list(
        filter='space.meeting_code = "qrs-tuvw-xyz"'
    ).execute() == {"conferenceRecords": []}
    sandbox.set_attendance("qrs-tuvw-xyz", joined_by_outsiders=True)
    assert ["anonymousUser" in p for p in participants(meet, "qrs-tuvw-xyz")] == [False, True]
    window = 'space.meeting_code = "abc-defg-hij" AND start_time >= "2026-11-17T00:00:00Z"'
    assert meet.conferenceRecords().list(filter=window).execute() == {"conferenceRecords": []}
    with pytest.raises(HttpError) as bad:
        meet.conferenceRecords().list(filter="space.meeting_code ~ abc").execute()
    assert bad.value.resp.status == 400


# --- The provider ---------------------------------------------------------------------


def test_provider_reads_events_and_attendance(
    reader: GoogleCalendar, sandbox: GmailSandbox
) -> None:
    events = {e.uid: e for e in reader.events(NOW - timedelta(days=14), NOW + timedelta(days=14))}
    assert events["held"].external_joined is True
    assert events["no-show"].external_joined is False
    assert events["flag-only"].external_joined is False
    assert events["no-record"].external_joined is None
    assert events["called-off"].cancelled
    assert "next-year" in events  # a year past the window: later meetings count
    assert events["weekly/2026-11-09T08:00:00+00:00"].start == datetime(2026, 11, 9, 8, tzinfo=UTC)
    room = {a.address.email: a for a in events["room"].attendees}
    assert room["board@resource.example"].is_resource
    assert room["raj@tailspin.example"] == Attendee(
        Address("raj@tailspin.example", "Raj"), PartStat.TENTATIVE
    )
    sandbox.set_attendance("qrs-tuvw-xyz", joined_by_outsiders=True)
    again = {e.uid: e for e in reader.events(NOW - timedelta(days=14), NOW)}
    assert again["no-record"].external_joined is True
    without_meet = GoogleCalendar(reader.calendar)
    plain = {e.uid: e for e in without_meet.events(NOW - timedelta(days=14), NOW)}
    assert plain["held"] == replace(events["held"], external_joined=None)


def test_provider_errors_are_calendar_errors(reader: GoogleCalendar, sandbox: GmailSandbox) -> None:
    sandbox.faults.add("500", count=5, method="meet.conferenceRecords.list")
    impatient = GoogleCalendar(reader.calendar, reader.meet, retry=NO_RETRY)
    with pytest.raises(CalendarError, match="500"):
        impatient.events(NOW - timedelta(days=14), NOW)


# --- Schemas --------------------------------------------------------------------------


def conform(document: dict[str, Any], value: Any, schema: dict[str, Any], where: str) -> None:
    """Every key must be in the schema's properties (following $ref) with its JSON type."""
    if "$ref" in schema:
        schema = document["schemas"][schema["$ref"]]
    kind = schema.get("type", "object")
    types = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}
    assert isinstance(value, types[kind]), f"{where}: {value!r} is not {kind}"
    value = cast(Any, value)  # checked just above against the schema's type
    if kind == "array":
        for i, item in enumerate(value):
            conform(document, item, schema["items"], f"{where}[{i}]")
    if kind == "object" and "properties" in schema:
        for key, item in value.items():
            assert key in schema["properties"], f"{where}: {key!r} not in {schema.get('id')}"
            conform(document, item, schema["properties"][key], f"{where}.{key}")
    elif kind == "object" and "additionalProperties" in schema:
        for key, item in value.items():
            conform(document, item, schema["additionalProperties"], f"{where}.{key}")


def test_answers_match_the_discovery_documents(cal: Any, meet: Any) -> None:
    calendar_doc = json.loads((DOCUMENTS / "calendar.v3.json").read_text())
    meet_doc = json.loads((DOCUMENTS / "meet.v2.json").read_text())
    for answer in (listed(cal, showDeleted=True), listed(cal, maxResults=2)):
        conform(calendar_doc, answer, {"$ref": "Events"}, "events.list")
    records = meet.conferenceRecords().list(filter='space.meeting_code = "abc-defg-hij"')
    listing = records.execute()
    conform(meet_doc, listing, {"$ref": "ListConferenceRecordsResponse"}, "records")
    name = listing["conferenceRecords"][0]["name"]
    record = meet.conferenceRecords().get(name=name).execute()
    conform(meet_doc, record, {"$ref": "ConferenceRecord"}, "record")
    people = meet.conferenceRecords().participants().list(parent=name).execute()
    conform(meet_doc, people, {"$ref": "ListParticipantsResponse"}, "participants")
    with pytest.raises(AssertionError, match="'attendee' not in Event"):
        conform(calendar_doc, {"attendee": []}, {"$ref": "Event"}, "drift")


# --- End to end -----------------------------------------------------------------------


def test_scan_through_gmail_agrees_on_meet_attendance(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.calendar(CALENDAR)
    result = scan(box, "2026-11-20 15:00")  # compares meetings through the sandbox too
    states = {m["uid"]: m["state"] for m in result["meetings"]}
    assert states["held"] == "held"
    assert states["no-show"] == "rescheduled"  # nobody joined; later meetings with Kathy
    [no_show] = [m for m in result["meetings"] if m["uid"] == "no-show"]
    assert any("join" in reason for reason in no_show["reasons"]), no_show["reasons"]
