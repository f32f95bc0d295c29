"""The in-memory state of one Exchange mailbox as Graph shows it: folders, messages, ids.

Every message has two ids (https://learn.microsoft.com/en-us/graph/outlook-immutable-id):
an immutable id that never changes, and the default REST id, which changes when the
message moves to another folder. Lookups accept either; answers show the one the
request prefers (`Prefer: IdType="ImmutableId"`).

Delta sync state: every change bumps `seq` and stamps the message with the seq at which
it last changed in each folder it entered or left. A delta round for a folder since
seq `s` is every message stamped there after `s`: still in the folder → the message,
gone → `@removed`. Rounds older than `oldest_seq` are forgotten (410, `delta.py`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ghostwatch import parse
from ghostwatch.sandbox.graph.errors import not_found
from ghostwatch.sandbox.message import subject_key

WELL_KNOWN = ("inbox", "sentitems", "junkemail", "drafts", "deleteditems", "archive")
DISPLAY_NAMES = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "junkemail": "Junk Email",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
}


def opaque(prefix: str, *parts: object) -> str:
    """An Exchange-looking id: a fixed prefix and url-safe base64 (no padding)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest[:30]).decode().rstrip("=")


@dataclass(slots=True)
class Recipient:
    name: str
    address: str


@dataclass(slots=True)
class GraphMessage:
    serial: int
    immutable_id: str
    rest_id: str
    folder: str | None
    """A folder key (a well-known name or a user folder's id); None once deleted."""
    conversation_id: str
    subject: str
    sender: Recipient | None
    to: list[Recipient]
    cc: list[Recipient]
    bcc: list[Recipient]
    received: datetime
    sent: datetime | None
    internet_message_id: str
    headers: list[tuple[str, str]]
    """All header fields, in order (the MIME's own, or the ones an API create made)."""
    body: str
    body_type: str = "text"
    raw: bytes | None = None
    """The MIME the seed read; None for messages created through the API."""
    is_draft: bool = False
    is_read: bool = True
    version: int = 1
    touched: dict[str, int] = field(default_factory=dict)
    flag_change_only: bool = False
    """The last change only flipped isRead: delta then sends a slim item (see delta.py)."""

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")

    @property
    def references(self) -> tuple[str, ...]:
        values = [self.header("In-Reply-To"), self.header("References")]
        return parse.message_ids([v for v in values if v])

    def id_for(self, immutable: bool) -> str:
        return self.immutable_id if immutable else self.rest_id


@dataclass
class GraphMailbox:
    user: str
    user_id: str
    messages: dict[str, GraphMessage] = field(default_factory=dict)
    """immutable id → message, deleted ones included (delta reports their removal)."""
    folders: dict[str, str] = field(default_factory=lambda: dict(DISPLAY_NAMES))
    """folder key → display name."""
    seq: int = 0
    oldest_seq: int = 0
    _rest: dict[str, str] = field(default_factory=dict)
    _by_rfc_id: dict[str, str] = field(default_factory=dict)
    _serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- folders ------------------------------------------------------------------------
    def folder_key(self, name_or_id: str) -> str:
        """A well-known name (any case), a folder id, or 404."""
        lowered = name_or_id.lower()
        if lowered in self.folders:
            return lowered
        for key in self.folders:
            if self.folder_id(key) == name_or_id:
                return key
        raise not_found("The specified folder could not be found in the store.")

    def folder_id(self, key: str) -> str:
        return opaque("AQMkA", self.user, "folder", key)

    def user_folder(self, name: str) -> str:
        key = opaque("", "user-folder", name.lower())[:16].lower()
        self.folders.setdefault(key, name)
        return key

    # -- messages -----------------------------------------------------------------------
    def get(self, message_id: str) -> GraphMessage:
        found = self.messages.get(self._rest.get(message_id, message_id))
        if found is None or found.folder is None:
            raise not_found()
        return found

    def in_folder(self, key: str) -> Iterator[GraphMessage]:
        return (m for m in self.messages.values() if m.folder == key)

    def by_internet_id(self, value: str) -> list[GraphMessage]:
        return [m for m in self.messages.values() if m.folder and m.internet_message_id == value]

    def new_serial(self) -> int:
        return next(self._serials)

    def add(self, message: GraphMessage) -> GraphMessage:
        self.messages[message.immutable_id] = message
        self._rest[message.rest_id] = message.immutable_id
        own = parse.message_ids([message.internet_message_id])
        if own:
            self._by_rfc_id.setdefault(own[0], message.conversation_id)
        self._touch(message, message.folder)
        return message

    def conversation_for(self, references: tuple[str, ...], subject: str, serial: int) -> str:
        """Exchange threads a reply into the conversation of a message it references."""
        for ref in reversed(references):
            if ref in self._by_rfc_id:
                return self._by_rfc_id[ref]
        return opaque("AAQkA", self.user, "conversation", subject_key(subject), serial)

    def changed(self, message: GraphMessage, flag_only: bool = False) -> None:
        message.version += 1
        message.flag_change_only = flag_only
        self._touch(message, message.folder)

    def move(self, message: GraphMessage, destination: str) -> None:
        """A move leaves the old folder and enters the new one; the REST id changes."""
        old = message.folder
        del self._rest[message.rest_id]
        message.rest_id = opaque("AAMkA", self.user, "rest", message.serial, self.seq + 1)
        self._rest[message.rest_id] = message.immutable_id
        message.folder = destination
        message.version += 1
        message.flag_change_only = False
        self.seq += 1
        if old is not None:
            message.touched[old] = self.seq
        message.touched[destination] = self.seq

    def delete(self, message: GraphMessage) -> None:
        old = message.folder
        message.folder = None
        self._rest.pop(message.rest_id, None)
        self.seq += 1
        if old is not None:
            message.touched[old] = self.seq

    def _touch(self, message: GraphMessage, folder: str | None) -> None:
        self.seq += 1
        if folder is not None:
            message.touched[folder] = self.seq

    def expire_delta(self) -> None:
        """Forget every delta round so far, as Exchange does with old sync states."""
        self.seq += 1  # rounds that ended before now are older than any kept
        self.oldest_seq = self.seq


def new_ids(box: GraphMailbox, serial: int) -> tuple[str, str]:
    """(immutable id, REST id) for a new message."""
    immutable = opaque("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A", box.user, "immutable", serial)
    return immutable, opaque("AAMkA", box.user, "rest", serial, 0)
