"""Delta sync of Outlook mail folders: one delta per watched folder, all in one batch.

Graph tracks changes per folder (`mailFolders/{id}/messages/delta`,
https://learn.microsoft.com/en-us/graph/delta-query-messages). Each watched folder's
round is one request of a JSON batch, so an idle poll — every folder answering an
empty page with its delta link — is a single HTTP request; folders with more pages keep
going in the next batch until every one has its `@odata.deltaLink`. A folder whose link
is too old (410 / syncStateNotFound) is read again in full, alone; the others keep theirs.

Exchange does not always send what `$select` asked: a read-state change comes as a slim
item (id, isRead, parentFolderId; microsoftgraph/microsoft-graph-docs#7776), which keeps
what was known, and some messages lack a property the owner needs (Sent Items have no
internet headers): those go to the owner's `repair`, in one batch after the rounds.

A poll never changes the committed state: `poll()` returns a `Synced` (the folders'
messages and their new delta links) that the owner makes current with `commit()` once
what it decided from them is safely recorded. Until then the next poll starts again
from the last committed links; replaying a delta is harmless (entries are upserts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ghostwatch.providers.outlook_graph import (
    Answer,
    DeltaExpired,
    GraphClient,
    OutlookError,
    Part,
    checked,
)

MAX_PAGE = 1000
"""The largest page Graph serves for message delta (`Prefer: odata.maxpagesize`)."""
Item = dict[str, Any]
Repair = Callable[[list[tuple[str, Item]]], dict[str, Any]]
"""(folder, item) of items that lack what `convert` needs → id → converted."""


@dataclass(frozen=True)
class Synced:
    """Folder → message id → what `convert` made of the item; folder → delta link."""

    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)


class FolderSync:
    """Delta rounds for a set of folders, converting each message item once."""

    def __init__(
        self,
        client: GraphClient,
        folders: tuple[str, ...],
        select: str,
        convert: Callable[[str, Item], Any],
        page_size: int = MAX_PAGE,
        *,
        complete: Callable[[Item], bool] = lambda _item: True,
        repair: Repair | None = None,
        since: datetime | None = None,
        expand: str = "",
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
        self.committed = Synced()
        self.resyncs = 0
        """How many folders had to be read in full again after their link expired."""

    def commit(self, synced: Synced) -> None:
        self.committed = synced

    def poll(self) -> Synced:
        """Every watched folder brought up to date (from the committed state)."""
        items = {f: dict(self.committed.items.get(f, {})) for f in self.folders}
        links: dict[str, str] = {}
        pending = {f: self.committed.links.get(f) for f in self.folders}
        missing: list[tuple[str, Item]] = []
        while pending:
            answers = self.client.batch(self._part(f, link) for f, link in pending.items())
            for folder, asked in list(pending.items()):
                done, link = self._step(folder, answers[folder], items, missing)
                if link is None and asked is None:
                    raise OutlookError(f"Microsoft Graph refused a fresh delta of {folder}")
                if done and link is not None:
                    links[folder] = link
                    del pending[folder]
                else:
                    pending[folder] = link
        self._repair(items, missing)
        return Synced(items, links)

    def _repair(self, items: dict[str, dict[str, Any]], missing: list[tuple[str, Item]]) -> None:
        wanted = [(f, item) for f, item in missing if item["id"] not in items[f]]
        if wanted and self.repair is not None:
            found = self.repair(wanted)
            for folder, item in wanted:
                if item["id"] in found:
                    items[folder][item["id"]] = found[item["id"]]

    def _part(self, folder: str, link: str | None) -> Part:
        """The next page of a round, or (no link) a fresh round of the whole folder."""
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        if link is not None:
            return Part(folder, self.client.relative(link), headers=headers)
        url = f"{self.client.mailbox}/mailFolders/{folder}/messages/delta?$select={self.select}"
        if self.since is not None:
            # The one filter message delta takes; it travels in the links from then on.
            when = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            url += "&$filter=" + quote(f"receivedDateTime ge {when}")
        if self.expand:
            url += "&$expand=" + quote(self.expand)
        return Part(folder, url, headers=headers)

    def _step(
        self,
        folder: str,
        answer: Answer,
        items: dict[str, dict[str, Any]],
        missing: list[tuple[str, Item]],
    ) -> tuple[bool, str | None]:
        """Apply one page: (True, delta link) at the end of the round, (False, next link)
        before it, (False, None) to read the folder again from scratch."""
        try:
            page = checked(answer, f"the {folder} delta").json()
        except DeltaExpired:
            self.resyncs += 1
            items[folder] = {}
            return False, None
        for item in page.get("value", []):
            if "@removed" in item:
                items[folder].pop(item["id"], None)
            elif not any(name in item for name in self.select.split(",")):
                missing.append((folder, item))  # slim: kept if known (see `_repair`)
            elif self.complete(item):
                items[folder][item["id"]] = self.convert(folder, item)
            else:
                items[folder].pop(item["id"], None)
                missing.append((folder, item))
        if "@odata.nextLink" in page:
            return False, str(page["@odata.nextLink"])
        return True, str(page["@odata.deltaLink"])
