"""Which Outlook mail folders ghostwatch reads: every one, kept current by folder delta.

docs/rules.md counts a reply that arrived "in any folder". Outlook users archive mail (the
Archive button files it in the well-known `archive` folder) and rules file it into
folders of their own ("Clients/Contoso"), so the provider reads every mail folder except
Outbox, Conversation History (Teams chats), Sync Issues, with whatever is below them,
search folders (their contents are other folders' messages) and hidden folders (storage
apps keep out of sight), with their subfolders. Deleted Items is read too: a reply the
user deleted is still an answer (docs/rules.md, "Replied"); it is role TRASH, and a
folder deleted into it (its subfolders) is read like any folder of the user's own, as the
Maildir reader reads `.Trash.Old`.

The tree comes from `GET /mailFolders/delta`
(https://learn.microsoft.com/en-us/graph/api/mailfolder-delta): every folder however deep
in its first round, then only what changed, so keeping it current costs an idle poll one
more call in the batch it already sends. Which folder is the Inbox, Sent Items, … is asked
by well-known name (`GET /mailFolders/sentitems?$select=id`): v1.0 folders do not say
it, and display names are localized. A search folder says so in its `@odata.type`.

Folder keys (what message delta links and stored messages are filed under): the
well-known name for the Inbox, Sent Items, Junk Email, Drafts and Deleted Items, whose
role that name gives; the folder id for every other folder, role OTHER (as the Maildir
reader gives a folder of no known role).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ghostwatch.errors import CursorExpired
from ghostwatch.model.mail import Folder
from ghostwatch.providers.microsoft.graph import (
    Answer,
    GraphClient,
    OutlookError,
    Part,
    checked,
)

ROLES = {
    "inbox": Folder.INBOX,
    "sentitems": Folder.SENT,
    "junkemail": Folder.JUNK,
    "drafts": Folder.DRAFTS,
    "deleteditems": Folder.TRASH,
}
SKIPPED = ("outbox", "conversationhistory", "syncissues")
"""Well-known folders never read, nor anything below them."""
NAMED = (*ROLES, *SKIPPED)
SELECT = "parentFolderId,isHidden"
SEARCH_FOLDER = "#microsoft.graph.mailSearchFolder"
TREE = "tree"
"""The batch part id of the folder delta."""


def role_of(key: str) -> Folder:
    return ROLES.get(key, Folder.OTHER)


@dataclass(frozen=True, slots=True)
class Node:
    parent: str
    skip: bool = False
    """Hidden or a search folder: never read, nor what is below it."""


@dataclass(frozen=True)
class Tree:
    """The mailbox's folders as the last folder delta left them."""

    nodes: Mapping[str, Node] = field(default_factory=dict)
    """Folder id → its parent and whether it is skipped (the root itself is not here)."""
    named: Mapping[str, str] = field(default_factory=dict)
    """Well-known name → folder id, for the ones the mailbox has."""
    link: str | None = None
    """The folder delta link; None before the first round."""

    def watched(self) -> list[str]:
        """The keys of every folder to read: the five role folders always, then every
        folder neither skipped nor below a skipped one."""
        found = dict.fromkeys(ROLES)
        found.update((self.key(fid), None) for fid in self.nodes if not self._skipped(fid))
        return list(found)

    def key(self, folder_id: str) -> str:
        return next((name for name in ROLES if self.named.get(name) == folder_id), folder_id)

    def key_of(self, folder_id: str) -> str | None:
        """The key of a folder that is read; None for one that is not (or not known)."""
        if folder_id not in self.nodes or self._skipped(folder_id):
            return None
        return self.key(folder_id)

    def knows(self, folder_id: str) -> bool:
        return folder_id in self.nodes

    def _skipped(self, folder_id: str) -> bool:
        stops = {self.named[name] for name in SKIPPED if name in self.named}
        seen: set[str] = set()
        current: str | None = folder_id
        while current is not None and current not in seen:  # a cycle would be Graph's bug
            node = self.nodes.get(current)
            if current in stops or (node is not None and node.skip):
                return True
            seen.add(current)
            current = node.parent if node is not None else None
        return False

    def data(self) -> dict[str, Any]:
        """The tree as the cursor stores it."""
        nodes = {fid: [n.parent, n.skip] for fid, n in sorted(self.nodes.items())}
        return {"link": self.link, "named": dict(sorted(self.named.items())), "nodes": nodes}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Tree:
        if not data:
            return cls()
        nodes = {str(fid): Node(str(p), bool(s)) for fid, (p, s) in data["nodes"].items()}
        return cls(nodes, {str(k): str(v) for k, v in data["named"].items()}, data["link"])


class TreeRound:
    """One poll's reading of the tree: the folder delta to its delta link, and the
    well-known names when some are not known yet (the first poll; or, once new folders
    appear, the ones the mailbox did not have)."""

    def __init__(self, client: GraphClient, tree: Tree, page_size: int) -> None:
        self.client = client
        self.page_size = page_size
        self.nodes = dict(tree.nodes)
        self.named = dict(tree.named)
        self.next: str | None = tree.link
        """Where the next page comes from (None: a fresh round)."""
        self.link = tree.link
        self.reading = True
        self.asking = [name for name in NAMED if name not in self.named] if not tree.named else []
        self.grew = False
        self.resyncs = 0

    @property
    def done(self) -> bool:
        return not self.reading and not self.asking

    def tree(self) -> Tree:
        return Tree(dict(self.nodes), dict(self.named), self.link)

    def again(self) -> None:
        """Read what changed since this poll's round ended (a folder seen as unknown)."""
        self.reading = True

    def parts(self) -> list[Part]:
        parts = [Part(f"name:{name}", f"{self.client.mailbox}/mailFolders/{name}?$select=id")
                 for name in self.asking]  # fmt: skip
        if self.reading:
            prefer = {"Prefer": f"odata.maxpagesize={self.page_size}"}
            url = self.next or f"{self.client.mailbox}/mailFolders/delta?$select={SELECT}"
            parts.append(Part(TREE, self.client.relative(url), headers=prefer))
        return parts

    def take(self, answers: Mapping[str, Answer]) -> None:
        for name in self.asking:
            self._named(name, answers[f"name:{name}"])
        self.asking = []
        if self.reading:
            self._page(answers[TREE])

    def _named(self, name: str, answer: Answer) -> None:
        if answer.status == 404 and name not in ROLES:
            return  # a mailbox without it (a new one may have no Conversation History)
        found = checked(answer, f"the {name} folder").json()
        self.named[name] = str(found["id"])

    def _page(self, answer: Answer) -> None:
        try:
            page = checked(answer, "the folder delta").json()
        except CursorExpired:
            if self.next is None:
                raise OutlookError("Microsoft Graph refused a fresh folder delta") from None
            self.resyncs += 1
            self.nodes, self.next = {}, None
            return
        for item in page.get("value", []):
            self._apply(item)
        if "@odata.nextLink" in page:
            self.next = str(page["@odata.nextLink"])
            return
        self.next = self.link = str(page["@odata.deltaLink"])
        self.reading = False
        if self.grew and any(name not in self.named for name in NAMED):
            self.asking = [name for name in NAMED if name not in self.named]
        self.grew = False

    def _apply(self, item: dict[str, Any]) -> None:
        folder_id = str(item["id"])
        if "@removed" in item:
            self.nodes.pop(folder_id, None)
            return
        old = self.nodes.get(folder_id)
        self.grew = self.grew or old is None
        # An update may leave out what did not change: keep what was known.
        parent = item.get("parentFolderId", old.parent if old else "")
        hidden = item.get("isHidden", old.skip if old else False)
        search = item.get("@odata.type") == SEARCH_FOLDER
        self.nodes[folder_id] = Node(str(parent or ""), bool(hidden) or search)
