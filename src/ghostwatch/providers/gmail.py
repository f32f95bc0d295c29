"""Gmail through google-api-python-client: the `MailSource` read side.

Headers come from `messages.get(format=metadata)` with only the headers decisions read
(`metadataHeaders`), fetched in batches; bodies from `format=raw` for the few keys the
engine asks about. Message keys are Gmail message ids; thread ids are Gmail's.

References: Gmail API v1 `users.messages.list` / `users.messages.get`
(https://developers.google.com/gmail/api/reference/rest/v1/users.messages) and batching
(https://developers.google.com/gmail/api/guides/batch). The client's batch path ignores
`api_endpoint` (API-NOTES.md), so the batch URI is passed explicitly.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import structlog
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ghostwatch import mime, parse
from ghostwatch.model import CalendarEvent, Content, Folder, Message
from ghostwatch.providers.google_api import DEFAULT_POLICY, GoogleApiError, execute, google_service
from ghostwatch.providers.google_calendar import GoogleCalendar
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
BATCH_SIZE = 50  # Google's advice for Gmail batches (max 100)


class GmailError(GoogleApiError):
    """Gmail answered with an error ghostwatch cannot work around."""


def folder_of(labels: Iterable[str]) -> Folder:
    present = set(labels)
    return next((role for label, role in _ROLES if label in present), Folder.OTHER)


def message_from_metadata(item: dict[str, Any]) -> Message:
    """A `messages.get(format=metadata)` resource → `Message` (key = Gmail id)."""
    fields: dict[str, list[str]] = {}
    for header in item.get("payload", {}).get("headers", []):
        fields.setdefault(header["name"].lower(), []).append(header.get("value", ""))
    received = datetime.fromtimestamp(int(item.get("internalDate", "0")) / 1000, UTC)
    message = parse.message_from_fields(fields, item["id"], folder_of(item.get("labelIds", [])))
    fallback = message if message.date else _dated(message, received)
    return _threaded(fallback, item.get("threadId"))


def _dated(message: Message, when: datetime) -> Message:
    return replace(message, date=when)


def _threaded(message: Message, thread_id: str | None) -> Message:
    return replace(message, thread_id=thread_id) if thread_id else message


def gmail_service(api_endpoint: str, credentials: Any) -> Any:
    """The real client from its bundled discovery document, at `api_endpoint`."""
    return google_service("gmail", "v1", api_endpoint, credentials)


class GmailSource:
    """One Gmail mailbox, read through the API (implements `MailSource`)."""

    def __init__(
        self,
        service: Any,
        batch_uri: str | None = None,
        user: str = "me",
        calendar: GoogleCalendar | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.retry = retry
        self.service = service
        self.batch_uri = batch_uri
        self.user = user
        self.calendar = calendar

    def _execute(self, request: Any) -> Any:
        return execute(request, GmailError, policy=self.retry)

    # --- listing and batched gets ------------------------------------------------------

    def _ids(self) -> Iterator[str]:
        messages = self.service.users().messages()
        token: str | None = None
        while True:
            page = self._execute(
                messages.list(
                    userId=self.user,
                    includeSpamTrash=True,
                    maxResults=PAGE_SIZE,
                    pageToken=token,
                )
            )
            yield from (m["id"] for m in page.get("messages", []))
            token = page.get("nextPageToken")
            if not token:
                return

    def _batched(self, ids: Sequence[str], request: Callable[[str], Any]) -> dict[str, Any]:
        """Run `request(id)` for every id, BATCH_SIZE calls per HTTP request."""
        found: dict[str, Any] = {}
        failed: dict[str, HttpError] = {}

        def keep(request_id: str, response: Any, error: Exception | None) -> None:
            if isinstance(error, HttpError):
                failed[request_id] = error
            elif error is None:
                found[request_id] = response

        for start in range(0, len(ids), BATCH_SIZE):
            batch = BatchHttpRequest(callback=keep, batch_uri=self.batch_uri)
            for message_id in ids[start : start + BATCH_SIZE]:
                batch.add(request(message_id), request_id=message_id)
            self._execute(batch)
        for message_id, error in failed.items():
            log.warning("gmail_get_failed", id=message_id, status=error.resp.status)
        return found

    # --- MailSource --------------------------------------------------------------------

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        ids = list(self._ids())
        messages = self.service.users().messages()

        def get(message_id: str) -> Any:
            return messages.get(
                userId=self.user,
                id=message_id,
                format="metadata",
                metadataHeaders=list(METADATA_HEADERS),
            )

        items = self._batched(ids, get)
        if progress is not None:
            progress(len(ids))
        return [message_from_metadata(items[i]) for i in ids if i in items]

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        messages = self.service.users().messages()
        wanted = sorted(set(keys))
        raw = self._batched(wanted, lambda i: messages.get(userId=self.user, id=i, format="raw"))
        return {key: _content(item) for key, item in raw.items()}

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """The account's Calendar (and Meet attendance) when given one; no events otherwise."""
        return self.calendar.events(start, end) if self.calendar is not None else ()


def _content(item: dict[str, Any]) -> Content:
    data = base64.urlsafe_b64decode(item["raw"] + "=" * (-len(item["raw"]) % 4))
    return mime.extract_content(BytesParser(policy=compat32).parsebytes(data))
