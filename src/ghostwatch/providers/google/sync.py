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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
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
MARGIN = timedelta(days=1)
"""How far before a date of mine a search starts (see `wanted_senders`); more than the
engine's `bounce_clock_skew`, so a report dated a little before my message is read."""


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


UNDER_WAY = "first-sync:"
"""A stored cursor that starts so says a first sync is under way: it began at the history
id that follows, and the headers stored with it are what it has read so far."""


@dataclass(slots=True)
class SyncState:
    """The headers a source holds, its history id, and what is not yet committed."""

    history_id: str | None = None
    headers: dict[str, Message] = field(default_factory=dict)
    pending: SyncDelta | None = None
    started: str | None = None
    """The history id a first sync under way began at (None: none is under way)."""

    @classmethod
    def from_cursor(cls, cursor: str | None, headers: Iterable[Message]) -> SyncState:
        """What a stored cursor says: nothing yet, a first sync to carry on, or a history id."""
        if cursor is None:
            return cls()
        held = {m.key: m for m in headers}
        if cursor.startswith(UNDER_WAY):
            return cls(None, held, started=cursor.removeprefix(UNDER_WAY))
        return cls(cursor, held)

    def begin(self, history_id: str) -> None:
        """A first sync from nothing: every stored header will be replaced."""
        self.history_id, self.started, self.headers = None, history_id, {}
        self.pending = SyncDelta(UNDER_WAY + history_id, reset=True, partial=True,
                                 first_sync=True)  # fmt: skip

    def carry_on(self) -> None:
        """A first sync under way continues: what it read is kept, the rest is added."""
        delta = self._delta()
        delta.cursor, delta.partial, delta.first_sync = UNDER_WAY + str(self.started), True, True

    def finish(self) -> None:
        """Everything is read: the history id counts from now on."""
        assert self.started is not None
        self.history_id, self.started = self.started, None
        delta = self._delta()
        delta.cursor, delta.partial = self.history_id, False

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


def lone_messages(listed: Iterable[tuple[str, str]], threads: set[str]) -> dict[str, str]:
    """Thread → its one message, for the threads of `threads` in which the (message id,
    thread id) pairs `listed` show exactly one message.

    Given every message of mine (`in:sent`) and every message since the look-back
    began (Spam and Trash included), a thread that shows one message — mine — can hold
    no other but an older one from someone else, and Gmail puts a message in an older
    one's thread only when it references it and the subjects match
    (https://developers.google.com/gmail/api/guides/threads). So when my message has no
    In-Reply-To and no References, it is its whole thread: read alone (5 units, where
    the thread is 10); otherwise the thread is read whole (`GmailSource._sent`)."""
    found: dict[str, set[str]] = defaultdict(set)
    for message_id, thread_id in listed:
        if thread_id in threads:
            found[thread_id].add(message_id)
    return {t: next(iter(ids)) for t, ids in found.items() if len(ids) == 1}


def relabelled(message: Message, folder: Folder) -> Message:
    return message if message.folder == folder else replace(message, folder=folder)


def contact_queries(
    held: Iterable[Message], attendees: Iterable[str], me: str, since: datetime | None
) -> Iterator[str]:
    """Queries for the mail outside my threads that can bear on a decision, each sender
    from the date it can (`wanted_senders`), `TERMS_PER_QUERY` senders to a query."""
    wanted = wanted_senders(held, attendees, me, since)
    reports = _DAEMONS_KEY in wanted
    daemons = wanted.pop(_DAEMONS_KEY, None)
    terms = [_term(sender, after) for sender, after in sorted(wanted.items())]
    for start in range(0, len(terms), TERMS_PER_QUERY):
        yield "{" + " ".join(terms[start : start + TERMS_PER_QUERY]) + "}"
    if reports:
        yield any_sender(DAEMONS) + _after(daemons)


_DAEMONS_KEY = "\0daemons"  # no address or domain can be spelled so


def wanted_senders(
    held: Iterable[Message], attendees: Iterable[str], me: str, since: datetime | None
) -> dict[str, datetime | None]:
    """Sender (address or organization) → the date from which its mail can change a
    decision of the threads held (None: any date); the daemons under `_DAEMONS_KEY`.

    Per thread of mine, from its first and latest messages of mine (docs/rules.md):
    a contact's own mail counts from my first message (a reply, or the last answer the
    attempt count starts after); a colleague at the contact's organization counts after
    my latest one (a reply from a colleague), as does a delivery report (a bounce counts
    only after my latest message). Meeting attendees count from the look-back (the
    latest mail from them). My own organization is never a contact's: its mail is
    internal. Each date is moved back by `MARGIN`, as a Date header is the writer's
    clock and Gmail's `after:` reads the arrival time."""
    threads: dict[str, list[datetime]] = defaultdict(list)
    people: dict[str, set[str]] = defaultdict(set)
    for message in held:
        if message.folder == Folder.SENT and message.date is not None:
            threads[message.thread_id or message.key].append(message.date)
            people[message.thread_id or message.key].update(a.email for a in message.recipients)
    mine = organization(me)
    after: dict[str, datetime | None] = {}

    def want(sender: str, when: datetime | None) -> None:
        if sender not in after:
            after[sender] = when
            return
        held = after[sender]
        after[sender] = None if held is None or when is None else min(held, when)

    for thread, dates in threads.items():
        first, latest = min(dates) - MARGIN, max(dates) - MARGIN
        for person in people[thread]:
            if person and person != me and organization(person) != mine:
                want(person, first)
                want(organization(person), latest)
    for person in attendees:
        if person and person != me:
            want(person, since)
    # A report counts only from my latest message of its conversation on (less the
    # engine's clock skew, well inside MARGIN): `engine.conversations.bounced_addresses`.
    ends = [max(dates) for dates in threads.values()]
    if ends:
        want(_DAEMONS_KEY, min(ends) - MARGIN)
    return _without_covered(after)


def _without_covered(after: dict[str, datetime | None]) -> dict[str, datetime | None]:
    """Drop an address whose organization's term already reaches as far back."""
    kept: dict[str, datetime | None] = {}
    for sender, when in after.items():
        org = organization(sender) if "@" in sender else None
        if org is not None and org != sender and org in after:
            wider = after[org]
            if wider is None or (when is not None and wider <= when):
                continue
        kept[sender] = when
    return kept


def _term(sender: str, after: datetime | None) -> str:
    """`(after:T from:X)`: the date first, which a search can test before any header."""
    return _from(sender) if after is None else f"({_after(after).strip()} {_from(sender)})"


def _after(when: datetime | None) -> str:
    """`after:` in epoch seconds, as the API's filtering guide documents
    (https://developers.google.com/gmail/api/guides/filtering)."""
    return "" if when is None else f" after:{int(when.timestamp())}"


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
