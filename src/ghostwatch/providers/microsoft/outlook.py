"""Outlook / Microsoft 365 through Microsoft Graph: the `MailSource` read side.

Mail comes from one delta round per mail folder: the Inbox, Sent Items, Junk Email and
Drafts, and also Archive and every folder of the user's own, since a reply counts in any
folder (docs/rules.md; which folders: `folders.py`). The rounds are bundled into
JSON batches (`sync.py`) and select only what decisions read:
`internetMessageHeaders` (the same fields the Maildir reader parses), plus
`conversationId` and `receivedDateTime`. Exchange keeps no internet headers for the copy
in Sent Items; those messages' headers are read once from their MIME (`/$value`).
Message keys are immutable ids, so a message moved between folders (a junk rescue, an
archived reply) keeps its key. A message in a folder of no role (Archive,
Clients/Contoso) is role OTHER and carries its folder in `Message.place`, so a restarted
process files it back where it was. Bodies are the MIME (`/$value`), batched. Meetings
come from `calendar.py`.

`since` is a look-back: each folder's delta reads only mail received from then on
(`$filter=receivedDateTime ge …` on the first delta call), and then every conversation
that holds a message read is read whole (`older.py`), so decisions are those of a full
read while a first sync of a large mailbox stays small. The source keeps the folders'
state between polls. With `auto_commit=False` a poll is only staged: the caller makes
it current with `commit()` after recording what it decided, and may store `cursors`
(the folders' delta links) with `tx.set_cursor`. The cursor the cycle stores
(`delta()`) holds the delta links and the folder tree; one written before every folder
was read (the four links alone) is continued, and the other folders are read in full
once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import structlog

from ghostwatch.errors import GhostwatchError
from ghostwatch.mail import mime, parse
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Folder, Message, marks_named
from ghostwatch.model.sync import SyncDelta
from ghostwatch.providers.microsoft import older
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.drafts import DraftWatch
from ghostwatch.providers.microsoft.folders import ROLES, Tree, role_of
from ghostwatch.providers.microsoft.graph import BATCH_LIMIT, GraphClient, Part
from ghostwatch.providers.microsoft.sync import MAX_PAGE, FolderSync, Synced

log = structlog.get_logger(__name__)

SELECT = (
    "internetMessageHeaders,conversationId,receivedDateTime,"
    "from,sender,toRecipients,ccRecipients,internetMessageId,subject,categories"
)
"""The header block, and beside it the structured properties that say the same: the
reference promises the block only "headers indicating the network path taken by a
message" (resources/message; microsoft-graph-docs #3066, #6938 report From/To missing),
so a field the block lacks is taken from its property (docs/providers.md). `categories`:
the user's own marks (`ghostwatch/mute` …), read in the same delta, no request more."""
_STRUCTURED = {"from": "from", "sender": "sender", "to": "toRecipients", "cc": "ccRecipients"}
_ROLE_KEYS = {role: key for key, role in ROLES.items()}


UNDER_WAY = "under_way"
"""Set in a stored cursor whose links include a round cut short (a first sync's)."""


def _flat(synced: Synced) -> dict[str, Message]:
    """Every message once (one that moved may, for a poll, be in two folders' lists)."""
    return {key: m for folder in synced.items.values() for key, m in folder.items()}


def _placed(message: Message, folder: str, thread: object) -> Message:
    """The message in its conversation (Graph's `conversationId`, when given), with its
    folder itself when no role says it (`Message.place`); parsed with `role_of(folder)`."""
    place = None if folder in ROLES else folder
    thread_id = str(thread) if thread else message.thread_id
    return replace(message, place=place, thread_id=thread_id)


def _synced(cursor: str | None) -> Synced:
    """What a stored cursor says: `{"links", "tree"}`, or the four folders' links alone,
    as a cursor was before every folder was read; with `"older"` while the conversations
    of a look-back are being read whole (`older.py`). A first sync under way that does
    not say it has read none of them yet; any other cursor, all."""
    data: dict[str, Any] = json.loads(cursor) if cursor else {}
    if "links" not in data:
        return Synced(links={str(k): str(v) for k, v in data.items()}, tree=Tree(), older=None)
    older = data.get("older", "" if data.get(UNDER_WAY) else None)
    return Synced(links=dict(data["links"]), tree=Tree.from_data(data.get("tree")), older=older)


def received_of(item: dict[str, Any]) -> datetime | None:
    value = item.get("receivedDateTime")
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _people(value: Any) -> list[str]:
    """Graph's `{"emailAddress": {"name", "address"}}` (one, or a list) as addresses."""
    found = []
    for person in value if isinstance(value, list) else [value]:
        email = person.get("emailAddress") if isinstance(person, dict) else None
        if not isinstance(email, dict):
            continue
        address = " ".join(str(email.get("address") or "").split())
        if address:
            # One line, whatever a stranger sent; quoted as RFC 5322 §3.2.4 says, by hand:
            # `formataddr` refuses an address that is not ASCII, and any string may come.
            name = " ".join(str(email.get("name") or "").split())
            quoted = name.replace("\\", "\\\\").replace('"', '\\"')
            found.append(f'"{quoted}" <{address}>' if name and name != address else address)
    return found


def fields_of(item: dict[str, Any]) -> dict[str, list[str]]:
    """The header block's fields; one it lacks comes from the structured property."""
    fields: dict[str, list[str]] = {}
    for header in item.get("internetMessageHeaders") or []:
        fields.setdefault(str(header["name"]).lower(), []).append(str(header.get("value", "")))
    for name, prop in _STRUCTURED.items():
        if name not in fields and (people := _people(item.get(prop))):
            fields[name] = [", ".join(people)]
    for name, prop in (("message-id", "internetMessageId"), ("subject", "subject")):
        if name not in fields and item.get(prop):
            fields[name] = [str(item[prop])]
    return fields


def message_from_item(folder: str, item: dict[str, Any]) -> Message:
    """A delta item → `Message` (key = immutable id, thread = conversationId)."""
    fields = fields_of(item)
    message = parse.message_from_fields(fields, item["id"], role_of(folder), received_of(item))
    placed = _placed(message, folder, item.get("conversationId"))
    return _marked(placed, item.get("categories"), fields.get("keywords", []))


def _marked(message: Message, categories: Any, keywords: Iterable[str] = ()) -> Message:
    """The message's categories named `ghostwatch/…` as the user's marks — except those its
    own `Keywords` header names: Exchange turns a sender's Keywords into categories
    (PidLidCategories: "each category should be mapped to a single keyword", MS-OXCMAIL),
    and a stranger must not be able to mute a conversation by writing one."""
    names = [str(c) for c in categories] if isinstance(categories, list) else []
    written = {k.strip().lower() for line in keywords for k in line.split(",")}
    marks = marks_named(n for n in names if n.strip().lower() not in written)
    return replace(message, marks=marks) if marks != message.marks else message


class OutlookSource:
    """One Outlook mailbox, read through Graph (implements `MailSource` and
    `IncrementalSource`: the cycle stores the folders' delta links with the headers they
    cover, so a restarted process continues the deltas instead of reading everything)."""

    sync_name = "outlook"

    def __init__(
        self,
        client: GraphClient,
        calendar: OutlookCalendar | None = None,
        *,
        auto_commit: bool = True,
        page_size: int = MAX_PAGE,
        since: datetime | None = None,
        body_limit: int = mime.MAX_BODY_BYTES,
        drafts: DraftWatch | None = None,
    ) -> None:
        self.client = client
        self.drafts = drafts
        """Told what each poll saw of Drafts (shared with the account's `OutlookActions`,
        which then reads Drafts only when they changed: `drafts.py`)."""
        self.body_limit = body_limit
        """At most this much of a body is parsed (Graph's `$value` has no partial read)."""
        self.calendar = calendar
        self.auto_commit = auto_commit
        self.sync = FolderSync(
            client,
            None,  # every mail folder of the mailbox
            SELECT,
            message_from_item,
            page_size,
            complete=lambda item: bool(item.get("internetMessageHeaders")),
            repair=self._from_mime,
            since=since,
            whole=older.Conversations(),
        )
        self._staged: Synced | None = None
        self._cut_short = False
        """The staged state is what a failed poll read: kept, but not a whole poll."""
        self._under_way = False
        """The stored state is a first sync cut short (its cursor says `UNDER_WAY`)."""
        self._read: dict[str, Message] = {}
        """The last poll's messages, by key."""
        self._bodies: dict[str, tuple[Message, Content]] = {}
        """Bodies read, with the message as it was when read (see `load_content`)."""
        self._stored: Synced | None = None
        """What the store holds (None: never resumed, as in a one-shot scan)."""

    def signed_in_address(self) -> str:
        """The mailbox's own address: the user's `mail`, else its `userPrincipalName`
        (https://learn.microsoft.com/en-us/graph/api/user-get: GET /me, or
        /users/{id | userPrincipalName} for an app-only token)."""
        params = {"$select": "mail,userPrincipalName"}
        user = self.client.request("GET", self.client.mailbox, params=params).json()
        return str(user.get("mail") or user.get("userPrincipalName") or "")

    # --- IncrementalSource -------------------------------------------------------------

    def resume(self, cursor: str | None, headers: Iterable[Message]) -> None:
        stored = _synced(cursor)
        self._under_way = bool(cursor) and UNDER_WAY in json.loads(str(cursor))
        items: dict[str, dict[str, Message]] = {}
        for message in headers if stored.links else ():
            folder = message.place or _ROLE_KEYS.get(message.folder)
            if folder is not None:
                items.setdefault(folder, {})[message.key] = message
        self._stored = replace(stored, items=items, older=stored.older if cursor else "")
        self.sync.commit(self._stored)

    @property
    def resumed(self) -> bool:
        return self._stored is not None

    def delta(self) -> SyncDelta | None:
        """The difference between what the store holds and the newest poll."""
        current = self._staged or self.sync.committed
        if not current.links:
            return None
        stored = self._stored or Synced()
        before, after = _flat(stored), _flat(current)
        upserts = {key: m for key, m in after.items() if before.get(key) != m}
        removed = set(before) - set(after)
        tree = (current.tree or Tree()).data()
        partial = self._cut_short and self._staged is not None
        data: dict[str, Any] = {"links": dict(sorted(current.links.items())), "tree": tree}
        if current.older is not None and self.sync.since is not None:
            data["older"] = current.older
        cursor = json.dumps(data | {UNDER_WAY: True} if partial else data)
        first = partial or not stored.links or self._under_way
        return SyncDelta(cursor, upserts, removed, reset=not stored.links, partial=partial,
                         first_sync=first)  # fmt: skip

    def committed(self) -> None:
        self._under_way = self._cut_short and self._staged is not None
        self.commit()
        self._stored = self.sync.committed

    # --- cursors ------------------------------------------------------------------------

    @property
    def cursors(self) -> dict[str, str]:
        """Folder → committed delta link (what the next poll continues from)."""
        return dict(self.sync.committed.links)

    def commit(self) -> dict[str, str]:
        """Make the last poll current; returns the new cursors to store."""
        if self._staged is not None:
            self.sync.commit(self._staged)
            self._staged, self._cut_short = None, False
        return self.cursors

    def _from_mime(self, wanted: list[tuple[str, dict[str, Any]]]) -> dict[str, Message]:
        """Messages Graph gave no headers for (Sent Items), read from their MIME: the same
        header block the Maildir reader parses. Batched, 20 to a request."""
        box = self.client.mailbox
        parts = [Part(f"v{n}", f"{box}/messages/{item['id']}/$value")
                 for n, (_, item) in enumerate(wanted)]  # fmt: skip
        slim = [
            (n, item["id"]) for n, (_, item) in enumerate(wanted) if "conversationId" not in item
        ]
        parts += [Part(f"p{n}", f"{box}/messages/{key}?$select={SELECT}") for n, key in slim]
        answers = self.client.batch(parts)
        found: dict[str, Message] = {}
        for n, (folder, item) in enumerate(wanted):
            mime, props = answers[f"v{n}"], answers.get(f"p{n}")
            if not mime.ok():
                log.info("outlook_message_unread", status=mime.status)
                continue
            full = {**item, **(props.json() if props is not None and props.ok() else {})}
            message = parse.parse_headers(mime.content(), item["id"], role_of(folder),
                                          received_of(full))  # fmt: skip
            placed = _placed(message, folder, full.get("conversationId"))
            head = BytesHeaderParser(policy=compat32).parsebytes(mime.content())
            found[item["id"]] = _marked(
                placed, full.get("categories"), head.get_all("Keywords", [])
            )
        return found

    # --- MailSource ---------------------------------------------------------------------

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        try:
            staged = self.sync.poll()
        except GhostwatchError:
            # What it read stays staged: the cycle stores it with its record (`delta`,
            # partial), so the next one carries on from there instead of starting over.
            self._staged, self._cut_short = self.sync.progress, True
            raise
        self._staged, self._cut_short = staged, False
        if self.drafts is not None:
            self.drafts.saw(staged.touched)
        if self.auto_commit:
            self.commit()
        self._read = _flat(staged)
        messages = list(self._read.values())
        if progress is not None:
            progress(len(messages))
        return messages

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies (`/$value`, batched), each read once per process while its message is
        unchanged: a poll that brings the message again (an edit, a move) reads it anew,
        and a draft, which the user may rewrite under the same id, is never kept."""
        contents: dict[str, Content] = {}
        wanted = []
        for key in sorted(set(keys)):
            kept = self._bodies.get(key)
            if kept is not None and kept[0] == self._read.get(key):
                contents[key] = kept[1]
            else:
                wanted.append(key)
        # A batch at a time, each kept as it comes: a cycle stopped by the quota half-way
        # leaves the next one only the rest to read.
        for start in range(0, len(wanted), BATCH_LIMIT):
            chunk = wanted[start : start + BATCH_LIMIT]
            parts = [Part(str(n), f"{self.client.mailbox}/messages/{key}/$value")
                     for n, key in enumerate(chunk)]  # fmt: skip
            answers = self.client.batch(parts)
            for n, key in enumerate(chunk):
                answer = answers[str(n)]
                if not answer.ok():
                    log.info("outlook_body_unread", status=answer.status)
                    continue
                contents[key] = mime.content_of(answer.content(), self.body_limit)
                message = self._read.get(key)
                if message is not None and message.folder != Folder.DRAFTS:
                    self._bodies[key] = (message, contents[key])
        return contents

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """The mailbox's calendar (and Teams attendance) when given one; else none."""
        return self.calendar.events(start, end) if self.calendar is not None else ()
