"""What a Gmail poll reads: a first sync that grows with sent threads, then history deltas.

First sync (nothing stored, or the stored historyId expired):
1. `getProfile` for the current historyId, *before* listing, so a change made while we
   list is replayed by the next history read instead of lost;
2. the user's sent messages (`in:sent`, from `since` when given) and their whole threads
   (`threads.get`, metadata, batched);
3. what can answer outside those threads: mail from the contacts' organisations (a
   colleague of a prospect may answer; `people.organization`), Junk included, and
   delivery reports from mailer daemons. Calendar attendees count as contacts.

Later polls: `history.list` from the stored id (`messageAdded`, `messageDeleted`,
`labelAdded`, `labelRemoved`). Label changes carry the message's labels, so they are
applied without a fetch; added messages are fetched (metadata, batched), and a sent
message in a thread not yet known brings its whole thread. An idle poll is one request
of 2 quota units. A 404 means the id is too old: full sync (docs/providers.md).

References: https://developers.google.com/gmail/api/guides/sync and
https://developers.google.com/gmail/api/reference/rest/v1/users.history/list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ghostwatch.model.mail import Folder, Message, organization
from ghostwatch.model.sync import SyncDelta

HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")
# Terms per `{from:… from:…}` query: Gmail documents no limit on `q`; short ones stay safe.
TERMS_PER_QUERY = 25
_PLAIN = re.compile(r"[A-Za-z0-9.@_%+'-]+")
"""What a `from:` value may hold unquoted: no space, bracket, quote or colon."""
# Senders of delivery reports (RFC 3464 reports come from the MTA's own mailbox).
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon", "mdaemon")


@dataclass(slots=True)
class HistoryChanges:
    """One `history.list` walk, reduced to what a poll must do."""

    added: dict[str, str] = field(default_factory=dict)
    """message id → thread id, of messages added."""
    labels: dict[str, list[str]] = field(default_factory=dict)
    """message id → its labels after the change."""
    deleted: set[str] = field(default_factory=set)
    sent_threads: set[str] = field(default_factory=set)
    """Threads that gained a message of mine."""

    def read(self, record: dict[str, Any]) -> None:
        for entry in record.get("messagesAdded", []):
            message = entry["message"]
            self.added[message["id"]] = message.get("threadId", "")
            self._labelled(message)
            if "SENT" in message.get("labelIds", []):
                self.sent_threads.add(message.get("threadId", ""))
        for kind in ("labelsAdded", "labelsRemoved"):
            for entry in record.get(kind, []):
                self._labelled(entry["message"])
        for entry in record.get("messagesDeleted", []):
            self.deleted.add(entry["message"]["id"])

    def _labelled(self, message: dict[str, Any]) -> None:
        if "labelIds" in message:
            self.labels[message["id"]] = list(message["labelIds"])


@dataclass(slots=True)
class SyncState:
    """The headers a source holds, its history id, and what is not yet committed."""

    history_id: str | None = None
    headers: dict[str, Message] = field(default_factory=dict)
    pending: SyncDelta | None = None

    def reset(self, history_id: str) -> None:
        self.history_id = history_id
        self.headers = {}
        self.pending = SyncDelta(history_id, reset=True)

    def put(self, messages: Iterable[Message]) -> None:
        delta = self._delta()
        for message in messages:
            self.headers[message.key] = message
            delta.upserts[message.key] = message
            delta.removed.discard(message.key)

    def drop(self, keys: Iterable[str]) -> None:
        delta = self._delta()
        for key in keys:
            if self.headers.pop(key, None) is not None or key in delta.upserts:
                delta.upserts.pop(key, None)
                delta.removed.add(key)

    def advance(self, history_id: str) -> None:
        self.history_id = history_id
        self._delta().cursor = history_id

    def _delta(self) -> SyncDelta:
        if self.pending is None:
            self.pending = SyncDelta(self.history_id or "")
        return self.pending

    def threads(self) -> set[str]:
        return {m.thread_id for m in self.headers.values() if m.thread_id}


def relabelled(message: Message, folder: Folder) -> Message:
    return message if message.folder == folder else replace(message, folder=folder)


def contact_queries(
    sent: Iterable[Message], attendees: Iterable[str], me: str, since: datetime | None
) -> Iterator[str]:
    """Queries for mail from every organisation I wrote to or met, and from daemons."""
    people = {a.email for m in sent for a in m.recipients} | set(attendees)
    found = {organization(email) for email in people if email and email != me}
    # A quote cannot be written inside a quoted value: such an address is left out.
    orgs = sorted(org for org in found if '"' not in org)
    after = f" after:{int(since.timestamp())}" if since is not None else ""
    for start in range(0, len(orgs), TERMS_PER_QUERY):
        yield any_sender(orgs[start : start + TERMS_PER_QUERY]) + after
    yield any_sender(DAEMONS) + after


def any_sender(senders: Iterable[str]) -> str:
    """`{from:a from:b}`: mail from any of them, in the form Gmail's search help documents
    ("{ } … messages that match multiple terms", https://support.google.com/mail/answer/7190).
    `from:{a b}` is not documented there; what Gmail makes of it is not promised.
    An address with a character the grammar reads (a bracket, a quote: RFC 5322 allows
    `{` and `}` in a local part) goes in quotes, so no stranger's address can make the
    query invalid."""
    return "{" + " ".join(map(_from, senders)) + "}"


def _from(sender: str) -> str:
    return f"from:{sender}" if _PLAIN.fullmatch(sender) else f'from:"{sender}"'
