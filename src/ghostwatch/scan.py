"""The Maildir scan: read → thread → load the few bodies that matter → decide.

This is the imperative shell around the pure engine for `ghostwatch scan`; the
service's per-account cycle follows the same steps over an API provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from ghostwatch import engine
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import UserError
from ghostwatch.model import CalendarEvent, Plan
from ghostwatch.providers import ics
from ghostwatch.providers.maildir import MaildirMailbox

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ScanStats:
    messages: int
    conversations: int
    bodies_loaded: int


def read_events(mailbox: MaildirMailbox, rules: Rules, now: datetime) -> tuple[CalendarEvent, ...]:
    data = mailbox.calendar()
    if data is None:
        return ()
    window = timedelta(days=rules.meeting_window_days)
    try:
        # read_calendar also returns the year after the window: a missed meeting is
        # "rescheduled" when any later event with its attendees exists.
        return ics.read_calendar(data, now - window, now + window)
    except ValueError as error:
        # The library quotes the raw line: keep control characters off the terminal.
        detail = "".join(c if c.isprintable() else "?" for c in str(error))[:200]
        path = mailbox.root / "calendar.ics"
        raise UserError(f"{path} is not a readable iCalendar file ({detail})") from error


def scan_maildir(
    mailbox: MaildirMailbox,
    rules: Rules,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[Plan, ScanStats]:
    messages = mailbox.read_headers(progress)
    threads = engine.thread(messages, rules.me)
    wanted = engine.content_wanted(threads, rules.me)
    threads = threads.with_content(mailbox.load_content(wanted))
    plan = engine.decide(threads, read_events(mailbox, rules, now), rules, now)
    stats = ScanStats(len(messages), len(threads.conversations), len(wanted))
    log.info(
        "scan_done",
        messages=stats.messages,
        conversations=stats.conversations,
        bodies_loaded=stats.bodies_loaded,
        undated=len(plan.skipped),
    )
    return plan, stats
