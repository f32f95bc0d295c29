"""docs/rules.md "Meetings": each rule as a small scenario around one `now`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ghostwatch.engine.meetings import decide_meetings
from ghostwatch.engine.people import Identity
from ghostwatch.mail.ics import read_calendar
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.decisions import Action, MeetingDecision, MeetingState
from ghostwatch.model.mail import Address
from tests.support.paths import REPO

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ME_ADDRESS = "me@contoso.example"
ME = Identity.of([ME_ADDRESS])
LEE = "lee@fabrikam.example"
KIM = "kim@tailspin.example"
COLLEAGUE = "ana@contoso.example"


def person(email: str, status: PartStat = PartStat.ACCEPTED) -> Attendee:
    return Attendee(Address(email), status)


def event(
    uid: str = "demo",
    start: datetime = NOW - timedelta(days=2),
    minutes: int = 30,
    attendees: tuple[Attendee, ...] = (person(LEE),),
    organizer: str | None = "me@contoso.example",
    **kwargs: object,
) -> CalendarEvent:
    return CalendarEvent(
        uid=uid,
        summary=f"Meeting {uid}",
        start=start,
        end=start + timedelta(minutes=minutes),
        organizer=Address(organizer) if organizer else None,
        attendees=(person("me@contoso.example"), *attendees),
        **kwargs,  # type: ignore[arg-type]
    )


def decide(
    *events: CalendarEvent, mail: dict[str, datetime] | None = None
) -> tuple[MeetingDecision, ...]:
    return decide_meetings(events, ME, NOW, mail or {})


def only(*events: CalendarEvent, mail: dict[str, datetime] | None = None) -> MeetingDecision:
    decisions = decide(*events, mail=mail)
    assert len(decisions) == 1, decisions
    return decisions[0]


# --- upcoming and held --------------------------------------------------------------


def test_a_meeting_that_starts_after_now_is_upcoming() -> None:
    decision = only(event(start=NOW + timedelta(days=3)))
    assert decision.state is MeetingState.UPCOMING
    assert decision.action is Action.NONE
    assert decision.reasons == ("starts in 3 days",)


def test_a_meeting_everyone_accepted_is_held() -> None:
    decision = only(event(attendees=(person(LEE), person(KIM, PartStat.TENTATIVE))))
    assert decision.state is MeetingState.HELD
    assert decision.action is Action.NONE
    assert decision.contacts == (KIM, LEE)
    assert decision.reasons[-1] == "ended 1 day ago"


def test_held_is_decided_by_external_attendees_only() -> None:
    colleague_declined = (person(LEE), person(COLLEAGUE, PartStat.DECLINED))
    assert only(event(attendees=colleague_declined)).state is MeetingState.HELD


def test_rooms_are_not_people() -> None:
    room = Attendee(Address("room-7@fabrikam.example"), PartStat.NEEDS_ACTION, is_resource=True)
    decision = only(event(attendees=(person(LEE), room)))
    assert decision.state is MeetingState.HELD
    assert decision.contacts == (LEE,)


def test_an_attendance_record_of_someone_joining_beats_a_missing_answer() -> None:
    decision = only(event(attendees=(person(LEE, PartStat.NEEDS_ACTION),), external_joined=True))
    assert decision.state is MeetingState.HELD


# --- missed -------------------------------------------------------------------------


def test_a_decline_without_a_later_meeting_or_mail_is_missed() -> None:
    decision = only(event(attendees=(person(LEE, PartStat.DECLINED),)))
    assert decision.state is MeetingState.MISSED
    assert decision.action is Action.MEETING_FOLLOWUP
    assert decision.contacts == (LEE,)
    assert f"{LEE} declined" in decision.reasons
    assert f"no later meeting with {LEE} and no mail since" in decision.reasons


def test_a_meeting_never_answered_is_missed() -> None:
    decision = only(event(attendees=(person(LEE, PartStat.NEEDS_ACTION),)))
    assert decision.state is MeetingState.MISSED
    assert f"{LEE} never answered" in decision.reasons


def test_one_decline_among_acceptances_is_missed() -> None:
    decision = only(event(attendees=(person(LEE), person(KIM, PartStat.DECLINED))))
    assert decision.state is MeetingState.MISSED


def test_a_meeting_they_cancelled_is_missed() -> None:
    decision = only(event(organizer=LEE, cancelled=True))
    assert decision.state is MeetingState.MISSED
    assert decision.action is Action.MEETING_FOLLOWUP
    assert f"cancelled by {LEE}" in decision.reasons


def test_an_attendance_record_of_nobody_joining_is_missed() -> None:
    decision = only(event(external_joined=False))
    assert decision.state is MeetingState.MISSED
    assert "attendance record: nobody from outside joined" in decision.reasons


def test_an_external_organizer_counts_as_an_accepted_attendee() -> None:
    organized_by_lee = event(organizer=LEE, attendees=())
    decision = only(organized_by_lee)
    assert decision.state is MeetingState.HELD
    assert decision.contacts == (LEE,)


def test_an_external_organizer_listed_as_declined_is_missed() -> None:
    decision = only(event(organizer=LEE, attendees=(person(LEE, PartStat.DECLINED),)))
    assert decision.state is MeetingState.MISSED


def test_delegated_by_everyone_with_no_delegate_answer_is_missed() -> None:
    decision = only(event(attendees=(person(LEE, PartStat.DELEGATED),)))
    assert decision.state is MeetingState.MISSED
    delegated_and_accepted = (person(LEE, PartStat.DELEGATED), person(KIM))
    assert only(event(attendees=delegated_and_accepted)).state is MeetingState.HELD


# --- rescheduled --------------------------------------------------------------------


def test_a_later_meeting_with_them_makes_it_rescheduled() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED),))
    later = event(uid="again", start=NOW + timedelta(days=40))  # outside the window
    decision = only(missed, later)
    assert decision.state is MeetingState.RESCHEDULED
    assert decision.action is Action.NONE
    assert f"later meeting with {LEE} on 2026-12-30" in decision.reasons


def test_a_later_meeting_with_one_of_them_is_enough() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED), person(KIM, PartStat.DECLINED)))
    later = event(uid="again", start=NOW + timedelta(days=40), attendees=(person(KIM),))
    assert only(missed, later).state is MeetingState.RESCHEDULED


def test_a_cancelled_or_declined_later_meeting_is_no_reschedule() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED),))
    cancelled = event(uid="c", start=NOW + timedelta(days=40), cancelled=True)
    declined = event(
        uid="d", start=NOW + timedelta(days=41), attendees=(person(LEE, PartStat.DECLINED),)
    )
    assert only(missed, cancelled, declined).state is MeetingState.MISSED


def test_an_earlier_meeting_is_no_reschedule() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED),))
    earlier = event(uid="before", start=NOW - timedelta(days=30))  # before the window
    assert only(missed, earlier).state is MeetingState.MISSED


def test_mail_from_them_since_it_started_means_no_followup() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED),))
    decision = only(missed, mail={LEE: missed.start + timedelta(hours=1)})
    assert decision.state is MeetingState.RESCHEDULED
    assert decision.action is Action.NONE
    assert f"{LEE} wrote since it started" in decision.reasons


def test_mail_from_them_before_it_started_does_not_count() -> None:
    missed = event(attendees=(person(LEE, PartStat.DECLINED),))
    decision = only(missed, mail={LEE: missed.start - timedelta(minutes=1), KIM: NOW})
    assert decision.state is MeetingState.MISSED


# --- left out -----------------------------------------------------------------------


def test_internal_only_meetings_are_left_out() -> None:
    assert decide(event(attendees=(person(COLLEAGUE, PartStat.DECLINED),))) == ()


def test_robots_are_not_contacts() -> None:
    assert decide(event(attendees=(person("noreply@fabrikam.example"),))) == ()


def test_meetings_my_side_cancelled_are_left_out() -> None:
    assert decide(event(cancelled=True)) == ()
    assert decide(event(organizer=COLLEAGUE, cancelled=True)) == ()


def test_a_meeting_in_progress_is_left_out_until_it_ends() -> None:
    running = event(start=NOW - timedelta(minutes=10), minutes=30)
    assert decide(running) == ()
    just_over = event(start=NOW - timedelta(minutes=30), minutes=30)
    assert only(just_over).state is MeetingState.HELD


def test_the_window_is_fourteen_days_each_way_edges_included() -> None:
    edges = [NOW - timedelta(days=14), NOW + timedelta(days=14)]
    outside = [NOW - timedelta(days=14, seconds=1), NOW + timedelta(days=14, seconds=1)]
    events = [event(uid=f"e{i}", start=start) for i, start in enumerate(edges + outside)]
    assert [d.uid for d in decide(*events)] == ["e0", "e1"]


def test_the_window_is_a_setting() -> None:
    old = event(start=NOW - timedelta(days=20))
    assert decide_meetings([old], ME, NOW, {}) == ()
    assert len(decide_meetings([old], ME, NOW, {}, window_days=30)) == 1


# --- order --------------------------------------------------------------------------


def test_decisions_are_sorted_by_start_then_uid() -> None:
    events = [
        event(uid="b", start=NOW - timedelta(days=1)),
        event(uid="a", start=NOW - timedelta(days=1)),
        event(uid="c", start=NOW - timedelta(days=3)),
    ]
    assert [d.uid for d in decide(*events)] == ["c", "a", "b"]


_STATUSES = st.sampled_from(list(PartStat))
_PEOPLE = st.sampled_from([LEE, KIM, COLLEAGUE, "me@contoso.example"])


@st.composite
def _events(draw: st.DrawFn) -> CalendarEvent:
    attendees = draw(st.lists(st.builds(person, _PEOPLE, _STATUSES), max_size=3))
    return event(
        uid=draw(st.sampled_from(["a", "b", "c"])),
        start=NOW + timedelta(hours=draw(st.integers(-500, 500))),
        minutes=draw(st.integers(0, 120)),
        attendees=tuple(attendees),
        organizer=draw(st.sampled_from([None, LEE, KIM, "me@contoso.example"])),
        cancelled=draw(st.booleans()),
        external_joined=draw(st.sampled_from([None, True, False])),
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_events(), max_size=8).flatmap(lambda es: st.tuples(st.just(es), st.permutations(es)))
)
def test_decisions_do_not_depend_on_event_order(
    pair: tuple[list[CalendarEvent], list[CalendarEvent]],
) -> None:
    events, shuffled = pair
    mail = {LEE: NOW - timedelta(days=3)}
    assert decide_meetings(events, ME, NOW, mail) == decide_meetings(shuffled, ME, NOW, mail)


EXAMPLES = REPO / "examples"


def test_the_example_calendar_gives_the_expected_meetings() -> None:
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
    now = datetime.fromisoformat(expected["now"])
    window = timedelta(days=14)
    data = (EXAMPLES / "mailbox" / "calendar.ics").read_bytes()
    events = read_calendar(data, now - window, now + window)
    nina_agreed = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # her last mail, before the call
    mail = {"nina.alvarez@tailwindtraders.example": nina_agreed}
    me = Identity.of([expected["me"]])
    decisions = decide_meetings(events, me, now, mail)
    assert {d.summary: {"state": d.state, "action": d.action} for d in decisions} == expected[
        "meetings"
    ]
    assert {d.summary: list(d.contacts) for d in decisions} == expected["meeting_contacts"]


# --- what drafts and the digest read ---------------------------------------------------


def test_a_held_meeting_says_whether_the_next_one_is_booked() -> None:
    held = event("held", attendees=(Attendee(Address(LEE, "Lee Chen"), PartStat.ACCEPTED),))
    alone = only(held)
    assert (alone.state, alone.next_meeting) == (MeetingState.HELD, None)
    assert alone.contact_names == ((LEE, "Lee Chen"),)
    assert alone.end == held.end
    follow_up = event("next", start=NOW + timedelta(days=30))  # beyond the window
    decisions = {d.uid: d for d in decide(held, follow_up)}
    assert decisions["held"].next_meeting == follow_up.start


def test_an_invitation_i_declined_or_never_answered_is_left_out() -> None:
    stranger = "events@invoice-desk.example"
    for mine in (PartStat.DECLINED, PartStat.NEEDS_ACTION, PartStat.DELEGATED):
        invite = replace(
            event(organizer=stranger), attendees=(person(ME_ADDRESS, mine), person(LEE))
        )
        assert decide(invite) == ()
    accepted = replace(event(organizer=stranger), attendees=(person(ME_ADDRESS), person(LEE)))
    assert only(accepted).contacts == (stranger, LEE)


def test_what_the_calendar_says_about_me_beats_the_attendee_list() -> None:
    # Google's `self` attendee / Graph's responseStatus and isOrganizer, as providers fill them.
    forged = event(organizer=ME_ADDRESS, organized_by_me=False, my_status=PartStat.DECLINED)
    assert decide(forged) == ()
    said_yes = event(organizer=LEE, organized_by_me=False, my_status=PartStat.TENTATIVE)
    assert only(said_yes).contacts == (LEE,)
    organized = replace(event(organized_by_me=True), attendees=(person(LEE),))
    assert only(organized).contacts == (LEE,)
