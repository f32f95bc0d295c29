"""The in-memory state of one Gmail mailbox: messages, threads, labels, drafts, history.

Every change bumps the mailbox's `historyId` and appends a history record
(https://developers.google.com/gmail/api/guides/sync): ids only ever grow, are not
contiguous, and records older than the retained range are gone (history.list → 404).
Threading follows Gmail's documented rule for inserted and drafted mail: a message
joins a thread when it references (In-Reply-To / References) a message of that thread
and the subjects match (https://developers.google.com/gmail/api/guides/threads).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ghostwatch_sandbox.google.message import Stored, parse_raw
from ghostwatch_sandbox.server import bad_request, not_found

SYSTEM_LABELS = (
    "CHAT",
    "SENT",
    "INBOX",
    "IMPORTANT",
    "TRASH",
    "DRAFT",
    "SPAM",
    "CATEGORY_FORUMS",
    "CATEGORY_UPDATES",
    "CATEGORY_PERSONAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_SOCIAL",
    "STARRED",
    "UNREAD",
)
# messages.modify: "SENT and DRAFT labels cannot be added or removed" (and CHAT).
FIXED_LABELS = frozenset({"SENT", "DRAFT", "CHAT"})
_FIRST_MESSAGE_ID = 0x19A0_0000_0000_0000
_FIRST_HISTORY_ID = 184_000


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str
    type: str  # "system" | "user"


@dataclass(frozen=True, slots=True)
class Change:
    """One history record: a single change to a single message."""

    id: int
    kind: str
    """messageAdded | messageDeleted | labelAdded | labelRemoved"""
    message: dict[str, object]
    label_ids: tuple[str, ...] = ()


@dataclass
class Mailbox:
    user: str
    clock: Callable[[], float] = time.time
    messages: dict[str, Stored] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)
    """draft id → message id, in creation order."""
    labels: dict[str, Label] = field(default_factory=dict)
    history: list[Change] = field(default_factory=list)
    history_id: int = _FIRST_HISTORY_ID
    oldest_history_id: int = _FIRST_HISTORY_ID
    _by_rfc_id: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        for name in SYSTEM_LABELS:
            self.labels[name] = Label(name, name, "system")

    # -- labels -------------------------------------------------------------------
    def user_label(self, name: str) -> Label:
        """The user label called `name`, created if missing (Label_N ids, as Gmail's)."""
        for label in self.labels.values():
            if label.type == "user" and label.name.lower() == name.lower():
                return label
        label = Label(f"Label_{len(self.labels) - len(SYSTEM_LABELS) + 1}", name, "user")
        self.labels[label.id] = label
        return label

    def label_by_name(self, name: str) -> Label | None:
        """`label:` in a query names a label by name; Gmail also accepts '-' for ' ' or '/'."""
        wanted = name.lower()
        for label in self.labels.values():
            lowered = label.name.lower()
            if wanted in (lowered, lowered.replace(" ", "-").replace("/", "-"), label.id.lower()):
                return label
        return None

    def check_labels(self, ids: Iterable[str]) -> None:
        for label_id in ids:
            if label_id not in self.labels:
                raise bad_request(f"Invalid label: {label_id}")

    # -- history ------------------------------------------------------------------
    def _bump(self) -> int:
        # Ids grow but are not contiguous (docs/providers.md, History).
        self.history_id += 1 + len(self.history) % 3
        return self.history_id

    def _record(self, kind: str, stored: Stored, label_ids: Iterable[str] = ()) -> None:
        stored.history_id = self._bump()
        change = Change(stored.history_id, kind, stored.brief(), tuple(label_ids))
        self.history.append(change)

    def changes_since(self, start: int) -> list[Change]:
        if start < self.oldest_history_id:
            raise not_found()
        return [change for change in self.history if change.id > start]

    def expire_history(self, keep: int = 0) -> None:
        """Forget all but the newest `keep` records, as Gmail does after about a week."""
        self.history = self.history[len(self.history) - keep :] if keep else []
        self.oldest_history_id = self.history[0].id - 1 if self.history else self.history_id

    # -- messages -----------------------------------------------------------------
    def get(self, message_id: str) -> Stored:
        stored = self.messages.get(message_id)
        if stored is None:
            raise not_found()
        return stored

    def thread(self, thread_id: str) -> list[Stored]:
        found = [m for m in self.messages.values() if m.thread_id == thread_id]
        if not found:
            raise not_found()
        return sorted(found, key=lambda m: (m.internal_date, m.id))

    def _thread_for(self, stored: Stored, wanted: str | None) -> str:
        if wanted:
            members = {m.rfc_id for m in self.thread(wanted)}
            if any(ref in members for ref in stored.references) and self._same_subject(
                stored, wanted
            ):
                return wanted
            return stored.id
        for ref in reversed(stored.references):
            other = self.messages.get(self._by_rfc_id.get(ref, ""))
            if other is not None and other.subject_key == stored.subject_key:
                return other.thread_id
        return stored.id

    def _same_subject(self, stored: Stored, thread_id: str) -> bool:
        return any(m.subject_key == stored.subject_key for m in self.thread(thread_id))

    def add(
        self,
        raw: bytes,
        labels: Iterable[str],
        thread_id: str | None = None,
        internal_date: int | None = None,
        record: bool = True,
    ) -> Stored:
        """Store a message (insert, draft, seed); `internal_date` in ms, else the Date header."""
        label_list = list(dict.fromkeys(labels))
        self.check_labels(label_list)
        headers, snippet, date_ms = parse_raw(raw)
        message_id = f"{_FIRST_MESSAGE_ID + next(self._ids) * 0x1F3:x}"
        when = internal_date if internal_date is not None else date_ms
        stored = Stored(
            message_id,
            message_id,
            raw,
            label_list,
            when if when is not None else int(self.clock() * 1000),
            self.history_id,
            headers,
            snippet,
        )
        stored.thread_id = self._thread_for(stored, thread_id)
        self.messages[message_id] = stored
        if stored.rfc_id:
            self._by_rfc_id.setdefault(stored.rfc_id, message_id)
        if record:
            self._record("messageAdded", stored)
        return stored

    def delete(self, message_id: str) -> Stored:
        stored = self.messages.pop(self.get(message_id).id)
        if stored.rfc_id and self._by_rfc_id.get(stored.rfc_id) == stored.id:
            del self._by_rfc_id[stored.rfc_id]
        self._record("messageDeleted", stored)
        return stored

    def modify(self, message_id: str, add: list[str], remove: list[str]) -> Stored:
        stored = self.get(message_id)
        self.check_labels([*add, *remove])
        if fixed := sorted(FIXED_LABELS.intersection([*add, *remove])):
            raise bad_request(f"Invalid label: {fixed[0]}")
        added = [label for label in dict.fromkeys(add) if label not in stored.labels]
        removed = [label for label in dict.fromkeys(remove) if label in stored.labels]
        stored.labels = [label for label in stored.labels if label not in removed] + added
        if added:
            self._record("labelAdded", stored, added)
        if removed:
            self._record("labelRemoved", stored, removed)
        return stored

    # -- drafts -------------------------------------------------------------------
    def draft(self, draft_id: str) -> Stored:
        message_id = self.drafts.get(draft_id)
        if message_id is None:
            raise not_found()
        return self.get(message_id)

    def create_draft(
        self,
        raw: bytes,
        thread_id: str | None,
        record: bool = True,
        internal_date: int | None = None,
    ) -> str:
        when = internal_date if internal_date is not None else int(self.clock() * 1000)
        stored = self.add(raw, ["DRAFT"], thread_id, when, record)
        draft_id = f"r{_FIRST_MESSAGE_ID + next(self._ids) * 0x2B:d}"
        self.drafts[draft_id] = stored.id
        return draft_id

    def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None) -> Stored:
        """Gmail replaces the draft's message: a new message id, the old one deleted."""
        old = self.draft(draft_id)
        self.delete(old.id)
        stored = self.add(raw, ["DRAFT"], thread_id, int(self.clock() * 1000))
        self.drafts[draft_id] = stored.id
        return stored

    def delete_draft(self, draft_id: str) -> Stored:
        stored = self.draft(draft_id)
        del self.drafts[draft_id]
        return self.delete(stored.id)
