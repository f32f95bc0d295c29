"""providers/ics: small iCalendar texts → CalendarEvent values."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from ghostwatch.mail.ics import MAX_INSTANCES, read_calendar
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.mail import Address

WINDOW_START = datetime(2026, 11, 6, tzinfo=UTC)
WINDOW_END = datetime(2026, 12, 4, tzinfo=UTC)


def calendar(*events: str, header: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{header}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def read(data: bytes) -> tuple[CalendarEvent, ...]:
    return read_calendar(data, WINDOW_START, WINDOW_END)


def read_one(*events: str, header: str = "") -> CalendarEvent:
    result = read(calendar(*events, header=header))
    assert len(result) == 1, result
    return result[0]


DEMO = """
UID:demo-1@contoso.example
SUMMARY:Demo
DTSTART:20261118T150000Z
DTEND:20261118T153000Z
ORGANIZER;CN=Me:mailto:me@contoso.example
ATTENDEE;CN=Lee Chen;PARTSTAT=DECLINED:MAILTO:Lee@Fabrikam.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@contoso.example
"""


def test_a_single_event_is_read() -> None:
    event = read_one(DEMO)
    assert event.uid == "demo-1@contoso.example"
    assert event.summary == "Demo"
    assert event.start == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    assert event.end == datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
    assert event.organizer == Address("me@contoso.example", "Me")
    assert event.attendees == (
        Attendee(Address("lee@fabrikam.example", "Lee Chen"), PartStat.DECLINED),
        Attendee(Address("me@contoso.example"), PartStat.ACCEPTED),
    )
    assert not event.cancelled
    assert event.external_joined is None
    assert event.conference_id is None


def test_time_zones_become_utc() -> None:
    event = read_one("""
UID:tz
DTSTART;TZID=Europe/Berlin:20261118T100000
DURATION:PT45M
""")
    assert event.start == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert event.end == datetime(2026, 11, 18, 9, 45, tzinfo=UTC)


def test_all_day_events_start_at_midnight_utc_and_last_a_day() -> None:
    event = read_one("UID:allday\nDTSTART;VALUE=DATE:20261119\nSUMMARY:Offsite")
    assert event.start == datetime(2026, 11, 19, tzinfo=UTC)
    assert event.end == datetime(2026, 11, 20, tzinfo=UTC)


def test_floating_times_are_utc_unless_the_calendar_names_a_zone() -> None:
    floating = "UID:f\nDTSTART:20261118T100000\nDTEND:20261118T110000"
    assert read_one(floating).start == datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    in_new_york = read_one(floating, header="X-WR-TIMEZONE:America/New_York\n")
    assert in_new_york.start == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Mars/Olympus", ""])
def test_a_bad_calendar_zone_falls_back_to_utc_for_floating_times(zone: str) -> None:
    event = read_one("UID:f\nDTSTART:20261118T100000", header=f"X-WR-TIMEZONE:{zone}\n")
    assert event.start == datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


WEEKLY = """
UID:weekly@fabrikam.example
SUMMARY:Weekly sync
DTSTART;TZID=Europe/Berlin:20261102T100000
DTEND;TZID=Europe/Berlin:20261102T110000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Berlin:20261116T100000
ORGANIZER:mailto:lee@fabrikam.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@contoso.example
"""
MOVED = """
UID:weekly@fabrikam.example
RECURRENCE-ID;TZID=Europe/Berlin:20261123T100000
SUMMARY:Weekly sync (moved)
DTSTART;TZID=Europe/Berlin:20261124T140000
DTEND;TZID=Europe/Berlin:20261124T150000
ORGANIZER:mailto:lee@fabrikam.example
ATTENDEE;PARTSTAT=DECLINED:mailto:me@contoso.example
"""


def test_recurring_events_are_expanded_with_exdates_and_overrides() -> None:
    events = read(calendar(WEEKLY, MOVED))
    # Nov 2 ends before the window; Nov 16 is excluded; Nov 23 moved to Nov 24.
    assert [e.start for e in events] == [
        datetime(2026, 11, 9, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC),  # after the window: a later meeting
    ]
    moved = events[1]
    assert moved.uid == "weekly@fabrikam.example/2026-11-23T09:00:00+00:00"
    assert moved.summary == "Weekly sync (moved)"
    assert moved.attendees[0].status is PartStat.DECLINED
    assert len({e.uid for e in events}) == len(events)


def test_events_up_to_a_year_after_the_window_are_included() -> None:
    soon = "UID:soon\nDTSTART:20270301T100000Z"
    too_late = "UID:late\nDTSTART:20280301T100000Z"
    before = "UID:before\nDTSTART:20261001T100000Z"
    assert [e.uid for e in read(calendar(soon, too_late, before))] == ["soon"]


def test_a_cancelled_event_is_marked() -> None:
    assert read_one(DEMO + "STATUS:CANCELLED").cancelled


def test_rooms_and_resources_are_marked() -> None:
    event = read_one(DEMO + "ATTENDEE;CUTYPE=ROOM;CN=Room 7:mailto:room7@contoso.example\n")
    assert [a.is_resource for a in event.attendees] == [False, False, True]


def test_a_missing_or_unknown_partstat_means_needs_action() -> None:
    event = read_one("""
UID:x
DTSTART:20261118T150000Z
ATTENDEE:mailto:lee@fabrikam.example
ATTENDEE;PARTSTAT=X-MAYBE:mailto:kim@tailspin.example
ATTENDEE;PARTSTAT=tentative:mailto:raj@tailspin.example
ATTENDEE;PARTSTAT=DELEGATED:mailto:ann@tailspin.example
""")
    assert [a.status for a in event.attendees] == [
        PartStat.NEEDS_ACTION,
        PartStat.NEEDS_ACTION,
        PartStat.TENTATIVE,
        PartStat.DELEGATED,
    ]


def test_an_external_organizer_is_read_with_its_name() -> None:
    event = read_one(
        'UID:x\nDTSTART:20261118T150000Z\nORGANIZER;CN="Chen, Lee":mailto:LEE@F.example'
    )
    assert event.organizer == Address("lee@f.example", "Chen, Lee")


def test_calendar_addresses_that_are_not_mail_are_dropped() -> None:
    event = read_one("""
UID:x
DTSTART:20261118T150000Z
ATTENDEE:urn:uuid:1234
ATTENDEE;EMAIL=kim@tailspin.example:urn:uuid:5678
""")
    assert [a.address.email for a in event.attendees] == ["kim@tailspin.example"]


def test_a_google_meet_code_is_found() -> None:
    conference = "X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij\n"
    assert read_one(DEMO + conference).conference_id == "abc-defg-hij"
    described = "DESCRIPTION:Join: https://meet.google.com/xyz-abcd-efg?hs=1\n"
    assert read_one(DEMO + described).conference_id == "xyz-abcd-efg"


def test_an_attendance_hint_is_read() -> None:
    assert read_one(DEMO + "X-GHOSTWATCH-EXTERNAL-JOINED:FALSE").external_joined is False
    assert read_one(DEMO + "X-GHOSTWATCH-EXTERNAL-JOINED:true").external_joined is True
    assert read_one(DEMO + "X-GHOSTWATCH-EXTERNAL-JOINED:maybe").external_joined is None


def test_a_malformed_event_is_skipped_and_the_rest_kept() -> None:
    no_start = "UID:nostart\nSUMMARY:No start"
    bad_start = "UID:badstart\nDTSTART:tomorrow-ish"
    bad_rule = "UID:badrule\nDTSTART:20261118T150000Z\nRRULE:FREQ=SOMETIMES"
    with capture_logs() as logs:
        events = read(calendar(no_start, bad_start, bad_rule, DEMO))
    assert [e.uid for e in events] == ["demo-1@contoso.example"]
    skipped = {entry["uid"]: entry["reason"] for entry in logs if entry["log_level"] == "warning"}
    assert set(skipped) == {"nostart", "badstart", "badrule"}
    assert skipped["nostart"] == "no DTSTART"


def test_a_bad_line_inside_an_event_costs_only_that_line() -> None:
    event = read_one(DEMO + "this line is not iCalendar\n")
    assert event.summary == "Demo"


def test_an_event_without_uid_gets_a_stable_one() -> None:
    no_uid = "DTSTART:20261118T150000Z\nSUMMARY:Call"
    first, second = read_one(no_uid), read_one(no_uid)
    assert first.uid.startswith("no-uid-")
    assert first.uid == second.uid


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage\r\n", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", b"\x00\x01\x02"],
)
def test_a_file_that_is_not_icalendar_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not an iCalendar file"):
        read(data)


def test_invalid_utf8_does_not_crash_and_keeps_names() -> None:
    data = calendar(DEMO.replace("CN=Lee Chen", "CN=Ren\xe9e"))
    latin1 = data.replace("Ren\xe9e".encode(), b"Ren\xe9e")
    event = read(latin1)[0]
    assert event.attendees[0].address.name == "Renée"


def test_utf8_with_byte_order_mark_is_read() -> None:
    assert len(read(b"\xef\xbb\xbf" + calendar(DEMO))) == 1


def test_events_are_sorted_by_start() -> None:
    late = "UID:late\nDTSTART:20261120T100000Z"
    early = "UID:early\nDTSTART:20261110T100000Z"
    events = read(calendar(late, early))
    assert [e.uid for e in events] == ["early", "late"]
    assert all(e.start.tzinfo is UTC and e.end - e.start == timedelta(0) for e in events)


def test_floating_times_do_not_depend_on_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        event = read_one("UID:f\nDTSTART:20261118T100000")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert event.start == datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


_MUTATION = st.tuples(
    st.integers(0, 10_000),
    st.sampled_from([b"", b":", b";", b"\r\n", b"\r\n ", b"=", b'"', b"\xff", b"Z", b"-"]),
    st.integers(0, 20),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_MUTATION, min_size=1, max_size=6))
def test_a_damaged_file_gives_events_or_a_value_error_never_a_crash(
    mutations: list[tuple[int, bytes, int]],
) -> None:
    data = bytearray(calendar(DEMO, WEEKLY, MOVED))
    for position, insert, cut in mutations:
        at = position % len(data)
        data[at : at + cut] = insert
    try:
        events = read(bytes(data))
    except ValueError:
        return
    assert all(e.start.tzinfo is UTC and e.end >= e.start for e in events)


def test_a_rule_repeating_every_minute_is_cut_not_expanded_for_minutes() -> None:
    """A stranger's FREQ=MINUTELY series would be half a million instances over the window
    and the year ahead: it is read lazily and cut at MAX_INSTANCES, in well under a second
    of work, and the other events are still there (issue 15, the hostile-input suite)."""
    started = time.process_time()
    with capture_logs() as logs:
        found = read(calendar(DEMO, """
UID:every-minute@stranger.example
SUMMARY:Every minute
DTSTART:20261101T000000Z
DTEND:20261101T000100Z
RRULE:FREQ=MINUTELY
"""))  # fmt: skip
    assert time.process_time() - started < 5
    assert len([e for e in found if e.uid.startswith("every-minute@")]) == MAX_INSTANCES
    assert [e.summary for e in found if e.uid == "demo-1@contoso.example"] == ["Demo"]
    assert any(log["event"] == "ics.series_cut" for log in logs)
