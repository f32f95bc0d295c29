"""What an IMAP poll reads: every folder once, then only what changed (RFC 7162).

Each folder has a cursor: (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, MESSAGES, role). A poll
starts with one LIST-STATUS command (RFC 5819) that gives every folder's counters in
one round trip — an idle mailbox costs nothing more. A folder whose counters moved is
opened read-only (EXAMINE):

- with QRESYNC, given its cursor, the server names the UIDs expunged since
  (`VANISHED (EARLIER)`, RFC 7162 §3.2.5); the new messages are the UIDs from the old
  UIDNEXT on (UIDs only grow, RFC 3501 §2.3.1.1): O(changes) in all;
- without it, new messages are found the same way, and an expunge (the count does not
  add up) by listing the folder's UIDs (UID SEARCH ALL);
- without CONDSTORE at all there is no HIGHESTMODSEQ: UIDNEXT and MESSAGES still show
  every arrival and removal. Flag changes go unseen, and no decision reads a flag.

A new UIDVALIDITY means the server renumbered the folder: its messages are read again in
full. A folder gone from the listing takes its messages with it. Headers are
`HEADER.FIELDS` of the fields a `Message` is built from, through `BODY.PEEK` (never
marking mail read); `Received`, which can be long, is fetched only for the rare message
without a usable Date, and INTERNALDATE stands in after it. A message in a folder named
`ghostwatch/mute` (any separator) carries that mark: the user copied it there
(docs/rules.md, "The mailbox as the control panel"); a new folder is read whole, and
one gone takes its copies with it, so the mark comes and goes with the next poll.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from imapclient import IMAPClient

from ghostwatch.mail import parse
from ghostwatch.model.mail import Folder, Message, marks_named
from ghostwatch.providers.imap import commands
from ghostwatch.providers.imap.commands import Fetched, Listed, Opened
from ghostwatch.providers.imap.folders import Key, readable, role_of
from ghostwatch.providers.imap.session import ImapSession

log = structlog.get_logger(__name__)

FIELDS = tuple(name for name in parse.HEADER_NAMES if name != "received")
HEADERS = commands.header_section(FIELDS)
RECEIVED = commands.header_section(["received"])


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where one folder's sync stands."""

    uidvalidity: int
    uidnext: int
    modseq: int | None
    messages: int
    role: Folder

    def unchanged(self, status: dict[str, int], role: Folder) -> bool:
        if role != self.role or status.get("UIDVALIDITY") != self.uidvalidity:
            return False
        if self.modseq is not None and "HIGHESTMODSEQ" in status:
            return status["HIGHESTMODSEQ"] == self.modseq
        return (status.get("UIDNEXT"), status.get("MESSAGES")) == (self.uidnext, self.messages)


@dataclass(slots=True)
class SyncState:
    """Every folder's cursor and the headers it covers (folder → UID → message)."""

    cursors: dict[str, Cursor] = field(default_factory=dict)
    headers: dict[str, dict[int, Message]] = field(default_factory=dict)

    def flat(self) -> dict[str, Message]:
        return {m.key: m for folder in self.headers.values() for m in folder.values()}

    def dump(self) -> str:
        folders = {name: [c.uidvalidity, c.uidnext, c.modseq, c.messages, c.role.value]
                   for name, c in sorted(self.cursors.items())}  # fmt: skip
        return json.dumps({"folders": folders}, sort_keys=True)

    @classmethod
    def load(cls, cursor: str | None, headers: list[Message]) -> SyncState:
        data: dict[str, Any] = json.loads(cursor) if cursor else {}
        state = cls()
        for name, (validity, uidnext, modseq, count, role) in (data.get("folders") or {}).items():
            state.cursors[name] = Cursor(validity, uidnext, modseq, count, Folder(role))
            state.headers[name] = {}
        for message in headers:
            key = Key.parse_or_none(message.key)
            known = state.cursors.get(key.folder) if key is not None else None
            if key is not None and known is not None and known.uidvalidity == key.uidvalidity:
                state.headers[key.folder][key.uid] = message
        return state


class Poller:
    """Brings a `SyncState` up to date with the server (see the module's docstring)."""

    def __init__(self, session: ImapSession) -> None:
        self.session = session
        self._said_no_condstore = False
        self.fetched = 0
        """Headers fetched so far (the benchmark holds a poll with k changes to O(k))."""

    def poll(self, state: SyncState, progress: Callable[[int], None] | None = None) -> None:
        self.session.call(lambda client: self._poll(client, state, progress))

    def _poll(
        self, client: IMAPClient, state: SyncState, progress: Callable[[int], None] | None
    ) -> None:
        folders = [f for f in self.listing(client) if readable(f)]
        opened = False
        for folder in folders:
            role, known = role_of(folder), state.cursors.get(folder.name)
            if known is not None and known.unchanged(folder.status, role):
                continue
            opened = True
            read = self._changes if known is not None else self._whole
            read(client, state, folder.name, role)
            if progress is not None:
                progress(len(state.headers[folder.name]))
        for gone in set(state.cursors) - {f.name for f in folders}:
            del state.cursors[gone]
            state.headers.pop(gone, None)
        if opened:
            self._leave(client)

    # --- the listing ---------------------------------------------------------------------

    def listing(self, client: IMAPClient) -> list[Listed]:
        """Every folder with its counters: one LIST-STATUS, else LIST and pipelined STATUS."""
        modseq = self._condstore()
        if self.session.has("LIST-STATUS"):
            return commands.list_status(client, modseq)
        folders = commands.list_folders(client, self.session.has("SPECIAL-USE"))
        names = [f.name for f in folders if readable(f)]
        status = commands.status_each(client, names, modseq) if names else {}
        return [replace(f, status=status.get(f.name, {})) for f in folders]

    def _condstore(self) -> bool:
        has = self.session.has("CONDSTORE") or self.session.has("QRESYNC")
        if not has and not self._said_no_condstore:
            self._said_no_condstore = True
            log.warning("imap_without_condstore", fallback="UIDNEXT and message counts")
        return has

    def _leave(self, client: IMAPClient) -> None:
        """Nothing stays selected between polls: STATUS of a selected folder may lag."""
        if self.session.has("UNSELECT"):
            commands.unselect(client)

    # --- reading a folder ---------------------------------------------------------------

    def _whole(self, client: IMAPClient, state: SyncState, name: str, role: Folder) -> None:
        opened = commands.examine(client, name)
        fetched = commands.fetch(client, b"1:*", HEADERS) if opened.exists else []
        held: dict[int, Message] = {}
        self._store(client, held, name, role, opened, fetched)
        # Both at once: a connection lost before this line leaves the folder as it was.
        state.headers[name] = held
        state.cursors[name] = _cursor(opened, fetched, len(held), role)

    def _changes(self, client: IMAPClient, state: SyncState, name: str, role: Folder) -> None:
        known = state.cursors[name]
        qresync = self.session.has("QRESYNC") and known.modseq is not None
        since = (known.uidvalidity, known.modseq or 0) if qresync else None
        opened = commands.examine(client, name, since)
        if opened.uidvalidity != known.uidvalidity or known.role != role:
            log.info("imap_folder_renumbered", action="read again in full")
            self._whole(client, state, name, role)
            return
        held = state.headers.setdefault(name, {})
        for uid in opened.vanished:
            held.pop(uid, None)
        fetched: list[Fetched] = []
        if opened.uidnext > known.uidnext:
            found = commands.fetch(client, f"{known.uidnext}:*".encode(), HEADERS)
            fetched = [f for f in found if f.uid >= known.uidnext]  # `N:*` always has one
        self._store(client, held, name, role, opened, fetched)
        if len(held) != opened.exists:
            present = commands.search_all(client)
            for uid in set(held) - present:
                del held[uid]
        state.cursors[name] = _cursor(opened, fetched, len(held), role, known.uidnext)

    def _store(
        self,
        client: IMAPClient,
        held: dict[int, Message],
        name: str,
        role: Folder,
        opened: Opened,
        fetched: list[Fetched],
    ) -> None:
        undated: list[Fetched] = []
        self.fetched += len(fetched)
        marks = marks_named([name])
        for item in fetched:
            message = parse.parse_block(item.data, _key(name, opened, item), role)
            held[item.uid] = replace(message, marks=marks) if marks else message
            if message.date is None:
                undated.append(item)
        if undated:
            self._date_undated(client, held, name, role, opened, undated)

    def _date_undated(
        self,
        client: IMAPClient,
        held: dict[int, Message],
        name: str,
        role: Folder,
        opened: Opened,
        undated: list[Fetched],
    ) -> None:
        """The Date is missing or unusable: the first Received line, then INTERNALDATE,
        as the Maildir reader falls back to the delivery time."""
        uids = commands.uid_set(f.uid for f in undated)
        received = {f.uid: f.data for f in commands.fetch(client, uids, RECEIVED)}
        for item in undated:
            block = item.data.rstrip(b"\r\n") + b"\r\n" + received.get(item.uid, b"")
            key = _key(name, opened, item)
            message = parse.parse_block(block, key, role, item.internaldate)
            held[item.uid] = replace(message, marks=held[item.uid].marks)


def _key(name: str, opened: Opened, item: Fetched) -> str:
    return str(Key(name, opened.uidvalidity, item.uid))


def _cursor(
    opened: Opened, fetched: list[Fetched], count: int, role: Folder, floor: int = 1
) -> Cursor:
    # A message delivered between EXAMINE and FETCH is already held: start past it.
    uidnext = max([opened.uidnext, floor, *(f.uid + 1 for f in fetched)])
    return Cursor(opened.uidvalidity, uidnext, opened.highestmodseq, count, role)
