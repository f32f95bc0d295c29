"""Meetings with contacts: upcoming, held, missed or rescheduled (docs/rules.md "Meetings").

Pure: the calendar, who I am, `now`, and when each contact last wrote to me go in;
decisions come out. Choices the design leaves open, made here:

* The window is closed: an event counts when now − window ≤ start ≤ now + window.
* An event in progress (start ≤ now < end) is left out until it ends — it is
  neither upcoming nor over, and the four meeting words have no "in progress".
* An external ORGANIZER not listed as an attendee counts as an attendee who
  accepted (organizers rarely RSVP to their own meeting).
* A cancellation by my side — the organizer is me *or a colleague* — is left out:
  nobody on the other side stood anyone up. Any other cancellation is "by them".
* An attendance record that says someone from outside joined (`external_joined`
  is True) makes a finished, not-cancelled meeting `held` whatever the RSVPs say:
  people join without answering the invitation all the time.
* DELEGATED (RFC 5545 §3.2.12) is neither a yes nor a no; the delegate answers.
  Only if every outside attendee delegated and none answered is it "never answered".
* A later meeting is "with them" when a shared contact is on it and has not
  declined it; cancelled later meetings do not count.
* "Wrote since" means a human message from one of the contacts dated at or after
  the meeting's start; it turns a would-be `missed` into `rescheduled` with no
  action (the conversation itself is the reschedule).
* Only my meetings count (docs/rules.md "Only my meetings"): I organized it, or I
  accepted or tentatively accepted it. Anyone can send an invitation; one I declined
  or never answered is left out entirely — it is neither missed nor a later meeting.
  What the calendar itself says about me wins (Google's `self` attendee and
  `organizer.self`, Graph's `isOrganizer` and `responseStatus`); an .ics or CalDAV
  event says it in its ORGANIZER and my own ATTENDEE's PARTSTAT (RFC 5545 §3.2.12).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ghostwatch.engine.people import Identity
from ghostwatch.model.calendar import Attendee, CalendarEvent, PartStat
from ghostwatch.model.decisions import Action, MeetingDecision, MeetingState
from ghostwatch.model.mail import Address

_YES = frozenset({PartStat.ACCEPTED, PartStat.TENTATIVE})


def decide_meetings(
    events: Sequence[CalendarEvent],
    me: Identity,
    now: datetime,
    last_human_mail: Mapping[str, datetime],
    window_days: int = 14,
) -> tuple[MeetingDecision, ...]:
    """One decision per event with a contact on it, in the window, sorted by start.

    `events` should include the events after the window too (a later meeting
    makes a missed one `rescheduled`). `last_human_mail` maps a lower-case address
    to the date of the latest `human` message from it.
    """
    meetings = [_Meeting.of(event, me) for event in events if is_my_meeting(event, me)]
    later = _LaterMeetings.of(meetings)
    window = timedelta(days=window_days)
    decisions = (
        _decide(meeting, now, later, last_human_mail)
        for meeting in meetings
        if meeting.external and now - window <= meeting.event.start <= now + window
    )
    return tuple(sorted((d for d in decisions if d is not None), key=_order))


def is_my_meeting(event: CalendarEvent, me: Identity) -> bool:
    """I organized it, or I accepted or tentatively accepted it."""
    if event.organized_by_me is not None:
        organized = event.organized_by_me
    else:
        organized = event.organizer is not None and me.is_me(event.organizer.email)
    if organized:
        return True
    if event.my_status is not None:
        return event.my_status in _YES
    return any(a.status in _YES for a in event.attendees if me.is_me(a.address.email))


@dataclass(frozen=True, slots=True)
class _Meeting:
    """An event seen from my side: who from outside is on it, and who cancelled."""

    event: CalendarEvent
    external: tuple[Attendee, ...]
    """Contacts on the event (organizer included), sorted by address."""
    cancelled_by_us: bool

    @classmethod
    def of(cls, event: CalendarEvent, me: Identity) -> _Meeting:
        organizer = event.organizer
        ours = organizer is not None and me.is_internal(organizer.email)
        return cls(event, _external_attendees(event, me), event.cancelled and ours)

    @property
    def contacts(self) -> tuple[str, ...]:
        return tuple(a.address.email for a in self.external)


def _external_attendees(event: CalendarEvent, me: Identity) -> tuple[Attendee, ...]:
    people: dict[str, Attendee] = {}
    for attendee in event.attendees:
        email = attendee.address.email
        if not attendee.is_resource and me.is_contact(email):
            people.setdefault(email, attendee)
    organizer = event.organizer
    if organizer is not None and me.is_contact(organizer.email):
        people.setdefault(organizer.email, Attendee(organizer, PartStat.ACCEPTED))
    return tuple(people[email] for email in sorted(people))


@dataclass(frozen=True, slots=True)
class _LaterMeetings:
    """For each contact, the sorted starts of the not-cancelled meetings they did not decline."""

    starts: Mapping[str, list[datetime]]

    @classmethod
    def of(cls, meetings: Iterable[_Meeting]) -> _LaterMeetings:
        starts: dict[str, list[datetime]] = {}
        for meeting in meetings:
            if meeting.event.cancelled:
                continue
            for attendee in meeting.external:
                if attendee.status is not PartStat.DECLINED:
                    starts.setdefault(attendee.address.email, []).append(meeting.event.start)
        return cls({email: sorted(times) for email, times in starts.items()})

    def next_after(self, contact: str, start: datetime) -> datetime | None:
        times = self.starts.get(contact, [])
        index = bisect.bisect_right(times, start)
        return times[index] if index < len(times) else None


def _decide(
    meeting: _Meeting,
    now: datetime,
    later: _LaterMeetings,
    last_human_mail: Mapping[str, datetime],
) -> MeetingDecision | None:
    event = meeting.event
    if meeting.cancelled_by_us or event.start <= now < event.end:
        return None
    following = _first_next(meeting.contacts, event.start, later)
    if event.start > now:
        upcoming = _decision(meeting, MeetingState.UPCOMING, _upcoming_reasons(meeting, now))
        return replace(upcoming, next_meeting=following)
    problems = _why_missed(meeting)
    if not problems:
        held = (*_held_reasons(meeting), _ended(event, now))
        return replace(_decision(meeting, MeetingState.HELD, held), next_meeting=following)
    decision = _missed_or_rescheduled(meeting, problems, later, last_human_mail)
    return replace(
        decision, reasons=(*decision.reasons, _ended(event, now)), next_meeting=following
    )


def _first_next(
    contacts: tuple[str, ...], start: datetime, later: _LaterMeetings
) -> datetime | None:
    """The next meeting with any of these contacts after `start` (the playbook: always
    leave a meeting with the next one booked)."""
    return min(filter(None, (later.next_after(c, start) for c in contacts)), default=None)


def _why_missed(meeting: _Meeting) -> tuple[str, ...]:
    """What makes a finished meeting look missed; empty when it was held."""
    event = meeting.event
    if event.cancelled:
        return (_cancelled_reason(event.organizer),)
    if event.external_joined is True:
        return ()
    problems = tuple(r for a in meeting.external if (r := _answer_problem(a)))
    if _all_delegated(meeting.external):
        problems += ("everyone from outside delegated it and no delegate answered",)
    if event.external_joined is False:
        problems += ("attendance record: nobody from outside joined",)
    return problems


def _cancelled_reason(organizer: Address | None) -> str:
    return f"cancelled by {organizer.email}" if organizer else "cancelled, not by me"


def _answer_problem(attendee: Attendee) -> str | None:
    if attendee.status is PartStat.DECLINED:
        return f"{attendee.address.email} declined"
    if attendee.status is PartStat.NEEDS_ACTION:
        return f"{attendee.address.email} never answered"
    return None


def _all_delegated(external: tuple[Attendee, ...]) -> bool:
    return all(a.status is PartStat.DELEGATED for a in external)


def _held_reasons(meeting: _Meeting) -> tuple[str, ...]:
    if meeting.event.external_joined is True:
        return ("attendance record: someone from outside joined",)
    if all(a.status is PartStat.ACCEPTED for a in meeting.external):
        return ("everyone from outside accepted",)
    return ("everyone from outside accepted or tentatively accepted",)


def _missed_or_rescheduled(
    meeting: _Meeting,
    reasons: tuple[str, ...],
    later: _LaterMeetings,
    last_human_mail: Mapping[str, datetime],
) -> MeetingDecision:
    start = meeting.event.start
    next_meetings = _next_meetings(meeting.contacts, start, later)
    if next_meetings:
        return _decision(meeting, MeetingState.RESCHEDULED, reasons + next_meetings)
    writers = [c for c in meeting.contacts if _wrote_since(last_human_mail.get(c), start)]
    if writers:
        wrote = tuple(f"{c} wrote since it started" for c in writers)
        return _decision(meeting, MeetingState.RESCHEDULED, reasons + wrote)
    quiet = f"no later meeting with {', '.join(meeting.contacts)} and no mail since"
    return _decision(meeting, MeetingState.MISSED, (*reasons, quiet), Action.MEETING_FOLLOWUP)


def _next_meetings(
    contacts: tuple[str, ...], start: datetime, later: _LaterMeetings
) -> tuple[str, ...]:
    found = ((c, later.next_after(c, start)) for c in contacts)
    return tuple(f"later meeting with {c} on {when:%Y-%m-%d}" for c, when in found if when)


def _wrote_since(last: datetime | None, start: datetime) -> bool:
    return last is not None and last >= start


def _upcoming_reasons(meeting: _Meeting, now: datetime) -> tuple[str, ...]:
    starts = f"starts in {_span(meeting.event.start - now)}"
    if meeting.event.cancelled:
        return (starts, _cancelled_reason(meeting.event.organizer))
    return (starts,)


def _ended(event: CalendarEvent, now: datetime) -> str:
    return f"ended {_span(now - event.end)} ago"


def _span(delta: timedelta) -> str:
    """A rough, readable length: '2 days', '1 hour', '5 minutes'."""
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def _decision(
    meeting: _Meeting,
    state: MeetingState,
    reasons: tuple[str, ...],
    action: Action = Action.NONE,
) -> MeetingDecision:
    event = meeting.event
    return MeetingDecision(
        uid=event.uid,
        summary=event.summary,
        start=event.start,
        contacts=meeting.contacts,
        state=state,
        action=action,
        reasons=reasons,
        end=event.end,
        contact_names=tuple(
            (a.address.email, a.address.name)
            for a in sorted(meeting.external, key=lambda a: a.address.email)
        ),
    )


def _order(decision: MeetingDecision) -> tuple[object, ...]:
    # Every field, so duplicates in the input cannot make the order depend on it.
    return (
        decision.start,
        decision.uid,
        decision.summary,
        decision.contacts,
        decision.state,
        decision.action,
        decision.reasons,
        decision.contact_names,
        decision.end or decision.start,
        decision.next_meeting or decision.start,
    )
