"""Delta sync of Outlook mail folders: one delta per folder, all in one batch.

Graph tracks changes per folder (`mailFolders/{id}/messages/delta`,
https://learn.microsoft.com/en-us/graph/delta-query-messages). Each folder's round is one
request of a JSON batch, so an idle poll — every folder answering an empty page with its
delta link — is a single HTTP request while there are fewer than 20 folders; folders
with more pages keep going in the next batch until every one has its `@odata.deltaLink`.
A folder whose link is too old (`graph.expired`: 410, or a 4xx `syncState…`/`resync…`,
404 included) is read again in full, alone;
the others keep theirs.

The folders are given (Drafts, for the mailbox's proof of a step) or are every mail
folder of the mailbox (`folders.py`): then the folder tree's own delta rides in
the same batches, a folder that appears is read from scratch in the same poll, and one
that is deleted (or moved into Deleted Items) takes its messages with it.

A message that moves keeps its immutable id: it leaves one folder (`@removed`) and enters
another. Each folder's messages are kept apart, so the order in which the folders'
answers are applied cannot lose it; and a message that left a folder without turning up
in another read this poll (the batch may have read the second folder a moment before the
move) is looked up by id before it is let go: it is kept if it sits in a folder that is
read, and the tree is read again if its folder is one not known yet.

Exchange does not always send what `$select` asked: a read-state change comes as a slim
item (id, isRead, parentFolderId; microsoftgraph/microsoft-graph-docs#7776), which keeps
what was known, and some messages lack a property the owner needs (Sent Items have no
internet headers): those go to the owner's `repair`, in one batch after the rounds.

A poll never changes the committed state: `poll()` returns a `Synced` (the folders'
messages, their new delta links, the tree) that the owner makes current with `commit()`
once what it decided from them is safely recorded. Until then the next poll starts again
from the last committed links; replaying a delta is harmless (entries are upserts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import structlog

from ghostwatch.errors import CursorExpired, GhostwatchError
from ghostwatch.providers.microsoft import older
from ghostwatch.providers.microsoft.folders import Tree, TreeRound
from ghostwatch.providers.microsoft.graph import (
    Answer,
    GraphClient,
    OutlookError,
    Part,
    checked,
    expired,
)

log = structlog.get_logger(__name__)

MAX_PAGE = 1000
"""The largest page Graph serves for message delta (`Prefer: odata.maxpagesize`)."""
LOOKUPS = 2
"""How many times a poll looks up messages that left a folder (and reads the tree again
for one whose folder it did not know) before it lets them go."""
Item = dict[str, Any]
Repair = Callable[[list[tuple[str, Item]]], dict[str, Any]]
"""(folder, item) of items that lack what `convert` needs → id → converted."""


@dataclass(frozen=True)
class Synced:
    """Folder → message id → what `convert` made of the item; folder → delta link; and,
    when every folder is read, the folder tree."""

    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    tree: Tree | None = None
    touched: frozenset[str] = frozenset()
    """The folders this poll saw anything in (an item, a removal, or a fresh read): an
    empty round is the folder's own word that nothing in it changed."""
    older: str | None = ""
    """With a look-back: the conversations read whole (`older.py`) are those up to this
    conversationId, in sorted order ("": none yet); None: every one held."""


class FolderSync:
    """Delta rounds for a set of folders (given, or `None`: every mail folder of the
    mailbox), converting each message item once."""

    def __init__(
        self,
        client: GraphClient,
        folders: tuple[str, ...] | None,
        select: str,
        convert: Callable[[str, Item], Any],
        page_size: int = MAX_PAGE,
        *,
        complete: Callable[[Item], bool] = lambda _item: True,
        repair: Repair | None = None,
        since: datetime | None = None,
        expand: str = "",
        whole: older.Whole | None = None,
    ) -> None:
        self.client = client
        self.folders = folders
        self.select = select
        self.convert = convert
        self.page_size = page_size
        self.complete = complete
        self.repair = repair
        self.since = since
        self.expand = expand
        self.whole = whole
        """Given with `since`: which conversations are read whole after the rounds
        (`older.py`)."""
        self.committed = Synced()
        self.resyncs = 0
        """How many folders had to be read in full again after their link expired."""
        self.progress: Synced | None = None
        """What the last poll read before it failed (None: it did not fail)."""

    def commit(self, synced: Synced) -> None:
        self.committed = synced

    def poll(self) -> Synced:
        """Every folder brought up to date (from the committed state). A poll that fails
        leaves what it read in `progress`, for the owner to keep (see `_Poll.partial`)."""
        run = _Poll(self)
        self.progress = None
        try:
            run.rounds()
            for _ in range(LOOKUPS):
                if not run.look_up_lost():
                    break
                run.read_tree_again()
            run.repair()
            run.read_older()
        except GhostwatchError:
            self.progress = run.partial()
            raise
        return run.result()

    def part(self, part_id: str, folder: str, link: str | None, whole: bool = False) -> Part:
        """The next page of a round, or (no link) a fresh round of the folder: from
        `since` on, or (`whole`) all of it."""
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        if link is not None:
            return Part(part_id, self.client.relative(link), headers=headers)
        box = self.client.mailbox
        url = f"{box}/mailFolders/{folder}/messages/delta?$select={self.select}"
        if self.since is not None and not whole:
            # The one filter message delta takes; it travels in the links from then on.
            url += "&$filter=" + quote(f"receivedDateTime ge {older.stamp(self.since)}")
        return Part(part_id, url + self._expand(), headers=headers)

    def _expand(self) -> str:
        return "&$expand=" + quote(self.expand) if self.expand else ""

    def lookup(self, part_id: str, message_id: str) -> Part:
        select = f"{self.select},parentFolderId"
        return Part(part_id, f"{self.client.mailbox}/messages/{message_id}?$select={select}"
                    + self._expand())  # fmt: skip

    def too_old(self, item: Item) -> bool:
        received = item.get("receivedDateTime")
        if self.since is None or not received:
            return False
        return datetime.fromisoformat(str(received).replace("Z", "+00:00")) < self.since


class _Poll:
    """One poll's state: the folders' messages and links as the answers come in."""

    def __init__(self, sync: FolderSync) -> None:
        self.sync = sync
        committed = sync.committed
        tree = committed.tree or Tree()
        self.tree = TreeRound(sync.client, tree, sync.page_size) if sync.folders is None else None
        start = tuple(tree.watched()) if sync.folders is None else sync.folders
        self.items = {f: dict(committed.items.get(f, {})) for f in start}
        self.pending = {f: committed.links.get(f) for f in start}
        self.links: dict[str, str] = {}
        self.missing: list[tuple[str, Item]] = []
        self.left: dict[str, str] = {}
        """Message id → the folder it left this poll."""
        self.looked: set[str] = set()
        self.ids: dict[str, str] = {}
        self.touched: set[str] = {f for f, link in self.pending.items() if link is None}
        self.safe: dict[str, str] = {f: link for f, link in self.pending.items() if link}
        """Folder → the link up to which every item read is held (repaired too)."""
        self.older = committed.older if self._whole_conversations() else None

    def _whole_conversations(self) -> bool:
        """Whether conversations are read whole: a look-back over every folder."""
        return None not in (self.sync.since, self.sync.whole, self.tree)

    def _id(self, folder: str) -> str:
        return self.ids.setdefault(folder, f"m{len(self.ids)}")

    def rounds(self) -> None:
        """Batches until the tree is read and every folder has its delta link."""
        while self.pending or (self.tree is not None and not self.tree.done):
            tree_parts = self.tree.parts() if self.tree is not None else []
            asked = dict(self.pending)
            # After a look-back's first sync (`older` None), a folder read afresh is read
            # whole: its older messages may belong to conversations held.
            whole = self.older is None and self._whole_conversations()
            parts = [self.sync.part(self._id(f), f, link, whole) for f, link in asked.items()]
            answers = self.sync.client.batch(tree_parts + parts)
            if self.tree is not None and tree_parts:
                self.tree.take(answers)
                if self.tree.done:  # it was not before: parts are asked only until then
                    self._adopt(self.tree.tree())
            for folder, link in asked.items():
                self._folder(folder, link, answers[self._id(folder)])
            self.repair()  # each round's items whole before its links count as progress
            self._mark_safe(asked)
            if self.pending:  # a long read (a first sync): its progress, round by round
                read = sum(len(messages) for messages in self.items.values())
                log.info("outlook_sync_progress", messages=read, folders_left=len(self.pending))

    def read_tree_again(self) -> None:
        if self.tree is not None:
            self.tree.again()
            self.rounds()

    def _adopt(self, tree: Tree) -> None:
        """Start the folders that appeared, drop the ones that went (with their mail)."""
        watched = tree.watched()
        committed = self.sync.committed
        for folder in watched:
            if folder not in self.items:
                # From where a first sync cut short stopped, if it reached this folder.
                self.items[folder] = dict(committed.items.get(folder, {}))
                self.pending[folder] = committed.links.get(folder)
                if self.pending[folder] is None:
                    self.touched.add(folder)
        for folder in set(self.items) - set(watched):
            log.info("outlook_folder_dropped", messages=len(self.items[folder]))
            del self.items[folder]
            self.pending.pop(folder, None)
            self.links.pop(folder, None)

    def _folder(self, folder: str, asked: str | None, answer: Answer) -> None:
        if folder not in self.items:
            return  # dropped by the tree in this very batch
        if answer.status == 404 and self.tree is not None and not expired(404, answer.body):
            self._vanished(folder)
            return
        done, link = self._step(folder, answer)
        if link is None and asked is None:
            raise OutlookError(f"Microsoft Graph refused a fresh delta of {folder}")
        if done and link is not None:
            self.links[folder] = link
            del self.pending[folder]
        else:
            self.pending[folder] = link

    def _vanished(self, folder: str) -> None:
        """A folder that is gone though the tree still had it: keep what was known of it
        for now and read the tree again, which drops it if it really went."""
        committed = self.sync.committed
        self.items[folder] = dict(committed.items.get(folder, {}))
        del self.pending[folder]
        if folder in committed.links:
            self.links[folder] = committed.links[folder]
        if self.tree is not None:
            self.tree.again()

    def _step(self, folder: str, answer: Answer) -> tuple[bool, str | None]:
        """Apply one page: (True, delta link) at the end of the round, (False, next link)
        before it, (False, None) to read the folder again from scratch."""
        try:
            page = checked(answer, "a folder's delta").json()
        except CursorExpired:
            self.sync.resyncs += 1
            self.items[folder] = {}
            if self.older is not None:  # a first sync's: its older messages went too
                self.older = ""
            self.touched.add(folder)
            return False, None
        for item in page.get("value", []):
            self.touched.add(folder)
            self._item(folder, item)
        if "@odata.nextLink" in page:
            return False, str(page["@odata.nextLink"])
        return True, str(page["@odata.deltaLink"])

    def _item(self, folder: str, item: Item) -> None:
        sync, message_id = self.sync, item["id"]
        if "@removed" in item:
            if self.items[folder].pop(message_id, None) is not None:
                self.left[message_id] = folder
        elif not any(name in item for name in sync.select.split(",")):
            self.missing.append((folder, item))  # slim: kept if known (see `repair`)
        elif sync.complete(item):
            self.items[folder][message_id] = sync.convert(folder, item)
        else:
            self.items[folder].pop(message_id, None)
            self.missing.append((folder, item))

    def look_up_lost(self) -> bool:
        """Messages that left a folder and are in none read now, looked up by id: kept
        where they are if that folder is read. True if one sits in a folder the tree does
        not know yet (read the tree again)."""
        if self.tree is None:
            return False
        present = {m for messages in self.items.values() for m in messages}
        lost = [m for m in self.left if m not in present and m not in self.looked]
        if not lost:
            return False
        self.looked.update(lost)
        parts = [self.sync.lookup(f"l{n}", m) for n, m in enumerate(lost)]
        answers = self.sync.client.batch(parts)
        unknown = [self._found(answers[f"l{n}"]) for n in range(len(lost))]  # each placed
        return any(unknown)

    def _found(self, answer: Answer) -> bool:
        """Place a looked-up message; True if its folder is not known yet."""
        if answer.status == 404:
            return False  # deleted for good
        item = checked(answer, "a message that left a folder").json()
        tree = self.tree.tree() if self.tree is not None else Tree()
        parent = str(item.get("parentFolderId") or "")
        folder = tree.key_of(parent)
        # A message held may be older than the look-back when conversations are read whole.
        old = self.sync.too_old(item) and not self._whole_conversations()
        if folder is None or folder not in self.items or old:
            return not tree.knows(parent)
        self.left.pop(str(item["id"]), None)
        self.touched.add(folder)
        self._item(folder, item)
        return False

    def read_older(self) -> None:
        """Every conversation of mine held, read whole, and the reports that can bear
        on it (`older.py`); the progress kept step by step (`older`)."""
        sync, whole, after = self.sync, self.sync.whole, self.older
        if after is None or self.tree is None or whole is None:
            return
        mine = whole.wanted(self.items, older.mine(sync.client))
        wanted, done = sorted(c for c in mine if c > after), 0
        for step in older.steps(wanted, sync.page_size):
            self._place(older.read(sync.client, sync.select, sync.expand, step))
            self.older, done = step[-1], done + len(step)
            log.info("outlook_older_progress", conversations=done, of=len(wanted))
        start = whole.reports_from(self.items, mine)
        if start is not None and sync.since is not None and start < sync.since:
            self._place(older.reports(sync.client, sync.select, start, sync.since))
        self.older = None

    def _place(self, items: Iterable[Item]) -> None:
        """Messages older than the look-back, each in the folder it is in (if read)."""
        tree = self.tree.tree() if self.tree is not None else Tree()
        for item in items:
            folder = tree.key_of(str(item.get("parentFolderId") or ""))
            if folder in self.items and self.sync.too_old(item):
                self._item(folder, item)
        self.repair()

    def _mark_safe(self, asked: Mapping[str, str | None]) -> None:
        for folder in asked:
            link = self.links.get(folder) or self.pending.get(folder)
            if link is not None and folder in self.items:
                self.safe[folder] = link
            else:
                self.safe.pop(folder, None)  # read again from scratch, or dropped

    def partial(self) -> Synced:
        """What a failed poll read, as a state to go on from: each folder's items up to
        the last link that covers them whole — a delta link, or the next page's link of a
        round cut short (https://learn.microsoft.com/en-us/graph/delta-query-messages:
        a round goes on from its `@odata.nextLink`) — and the tree if it was read."""
        committed = self.sync.committed
        tree = self.tree.tree() if self.tree is not None and self.tree.done else None
        items = {f: self.items[f] for f in self.safe if f in self.items}
        links = dict(self.safe)
        # A folder a message left may have lost it before the lookup placed it: that
        # folder stays where it was, and its changes are read again.
        for folder in set(self.left.values()):
            items.pop(folder, None)
            links.pop(folder, None)
            if folder in committed.links:
                items[folder] = dict(committed.items.get(folder, {}))
                links[folder] = committed.links[folder]
        return Synced(items, links, tree or committed.tree, older=self.older)

    def repair(self) -> None:
        wanted = [(f, item) for f, item in self.missing
                  if f in self.items and item["id"] not in self.items[f]]  # fmt: skip
        self.missing = []
        if wanted and self.sync.repair is not None:
            found = self.sync.repair(wanted)
            for folder, item in wanted:
                if item["id"] in found:
                    self.items[folder][item["id"]] = found[item["id"]]

    def result(self) -> Synced:
        tree = self.tree.tree() if self.tree is not None else None
        return Synced(self.items, self.links, tree, frozenset(self.touched), self.older)
