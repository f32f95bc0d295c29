"""Any IMAP mailbox (Fastmail, iCloud, Zoho, Dovecot, Exchange...): the `MailSource`.

Headers come from the incremental sync (`sync.py`): every folder on the first poll, then
only what changed. The cycle stores the folders' cursors with the headers they cover
(`IncrementalSource`), so a restarted process goes on from there instead of reading the
whole mailbox again. Bodies are read only for the keys the engine asks about
(`BODY.PEEK[]`: reading never marks mail read), once per process — the message under a
key never changes. Meetings come from the CalDAV calendar, when one is configured.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

import structlog
from imapclient import IMAPClient

from ghostwatch.mail import mime
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Message
from ghostwatch.model.sync import SyncDelta
from ghostwatch.providers.imap import commands
from ghostwatch.providers.imap.folders import Key
from ghostwatch.providers.imap.session import ImapError, ImapSession
from ghostwatch.providers.imap.sync import Poller, SyncState

log = structlog.get_logger(__name__)


class Calendar(Protocol):
    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]: ...


class ImapSource:
    """One IMAP mailbox, read (implements `MailSource` and `IncrementalSource`)."""

    sync_name = "imap"

    def __init__(
        self,
        session: ImapSession,
        calendar: Calendar | None = None,
        body_limit: int = mime.MAX_BODY_BYTES,
    ) -> None:
        self.session = session
        self.body_limit = body_limit
        """Bodies are fetched partially (`BODY.PEEK[]<0.limit>`, RFC 3501 §6.4.5): the
        server sends no more than this of a message, however large it is."""
        self.calendar = calendar
        self.poller = Poller(session)
        self.state = SyncState()
        self._stored: dict[str, Message] | None = None
        """What the store holds (None: never resumed, as in a one-shot scan)."""
        self._contents: dict[str, Content] = {}

    # --- IncrementalSource ---------------------------------------------------------------

    def resume(self, cursor: str | None, headers: Iterable[Message]) -> None:
        self.state = SyncState.load(cursor, list(headers) if cursor else [])
        self._stored = self.state.flat()

    @property
    def resumed(self) -> bool:
        return self._stored is not None

    def delta(self) -> SyncDelta | None:
        """The difference between what the store holds and the newest poll."""
        if not self.state.cursors:
            return None
        stored = self._stored or {}
        current = self.state.flat()
        upserts = {key: m for key, m in current.items() if stored.get(key) != m}
        removed = set(stored) - set(current)
        return SyncDelta(self.state.dump(), upserts, removed, reset=not stored)

    def committed(self) -> None:
        self._stored = self.state.flat()

    # --- MailSource ----------------------------------------------------------------------

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        self.poller.poll(self.state, progress)
        return list(self.state.flat().values())

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        wanted = sorted(set(keys) - self._contents.keys())
        by_folder: dict[str, list[Key]] = defaultdict(list)
        for text in wanted:
            key = Key.parse_or_none(text)
            if key is not None:
                by_folder[key.folder].append(key)
        for folder, folder_keys in sorted(by_folder.items()):
            self.session.call(functools.partial(self._bodies, folder=folder, keys=folder_keys))
        return {key: self._contents[key] for key in keys if key in self._contents}

    def _bodies(self, client: IMAPClient, folder: str, keys: list[Key]) -> None:
        try:
            opened = commands.examine(client, folder)
        except ImapError:
            log.info("imap_folder_gone", action="bodies skipped")
            return
        current = [k for k in keys if k.uidvalidity == opened.uidvalidity]
        if current:
            uids = commands.uid_set(k.uid for k in current)
            for item in commands.fetch(client, uids, b"", partial=self.body_limit):
                key = str(Key(folder, opened.uidvalidity, item.uid))
                self._contents[key] = _content(key, item.data)

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """The CalDAV calendar's events when one is configured; else none."""
        return self.calendar.events(start, end) if self.calendar is not None else ()

    def close(self) -> None:
        self.session.close()


def _content(key: str, data: bytes) -> Content:
    try:
        return mime.content_of(data)
    except Exception as error:  # noqa: BLE001 - one broken body must not stop a scan
        log.warning("body_skipped", key=key, reason=type(error).__name__)
        return Content()
