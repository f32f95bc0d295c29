"""Gmail through google-api-python-client: the `MailSource` read side.

Headers come from `messages.get(format=metadata)` with only the headers decisions read
(`metadataHeaders`), fetched in batches; bodies from `format=raw` for the few keys the
engine asks about. Message keys are Gmail message ids; thread ids are Gmail's.

References: Gmail API v1 `users.messages.list` / `users.messages.get`
(https://developers.google.com/gmail/api/reference/rest/v1/users.messages) and batching
(https://developers.google.com/gmail/api/guides/batch). The client's batch path ignores
`api_endpoint` (docs/providers.md), so the batch URI is passed explicitly.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from ghostwatch.errors import CursorExpired
from ghostwatch.mail import mime, parse
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Folder, Message, marks_named
from ghostwatch.model.sync import SyncDelta
from ghostwatch.providers.budget import Budget
from ghostwatch.providers.google.api import DEFAULT_POLICY, GoogleApiError, execute, google_service
from ghostwatch.providers.google.batches import BATCH_SIZE, Batches
from ghostwatch.providers.google.calendar import GoogleCalendar
from ghostwatch.providers.google.drafts import DraftWatch
from ghostwatch.providers.google.sync import (
    HISTORY_TYPES,
    HistoryChanges,
    SyncState,
    contact_queries,
    lone_messages,
    relabelled,
)
from ghostwatch.providers.retry import RetryPolicy

log = structlog.get_logger(__name__)

# The headers `parse.message_from_fields` reads: addresses, threading, dates, signals.
METADATA_HEADERS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    *sorted(parse.SIGNAL_HEADERS),
)
# Label → folder role, strongest first: a draft is a draft even if it is also in INBOX.
_ROLES = (
    ("DRAFT", Folder.DRAFTS),
    ("TRASH", Folder.TRASH),
    ("SPAM", Folder.JUNK),
    ("SENT", Folder.SENT),
    ("INBOX", Folder.INBOX),
)
PAGE_SIZE = 500  # messages.list maximum
STEP = 10 * BATCH_SIZE
"""Threads (or messages) a first sync reads between two reports of its progress; what a
step read is kept even if a later one fails."""
__all__ = ["BATCH_SIZE", "PAGE_SIZE", "GmailError", "GmailSource", "gmail_service"]


class GmailError(GoogleApiError):
    """Gmail answered with an error ghostwatch cannot work around."""


def folder_of(labels: Iterable[str]) -> Folder:
    present = set(labels)
    return next((role for label, role in _ROLES if label in present), Folder.OTHER)


def message_from_metadata(item: dict[str, Any], names: Mapping[str, str] | None = None) -> Message:
    """A `messages.get(format=metadata)` resource → `Message` (key = Gmail id); `names`
    (label id → name, from `labels.list`) say which labels are the user's marks."""
    fields: dict[str, list[str]] = {}
    for header in item.get("payload", {}).get("headers", []):
        fields.setdefault(header["name"].lower(), []).append(header.get("value", ""))
    received = datetime.fromtimestamp(int(item.get("internalDate", "0")) / 1000, UTC)
    message = parse.message_from_fields(fields, item["id"], folder_of(item.get("labelIds", [])))
    fallback = message if message.date else _dated(message, received)
    return _marked(_threaded(fallback, item.get("threadId")), item.get("labelIds", []), names)


def _marked(message: Message, labels: Iterable[str], names: Mapping[str, str] | None) -> Message:
    """The user's labels named `ghostwatch/…` as marks. A message's labels are only ever
    set in the user's own mailbox (by them or their filters), never by a sender."""
    marks = marks_named((names or {}).get(label, "") for label in labels)
    return message if marks == message.marks else replace(message, marks=marks)


def _dated(message: Message, when: datetime) -> Message:
    return replace(message, date=when)


def _threaded(message: Message, thread_id: str | None) -> Message:
    return replace(message, thread_id=thread_id) if thread_id else message


def gmail_service(api_endpoint: str, credentials: Any) -> Any:
    """The real client from its bundled discovery document, at `api_endpoint`."""
    return google_service("gmail", "v1", api_endpoint, credentials)


class GmailSource:
    """One Gmail mailbox, read through the API (implements `MailSource` and
    `IncrementalSource`; what is read and when is explained in `gmail_sync`)."""

    sync_name = "gmail"

    def __init__(
        self,
        service: Any,
        batch_uri: str | None = None,
        user: str = "me",
        calendar: GoogleCalendar | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        *,
        since: datetime | None = None,
        budget: Budget | None = None,
        body_limit: int = mime.MAX_BODY_BYTES,
        drafts: DraftWatch | None = None,
    ) -> None:
        self.body_limit = body_limit
        """`format=raw` has no partial read: a message whose sizeEstimate is above this is
        judged by its headers alone, never downloaded."""
        self.retry = retry
        self.budget = budget
        """The user's quota budget every call draws from (None: unpaced)."""
        self.batches = Batches(self._execute, retry, batch_uri, GmailError, budget)
        self.service = service
        self.batch_uri = batch_uri
        self.user = user
        self.calendar = calendar
        self.since = since
        """Sent mail older than this is not read on a first sync (None: all of it)."""
        self.drafts = drafts
        """Told what each history read shows of Drafts (shared with the account's
        `GmailActions`, which then lists Drafts only when they changed)."""
        self.state: SyncState | None = None
        self._contents: dict[str, Content] = {}
        self._label_names: dict[str, str] = {}
        """Label id → name (`labels.list`): a user label's id (`Label_12`) is not its name."""
        self._labels_read = False
        """Whether this read already listed the labels (at most once a poll)."""

    def _execute(self, request: Any, units: int | None = None) -> Any:
        return execute(request, GmailError, policy=self.retry, budget=self.budget, units=units)

    # --- IncrementalSource ---------------------------------------------------------------

    def resume(self, cursor: str | None, headers: Iterable[Message]) -> None:
        self.state = SyncState.from_cursor(cursor, headers)

    @property
    def resumed(self) -> bool:
        return self.state is not None

    def delta(self) -> SyncDelta | None:
        return None if self.state is None else self.state.pending

    def committed(self) -> None:
        if self.state is not None:
            self.state.pending = None

    # --- MailSource --------------------------------------------------------------------

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        state = self.state = self.state or SyncState()
        self._labels_read = False
        if state.history_id is not None:
            try:
                self._poll(state)
            except CursorExpired:
                log.info("gmail_history_expired", action="full sync")
                state.history_id = None
        if state.history_id is None:
            if self.drafts is not None:
                self.drafts.lost()  # no history covers what changed before this sync
            self._first_sync(state, progress or _unwatched)
        elif progress is not None:
            progress(len(state.headers))
        return list(state.headers.values())

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies are fetched once per process: a Gmail message never changes."""
        messages = self.service.users().messages()
        wanted = sorted(set(keys) - self._contents.keys())
        sized = self._batched(
            wanted, lambda i: messages.get(userId=self.user, id=i, format="minimal")
        )
        limit = self.body_limit
        large = {k for k, item in sized.items() if int(item.get("sizeEstimate", 0)) > limit}
        if large:
            log.info("gmail_bodies_too_large", count=len(large), limit=self.body_limit)
            self._contents.update((key, Content()) for key in large)
        small = [key for key in wanted if key not in large]
        raw = self._batched(small, lambda i: messages.get(userId=self.user, id=i, format="raw"))
        self._contents.update((key, _content(item)) for key, item in raw.items())
        return {key: self._contents[key] for key in keys if key in self._contents}

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """The account's Calendar (and Meet attendance) when given one; no events otherwise."""
        return self.calendar.events(start, end) if self.calendar is not None else ()

    def signed_in_address(self) -> str:
        """The mailbox's own address: users.getProfile's emailAddress
        (https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile)."""
        profile = self._execute(self.service.users().getProfile(userId=self.user))
        return str(profile.get("emailAddress", ""))

    # --- first sync ----------------------------------------------------------------------

    def _first_sync(self, state: SyncState, progress: Callable[[int], None]) -> None:
        """Everything a first sync reads (docs/providers.md, "First sync"), in steps: what
        each step read stays held (and, through the cycle, stored under an unfinished
        cursor), so a sync cut short — the quota's patience spent, the process stopped —
        carries on from there and never starts over."""
        profile = self._execute(self.service.users().getProfile(userId=self.user))
        if state.started is None:
            # The id counts only once everything is read: until then the stored cursor
            # says "under way", or the next poll would read later changes only.
            state.begin(str(profile["historyId"]))
        else:
            state.carry_on()
            log.info("gmail_first_sync_resumed", messages=len(state.headers))
        sent_threads, lone = self._sent_threads()
        todo = sorted(sent_threads - state.threads())
        read = functools.partial(self._sent, lone)
        self._in_steps(state, read, todo, progress, len(sent_threads))
        sent = [m for m in state.headers.values() if m.folder == Folder.SENT]
        me = str(profile.get("emailAddress", "")).lower()
        listed: dict[str, str] = {}
        attendees = self._attendees(sent)
        for query in contact_queries(state.headers.values(), attendees, me, self.since):
            listed.update((i, t) for i, t in self._listed(query) if i not in state.headers)
        whole, alone = _unread(listed, sent_threads | state.threads())
        self._in_steps(state, self._threads, whole, progress)
        self._in_steps(state, self._metadata, alone, progress)
        state.finish()
        log.info("gmail_first_sync", threads=len(sent_threads), messages=len(state.headers))

    def _in_steps(
        self,
        state: SyncState,
        read: Callable[[Sequence[str]], list[Message]],
        ids: Sequence[str],
        progress: Callable[[int], None],
        threads: int | None = None,
    ) -> None:
        """`read` STEP ids at a time, each step's messages held as soon as it is done."""
        for start in range(0, len(ids), STEP):
            found = read(ids[start : start + STEP])
            state.put(found)
            progress(len(found))
            if threads is not None:
                done = threads - len(ids) + min(len(ids), start + STEP)
                log.info("gmail_first_sync_progress", threads_read=done, threads=threads,
                         messages=len(state.headers))  # fmt: skip

    def _sent_threads(self) -> tuple[set[str], dict[str, str]]:
        """My threads that the look-back reaches: every thread I ever sent in (listing
        ids costs 5 units a page of 500) that holds a message from `since` on, so a
        conversation I started long ago and answered lately is read whole, as the
        horizon keeps it in scope (docs/rules.md "Horizon"); and, of those, the ones in
        which the two listings show a single message (`sync.lone_messages`)."""
        sent = list(self._listed("in:sent"))
        if self.since is None:
            return {t for _, t in sent}, {}  # not every message listed: sizes unknown
        active = list(self._listed(f"after:{int(self.since.timestamp())}"))
        threads = {t for _, t in sent} & {t for _, t in active}
        return threads, lone_messages([*sent, *active], threads)

    def _sent(self, lone: Mapping[str, str], thread_ids: Sequence[str]) -> list[Message]:
        """My threads: one of a single message that answers nothing is that message
        (`messages.get`, 5 units), every other one is read whole (`threads.get`, 10)."""
        alone = self._metadata([lone[t] for t in thread_ids if t in lone])
        kept = [m for m in alone if not m.in_reply_to and not m.references]
        done = {m.thread_id for m in kept}
        return kept + self._threads([t for t in thread_ids if t not in done])

    def _attendees(self, sent: Sequence[Message]) -> set[str]:
        """People I met since the look-back began (or since my first sent message)."""
        dates = [m.date for m in sent if m.date is not None]
        start = self.since or (min(dates) if dates else None)
        if self.calendar is None or start is None:
            return set()
        events = self.calendar.events(start, start)
        return {a.address.email for e in events for a in e.attendees if not a.is_resource}

    def _listed(self, query: str) -> Iterator[tuple[str, str]]:
        """(message id, thread id) of every message matching `query`, Spam included."""
        messages = self.service.users().messages()
        token: str | None = None
        while True:
            request = messages.list(
                userId=self.user, q=query, includeSpamTrash=True, maxResults=PAGE_SIZE,
                pageToken=token,
            )  # fmt: skip
            page = self._execute(request)
            yield from ((m["id"], m.get("threadId", "")) for m in page.get("messages", []))
            token = page.get("nextPageToken")
            if not token:
                return

    def _threads(self, thread_ids: Sequence[str]) -> list[Message]:
        threads = self.service.users().threads()

        def get(thread_id: str) -> Any:
            return threads.get(
                userId=self.user, id=thread_id, format="metadata",
                metadataHeaders=list(METADATA_HEADERS),
            )  # fmt: skip

        found = self._batched(thread_ids, get)
        items = [i for t in thread_ids for i in found.get(t, {}).get("messages", [])]
        names = self._names(label for item in items for label in item.get("labelIds", []))
        return [message_from_metadata(item, names) for item in items]

    def _metadata(self, ids: Sequence[str]) -> list[Message]:
        messages = self.service.users().messages()

        def get(message_id: str) -> Any:
            return messages.get(
                userId=self.user, id=message_id, format="metadata",
                metadataHeaders=list(METADATA_HEADERS),
            )  # fmt: skip

        found = self._batched(ids, get)
        items = [found[i] for i in ids if i in found]
        names = self._names(label for item in items for label in item.get("labelIds", []))
        return [message_from_metadata(item, names) for item in items]

    def _names(self, labels: Iterable[str]) -> Mapping[str, str]:
        """Label id → name, listed again (`users.labels.list`, 1 unit) only when a label
        not seen yet turns up, and at most once a poll: an idle poll, or one whose
        messages carry known labels, costs nothing more (docs/providers.md)."""
        unknown = set(labels) - self._label_names.keys()
        if unknown and not self._labels_read:
            self._labels_read = True
            found = self._execute(self.service.users().labels().list(userId=self.user))
            self._label_names = {
                str(x["id"]): str(x.get("name", "")) for x in found.get("labels", [])
            }
        return self._label_names

    # --- later polls ---------------------------------------------------------------------

    def _poll(self, state: SyncState) -> None:
        changes, history_id = self._history(str(state.history_id))
        state.drop(changes.deleted)
        known = state.threads()
        new_threads = sorted(t for t in changes.sent_threads if t and t not in known)
        state.put(self._threads(new_threads))
        fetch = sorted(i for i in changes.added if i not in state.headers)
        state.put(self._metadata(fetch))
        names = self._names(label for labels in changes.labels.values() for label in labels)
        for key, labels in changes.labels.items():
            cached = state.headers.get(key)
            if cached is not None and key not in changes.deleted:
                state.put([_marked(relabelled(cached, folder_of(labels)), labels, names)])
        state.advance(history_id)
        if self.drafts is not None:
            self.drafts.saw(changes)

    def _history(self, start: str) -> tuple[HistoryChanges, str]:
        history = self.service.users().history()
        changes, token, latest = HistoryChanges(), None, start
        while True:
            request = history.list(
                userId=self.user, startHistoryId=start, historyTypes=list(HISTORY_TYPES),
                maxResults=PAGE_SIZE, pageToken=token,
            )  # fmt: skip
            try:
                page = self._execute(request)
            except GmailError as error:
                if error.status == 404:
                    raise CursorExpired(str(error)) from error  # the stored id is too old
                raise
            for record in page.get("history", []):
                changes.read(record)
            # The id to store comes with the last page (docs/providers.md).
            latest, token = str(page.get("historyId", latest)), page.get("nextPageToken")
            if not token:
                return changes, latest

    def _batched(self, ids: Sequence[str], request: Callable[[str], Any]) -> dict[str, Any]:
        return self.batches.run(ids, request)


def _unread(listed: dict[str, str], known: set[str]) -> tuple[list[str], list[str]]:
    """What to read of the listed messages (id → thread) outside the threads `known`:
    (threads holding two or more of them, read whole: one `threads.get`, 10 units,
    instead of 5 a message; the other messages, one by one)."""
    by_thread: dict[str, list[str]] = {}
    for message_id, thread_id in listed.items():
        if thread_id not in known:
            by_thread.setdefault(thread_id or message_id, []).append(message_id)
    whole = sorted(t for t, ids in by_thread.items() if len(ids) > 1)
    alone = sorted(ids[0] for ids in by_thread.values() if len(ids) == 1)
    return whole, alone


def _unwatched(count: int) -> None:
    """Progress nobody watches."""


def _content(item: dict[str, Any]) -> Content:
    data = base64.urlsafe_b64decode(item["raw"] + "=" * (-len(item["raw"]) % 4))
    return mime.content_of(data)
