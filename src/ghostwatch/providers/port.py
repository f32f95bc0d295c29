"""The port every mailbox adapter implements for reading (DESIGN.md §3).

The scan shell and the service's cycle read mail only through this, so a Maildir, a
Gmail account and an Outlook mailbox give the engine the same values, and one contract
test suite (`tests/contract_mail_source.py`) holds every adapter to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from ghostwatch.model import CalendarEvent, Content, Message


class MailSource(Protocol):
    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        """Every message (drafts and junk included), headers only; `key`s are stable."""
        ...

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies for messages already read, by key; unknown or broken ones are left out."""
        ...

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """Calendar events from `start`, and every later one up to a year past `end`
        (a later meeting makes a missed one rescheduled)."""
        ...
