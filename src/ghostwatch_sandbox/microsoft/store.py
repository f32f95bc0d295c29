"""The in-memory state of one Exchange mailbox as Graph shows it: folders, messages, ids.

Every message has two ids (https://learn.microsoft.com/en-us/graph/outlook-immutable-id):
an immutable id that never changes, and the default REST id, which changes when the
message moves to another folder. Lookups accept either; answers show the one the
request prefers (`Prefer: IdType="ImmutableId"`).

Delta sync state: every change bumps `seq` and stamps the message with the seq at which
it last changed in each folder it entered or left. A delta round for a folder since
seq `s` is every message stamped there after `s`: still in the folder → the message,
gone → `@removed`. Rounds older than `oldest_seq` are forgotten (410, `delta.py`).
Folders are stamped the same way when they are made, moved or deleted (folder delta,
`folders.py`). Deleting a folder through the API moves it into Deleted Items, as Outlook
does; `permanentDelete` removes it with its subfolders and messages.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ghostwatch.mail import parse
from ghostwatch_sandbox.google.message import subject_key
from ghostwatch_sandbox.microsoft.errors import not_found
from ghostwatch_sandbox.microsoft.leeway import REFERENCE, Leeway

ROOT = "msgfolderroot"
"""Top of Information Store: the parent of the top-level folders, itself never listed."""
TOP_LEVEL = {
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "outbox": "Outbox",
    "archive": "Archive",
    "conversationhistory": "Conversation History",
    "syncissues": "Sync Issues",
}
SYNC_ISSUES = {"conflicts": "Conflicts", "localfailures": "Local Failures",
               "serverfailures": "Server Failures"}  # fmt: skip
"""Children of Sync Issues, each a well-known folder of its own."""
WELL_KNOWN = frozenset({ROOT, *TOP_LEVEL, *SYNC_ISSUES})
"""The well-known names the sandbox has (https://learn.microsoft.com/en-us/graph/api/resources/mailfolder)."""


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
    properties: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Single-value extended properties a client set: lower-cased id → (id, value)."""
    categories: list[str] = field(default_factory=list)
    """The message's `categories` (writable by create or PATCH, on any message)."""

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")

    @property
    def references(self) -> tuple[str, ...]:
        values = [self.header("In-Reply-To"), self.header("References")]
        return parse.message_ids([v for v in values if v])

    def id_for(self, immutable: bool) -> str:
        return self.immutable_id if immutable else self.rest_id


@dataclass(slots=True)
class MailFolder:
    """A mail folder: a well-known one (key = its well-known name) or a user's (key made
    from its place and name). A search folder has a `search` filter and holds no mail."""

    key: str
    name: str
    parent: str | None
    """The parent's key; None for the root only."""
    serial: int
    touched: int = 0
    """The seq of its last change (create, rename, move, delete), for folder delta."""
    hidden: bool = False
    search: str | None = None
    deleted: bool = False


def _well_known() -> dict[str, MailFolder]:
    serials = itertools.count(1)
    folders = {ROOT: MailFolder(ROOT, "Top of Information Store", None, next(serials))}
    for key, name in TOP_LEVEL.items():
        folders[key] = MailFolder(key, name, ROOT, next(serials))
    for key, name in SYNC_ISSUES.items():
        folders[key] = MailFolder(key, name, "syncissues", next(serials))
    return folders


@dataclass
class GraphMailbox:
    user: str
    user_id: str
    messages: dict[str, GraphMessage] = field(default_factory=dict)
    """immutable id → message, deleted ones included (delta reports their removal)."""
    folders: dict[str, MailFolder] = field(default_factory=_well_known)
    """folder key → folder, deleted ones included (folder delta reports their removal)."""
    seq: int = 0
    oldest_seq: int = 0
    leeway: Leeway = REFERENCE
    """Which freedoms of the reference this mailbox takes (`leeway.py`)."""
    _rest: dict[str, str] = field(default_factory=dict)
    _by_rfc_id: dict[str, str] = field(default_factory=dict)
    _serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _folder_serials: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _id_keys: dict[str, str] = field(default_factory=dict)

    # -- folders ------------------------------------------------------------------------
    def folder_key(self, name_or_id: str) -> str:
        """A well-known name (any case) or a folder id of a folder that exists, or 404."""
        lowered = name_or_id.lower()
        key = lowered if lowered in WELL_KNOWN else self._folder_ids().get(name_or_id)
        if key is None or self.folders[key].deleted:
            raise not_found("The specified folder could not be found in the store.")
        return key

    def _folder_ids(self) -> dict[str, str]:
        # Folders are never dropped from `folders` (deleted ones stay, flagged): a count
        # that changed means new ones.
        if len(self._id_keys) != len(self.folders):
            self._id_keys = {self.folder_id(key): key for key in self.folders}
        return self._id_keys

    def folder_id(self, key: str) -> str:
        return opaque("AQMkA", self.user, "folder", key)

    def live_folders(self) -> Iterator[MailFolder]:
        return (f for f in self.folders.values() if not f.deleted)

    def children(self, key: str) -> list[MailFolder]:
        return sorted((f for f in self.live_folders() if f.parent == key), key=lambda f: f.name)

    def add_folder(
        self, parent: str, name: str, *, hidden: bool = False, search: str | None = None
    ) -> MailFolder:
        serial = next(self._folder_serials)
        key = opaque("", "user-folder", parent, name.lower(), serial)[:16].lower()
        self.seq += 1
        folder = MailFolder(key, name, parent, serial, self.seq, hidden, search)
        self.folders[key] = folder
        return folder

    def child_named(self, parent: str, name: str) -> MailFolder | None:
        wanted = name.lower()
        return next((f for f in self.children(parent) if f.name.lower() == wanted), None)

    def move_folder(self, key: str, parent: str) -> None:
        """A folder keeps its id when it moves (a deleted one goes to Deleted Items)."""
        self.seq += 1
        self.folders[key].parent = parent
        self.folders[key].touched = self.seq

    def purge_folder(self, key: str) -> None:
        """Gone for good, its subfolders and its messages with it."""
        for child in self.children(key):
            self.purge_folder(child.key)
        for message in list(self.in_folder(key)):
            self.delete(message)
        self.seq += 1
        self.folders[key].deleted = True
        self.folders[key].touched = self.seq

    def within(self, key: str, ancestor: str) -> bool:
        """Whether `key` is `ancestor` or somewhere below it."""
        found: str | None = key
        while found is not None:
            if found == ancestor:
                return True
            found = self.folders[found].parent
        return False

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
