"""The calendar of an IMAP account, over CalDAV (RFC 4791), with the `caldav` library.

Fastmail, iCloud, Zoho, Nextcloud, Radicale and most self-hosted servers keep calendars
on CalDAV. Each calendar of the signed-in principal (or the one named) is asked for the
events overlapping the window, and every later one up to a year on (a later meeting
makes a missed one rescheduled): a `calendar-query` with a time range (RFC 4791 §7.8),
the server matching recurring events by any of their instances. What comes back is each
event's own iCalendar object, which is read exactly as a `calendar.ics` file is read
(`mail/ics.py`: recurrences expanded, PARTSTAT, organizer), so a meeting decides the same
whether it came from a file, from Google, from Graph or from CalDAV.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import niquests
import structlog
from caldav.davclient import DAVClient
from caldav.lib.error import DAVError

from ghostwatch.errors import GhostwatchError, ProviderError, TokenRevoked
from ghostwatch.mail import ics
from ghostwatch.model.calendar import CalendarEvent

log = structlog.get_logger(__name__)


class CalDavError(ProviderError):
    """The CalDAV server failed or could not be reached: the next cycle retries."""


class CalDavCalendar:
    """One principal's calendars (or the one named `calendar`), read-only."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        calendar: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.username = username
        self.calendar_name = calendar
        self._client = DAVClient(url, username=username, password=password, timeout=int(timeout))

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        until = end + ics.LATER_HORIZON
        found: dict[tuple[str, datetime], CalendarEvent] = {}
        for calendar in self.calendars():
            for data in self._objects(calendar, start, until):
                for event in ics.read_calendar(data, start, end):
                    found.setdefault((event.uid, event.start), event)
        return tuple(sorted(found.values(), key=lambda e: (e.start, e.uid)))

    def calendars(self) -> list[Any]:
        try:
            calendars = list(self._client.principal().calendars())  # type: ignore[no-untyped-call]
        except DAVError as error:
            raise self._translated(error) from error
        except (niquests.exceptions.RequestException, OSError) as error:
            raise CalDavError(f"cannot reach CalDAV at {self.url}: {error}") from error
        if self.calendar_name is None:
            return calendars
        named = [c for c in calendars if self.calendar_name in (c.name, _last(c.url))]
        if not named:
            raise CalDavError(f"no calendar named {self.calendar_name!r} at {self.url}")
        return named

    def _objects(self, calendar: Any, start: datetime, until: datetime) -> list[bytes]:
        try:
            objects = calendar.search(start=start, end=until, event=True, expand=False)
            return [_bytes(item.data) for item in objects]
        except DAVError as error:
            raise self._translated(error) from error
        except (niquests.exceptions.RequestException, OSError) as error:
            raise CalDavError(f"CalDAV at {self.url} failed: {error}") from error

    def _translated(self, error: DAVError) -> GhostwatchError:
        reason = " ".join(str(error).split())[:200]
        if (
            "401" in reason
            or "Unauthorized" in reason
            or type(error).__name__ == "AuthorizationError"
        ):
            return TokenRevoked(
                f"the CalDAV server at {self.url} refused the password for {self.username}: "
                "store a new one with `ghostwatch auth imap`"
            )
        return CalDavError(f"CalDAV at {self.url} answered: {reason}")


def _bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _last(url: Any) -> str:
    return str(url).rstrip("/").rpartition("/")[2]
