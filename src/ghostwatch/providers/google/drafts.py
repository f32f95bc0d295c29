"""Gmail's Drafts as the action ledger needs them, read only when history says they changed.

A draft is a message with the DRAFT label, so it comes and goes in `history.list` like any
other message (https://developers.google.com/gmail/api/guides/drafts): a draft made is a
`messagesAdded` with DRAFT; an edit replaces the draft's message (`drafts.update`: the old
one `messagesDeleted`, a new one added); a draft deleted is `messagesDeleted`; a draft
sent "is automatically deleted and a new message with an updated ID is created with the
SENT system label". The account's `GmailSource` already reads that history every poll, so
it tells a `DraftWatch` what it saw, and `GmailActions` answers the cycle's
`draft_listing` from the last listing while the history read since shows no draft change:
an idle cycle is then the poll's one `history.list` and nothing more (docs/providers.md).

The listing is trusted only when a history read that began before it, and every one
after it, showed nothing it cares about: a watch nobody polls for (no source shares it),
a history gap (a first sync, an expired id) or a write whose outcome is unknown make the
next `draft_listing` read Drafts again. A listing is `drafts.list` plus the
X-Ghostwatch-Step header of the drafts' messages not read before: a Gmail message never
changes (an edit is a new message), so a header read once is known for good.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ghostwatch.providers.google.batches import BATCH_SIZE
from ghostwatch.providers.google.quota import units
from ghostwatch.providers.google.sync import HistoryChanges
from ghostwatch.providers.port import DraftListing

log = structlog.get_logger(__name__)

STEP_HEADER = "X-Ghostwatch-Step"
"""The header `compose.drafts.draft_message` writes: the mailbox's own proof of a step."""
PAGE_SIZE = 500  # drafts.list maximum
DRAFT = "DRAFT"


@dataclass(slots=True)
class DraftWatch:
    """One mailbox's Drafts as last listed (kept up to date with ghostwatch's own writes),
    and whether history read since vouches for it."""

    drafts: dict[str, str] | None = None
    """message id → draft id, as last listed (None: not listed, or no longer trusted)."""
    steps: dict[str, str] = field(default_factory=dict)
    """message id → its X-Ghostwatch-Step ('' when it has none), for every message read."""
    vouched: bool = False
    """A history read since the listing (or since the listing was last used) saw no
    change to Drafts: the listing is the mailbox's Drafts as of that read."""

    def saw(self, changes: HistoryChanges) -> None:
        """A history read, contiguous with the one before it, came back with `changes`."""
        if self.drafts is None:
            return  # nothing listed yet: this read vouches for no listing
        if touches_drafts(changes, self.drafts.keys()):
            self.lost()
        else:
            self.vouched = True

    def lost(self) -> None:
        """Drafts may have changed unseen: read them again before trusting the listing."""
        self.drafts, self.vouched = None, False

    def current(self) -> DraftListing | None:
        """The listing, if history vouched for it since it was last used; each use takes
        the vouch, so a listing no poll has vouched for is never used twice."""
        if self.drafts is None or not self.vouched:
            return None
        self.vouched = False
        return self.listing()

    def listed(self, drafts: dict[str, str], steps: dict[str, str]) -> DraftListing:
        """Drafts as read just now: message id → draft id, message id → step."""
        known = {m: steps.get(m, self.steps.get(m)) for m in drafts}
        # A message that could not be read (gone between the list and the get) stays unread.
        self.steps = {m: step for m, step in known.items() if step is not None}
        self.drafts, self.vouched = dict(drafts), False
        return self.listing()

    def made(self, draft_id: str, message_id: str | None, step: str) -> None:
        """ghostwatch saved a draft: the next history read shows it, as known."""
        if self.drafts is None:
            return
        if not message_id:
            self.lost()  # an answer without the message: only a listing can say
            return
        self.drafts[message_id] = draft_id
        self.steps[message_id] = step

    def withdrawn(self, draft_id: str) -> None:
        """ghostwatch deleted a draft (or found it gone): it is no longer in Drafts."""
        if self.drafts is None:
            return
        for message_id in [m for m, d in self.drafts.items() if d == draft_id]:
            del self.drafts[message_id]
            self.steps.pop(message_id, None)

    def listing(self) -> DraftListing:
        drafts = self.drafts or {}
        steps = {self.steps[m]: d for m, d in drafts.items() if self.steps.get(m)}
        return DraftListing(ids=frozenset(drafts.values()), steps=steps)

    def unread(self, message_ids: Iterable[str]) -> list[str]:
        """The messages whose step header has not been read yet."""
        return [m for m in message_ids if m not in self.steps]


def touches_drafts(changes: HistoryChanges, known: Iterable[str]) -> bool:
    """Whether a history read shows a draft made, changed, sent or deleted that the
    listing of `known` messages does not already hold: a message added with DRAFT that
    is not known, or a known one deleted or no longer labelled DRAFT. A message added
    without its labels in the record counts as a draft (unknown is not "no")."""
    held = set(known)
    for message_id in changes.added:
        if message_id not in held and DRAFT in changes.labels.get(message_id, [DRAFT]):
            return True
    if held & changes.deleted:
        return True
    return any(m in held and DRAFT not in labels for m, labels in changes.labels.items())


# --- reading Drafts -----------------------------------------------------------------------


Execute = Callable[..., Any]
"""`GmailActions._execute`: a request (with `cost=` units for a batch) under the policy."""


class DraftsReader:
    """`drafts.list`, and the step header of messages not read before (batched)."""

    def __init__(self, service: Any, execute: Execute, batch_uri: str | None, user: str) -> None:
        self.service = service
        self.execute = execute
        self.batch_uri = batch_uri
        self.user = user

    def drafts(self) -> Iterator[tuple[str, str]]:
        """(message id, draft id) of every draft."""
        drafts = self.service.users().drafts()
        token: str | None = None
        while True:
            request = drafts.list(userId=self.user, maxResults=PAGE_SIZE, pageToken=token)
            page = self.execute(request)
            for item in page.get("drafts", []):
                yield item["message"]["id"], item["id"]
            token = page.get("nextPageToken")
            if not token:
                return

    def step_headers(self, message_ids: list[str], error: type[Exception]) -> dict[str, str]:
        """message id → X-Ghostwatch-Step ('' if none). `drafts.get` takes no
        `metadataHeaders` (discovery document), so `messages.get` reads the one header.
        Raises `error` when a draft could not be read: a step missing from the answer
        reads as "deleted by the user", so not knowing must not look like absence."""
        messages = self.service.users().messages()
        steps: dict[str, str] = {}
        failed: list[int | None] = []

        def keep(request_id: str, response: Any, problem: Exception | None) -> None:
            if problem is not None:
                status = problem.resp.status if isinstance(problem, HttpError) else None
                # Deleted or sent between the list and the get: it proves nothing.
                if status != 404:
                    failed.append(status)
                log.info("gmail_draft_unread", id=request_id, status=status)
                return
            if not isinstance(response, dict):  # a part whose JSON did not parse
                failed.append(None)
                return
            steps[request_id] = header(response, STEP_HEADER) or ""

        for start in range(0, len(message_ids), BATCH_SIZE):
            batch = BatchHttpRequest(callback=keep, batch_uri=self.batch_uri)
            chunk = message_ids[start : start + BATCH_SIZE]
            for message_id in chunk:
                get = messages.get(userId=self.user, id=message_id, format="metadata",
                                   metadataHeaders=[STEP_HEADER])  # fmt: skip
                batch.add(get, request_id=message_id)
            self.execute(batch, cost=units("messages.get") * len(chunk))
        if failed:
            raise error(f"could not read {len(failed)} drafts' headers: {failed[0]}")
        return steps


def header(item: dict[str, Any], name: str) -> str | None:
    for found in item.get("payload", {}).get("headers", []):
        if found.get("name", "").lower() == name.lower():
            return str(found.get("value", "")).strip()
    return None
