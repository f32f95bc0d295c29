"""Calendar events, their attendees and each attendee's answer (RFC 5545 PARTSTAT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ghostwatch.model.mail import Address


class PartStat(StrEnum):
    """An attendee's answer, RFC 5545 §3.2.12 PARTSTAT (absent means NEEDS-ACTION)."""

    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    NEEDS_ACTION = "needs_action"
    DELEGATED = "delegated"


@dataclass(frozen=True, slots=True)
class Attendee:
    address: Address
    status: PartStat = PartStat.NEEDS_ACTION
    is_resource: bool = False
    """Rooms and equipment (CUTYPE=ROOM/RESOURCE) are not people."""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    summary: str
    start: datetime
    end: datetime
    organizer: Address | None = None
    attendees: tuple[Attendee, ...] = ()
    cancelled: bool = False
    external_joined: bool | None = None
    """From an attendance record (Meet, Teams): did anyone outside my side join?
    None when there is no record."""
    conference_id: str | None = None
    my_status: PartStat | None = None
    """My own answer where the calendar states it apart from the attendee list (Google's
    `self` attendee, Graph's `responseStatus`); None where it does not (an .ics file:
    find me among `attendees`)."""
    organized_by_me: bool | None = None
    """Whether I organized it, where the calendar states it (Google's `organizer.self`,
    Graph's `isOrganizer`); None where it does not (compare `organizer` with my addresses)."""
