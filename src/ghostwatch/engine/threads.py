"""Grouping messages into conversations (docs/rules.md "Conversation").

Order of evidence: the provider's thread id; then RFC 5322 Message-ID / In-Reply-To /
References links (RFC 5322 §3.6.4), joined through a union-find so that siblings whose
parent is missing still meet through the id they both reference. The links also join
provider threads: Gmail starts a new thread when a reply's subject changes, yet the
reply still answers the message it names. Then, for replies
whose client dropped those headers, the normalized subject *and* a sender who already
takes part. Everything is keyed and sorted so the result does not depend on the order
messages were read in.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ghostwatch.engine.people import Identity
from ghostwatch.model.mail import (
    SUBJECT_PREFIX,
    Content,
    Folder,
    Mark,
    Message,
    normalize_subject,
    plausible,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_REPLY_MARK = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|rif|r|res|odp|ynt|réf|ref|tr|fw|fwd|wg|enc|rv|vl)\s*[:：]",
    re.IGNORECASE,
)


def sort_key(message: Message) -> tuple[datetime, str, str]:
    """Date order; equal dates by Message-ID, so file names decide nothing."""
    return (message.date or _EPOCH, message.message_id or "", message.key)


_FOLDER_RANK = {Folder.SENT: 0, Folder.INBOX: 1, Folder.OTHER: 2, Folder.JUNK: 3, Folder.TRASH: 4}


def deduplicate(messages: Iterable[Message]) -> list[Message]:
    """One copy per Message-ID and sender; drafts and absurd dates never take part
    (docs/rules.md).

    The same message can sit in two folders (Sent and INBOX when I copy myself,
    or an archive); keep the copy whose folder says most about it. Trash takes part
    (a reply the user deleted is still an answer) but any other copy says more. The
    copy kept carries every copy's marks but those in Trash. Copies have one sender: a
    message from someone else that reuses an id (anyone copied on a reply saw it) is no
    copy, and keeping it instead of the prospect's answer read their answer as silence.
    """
    best: dict[str, Message] = {}
    marks: dict[str, set[Mark]] = {}
    for message in messages:
        if message.folder is Folder.DRAFTS:
            continue
        if message.date is not None and not plausible(message.date):
            message = replace(message, date=None)  # see model.PLAUSIBLE_YEARS
        sender = message.sender.email if message.sender else ""
        ident = f"{message.message_id}\n{sender}" if message.message_id else f"key:{message.key}"
        if message.marks and message.folder is not Folder.TRASH:
            # A copy in the folder `ghostwatch/mute` marks the message it copies
            # (docs/rules.md, "The mailbox as the control panel").
            marks.setdefault(ident, set()).update(message.marks)
        held = best.get(ident)
        if held is None or _rank(message) < _rank(held):
            best[ident] = message
    for ident, found in marks.items():
        kept = best[ident]
        if set(kept.marks) != found:
            best[ident] = replace(kept, marks=tuple(sorted(found)))
    return sorted(best.values(), key=sort_key)


def _rank(message: Message) -> tuple[int, str]:
    return (_FOLDER_RANK.get(message.folder, 2), message.key)


class _UnionFind:
    """Disjoint sets over integers: node i < len(messages) is the i-th message (in date
    order), higher nodes are Message-IDs and thread ids. Integers in a list measured
    several times faster than string keys in a dict at 100k messages."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.names: dict[str, int] = {}

    def named(self, name: str) -> int:
        node = self.names.get(name)
        if node is None:
            node = self.names[name] = len(self.parent)
            self.parent.append(node)
        return node

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller node wins: the earliest message, so roots follow the mail.
            self.parent[max(ra, rb)] = min(ra, rb)


def _link_by_headers(messages: Sequence[Message], uf: _UnionFind) -> None:
    """Provider threads, and RFC 5322 links across them (docs/rules.md "Threading"): a
    message that names a message of another provider thread answers it, so every
    provider reaches the conversations a plain Maildir scan finds."""
    for node, message in enumerate(messages):
        if message.thread_id:
            uf.union(node, uf.named("t:" + message.thread_id))
        if message.message_id:
            uf.union(node, uf.named(message.message_id))
        for ref in (*message.references, *message.in_reply_to):
            uf.union(node, uf.named(ref))


def _is_linked(message: Message, known_ids: set[str], shared_threads: set[str]) -> bool:
    """Already joined to other mail by headers or by a provider thread it shares.

    A provider thread of one message does not count: Gmail and Graph do not thread a
    reply whose client dropped its headers either, and the subject fallback is for it.
    """
    refs = (*message.references, *message.in_reply_to)
    return message.thread_id in shared_threads or any(r in known_ids for r in refs)


def _participants(message: Message) -> set[str]:
    found = {a.email for a in message.recipients}
    if message.sender:
        found.add(message.sender.email)
    return found


_Entry = tuple[tuple[datetime, str, str], int]
"""(sort key of a message, its union-find node)."""


def _askers(message: Message, me: Identity) -> set[str]:
    """Whose presence in a conversation lets this header-less message join it."""
    assert message.sender is not None
    if not me.is_me(message.sender.email):
        return {message.sender.email}
    # My own fresh mail with a reused subject starts a new conversation; only a marked
    # reply to someone already in it continues one. From-me mail outside Sent is not
    # mine (docs/rules.md "Mine"): a forgery joins nothing by its subject.
    if message.folder is not Folder.SENT or not _REPLY_MARK.match(message.subject):
        return set()
    return {a.email for a in message.addressees} - me.addresses


def _fallback_target(
    node: int,
    message: Message,
    index: Mapping[tuple[str, str], list[_Entry]],
    uf: _UnionFind,
    me: Identity,
) -> int | None:
    """The conversation a header-less reply belongs to, or None (docs/rules.md).

    One where an asker already wrote or was written to under the same normalized
    subject, before this message; among several, the most recent such mail (a reply
    answers the latest), ties broken by Message-ID so file names decide nothing.
    """
    subject, limit = normalize_subject(message.subject), sort_key(message)
    own = uf.find(node)
    best: _Entry | None = None
    for person in _askers(message, me):
        for when, other in index.get((subject, person), ()):
            root = uf.find(other)
            if when < limit and root != own and (best is None or when > best[0]):
                best = (when, root)
    return best[1] if best else None


def _may_be_reply(message: Message, written_to: set[str]) -> bool:
    """A header-less message worth a subject lookup: it says it replies, or comes from
    someone I wrote to (newsletters and other strangers' mail do neither)."""
    if message.sender is None or not normalize_subject(message.subject):
        return False
    return bool(SUBJECT_PREFIX.match(message.subject)) or message.sender.email in written_to


def _subject_index(
    messages: Sequence[Message], subjects: set[str]
) -> dict[tuple[str, str], list[_Entry]]:
    """(normalized subject, participant) → messages; only for the subjects asked about.

    Keyed by person too, a lookup touches only that person's mail: common subjects
    ("Quick question", a newsletter's) are shared by thousands of conversations.
    """
    index: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    for node, message in enumerate(messages):
        subject = normalize_subject(message.subject)
        if subject in subjects:
            entry = (sort_key(message), node)
            for person in _participants(message):
                index[(subject, person)].append(entry)
    return index


def _link_by_subject(messages: Sequence[Message], uf: _UnionFind, me: Identity) -> None:
    known_ids = {m.message_id for m in messages if m.message_id}
    per_thread = Counter(m.thread_id for m in messages if m.thread_id)
    shared_threads = {t for t, n in per_thread.items() if n > 1}
    written_to = {
        a.email
        for m in messages
        if m.folder is Folder.SENT and m.sender and me.is_me(m.sender.email)
        for a in m.addressees
    }
    candidates = [
        (node, m)
        for node, m in enumerate(messages)
        if not _is_linked(m, known_ids, shared_threads) and _may_be_reply(m, written_to)
    ]
    index = _subject_index(messages, {normalize_subject(m.subject) for _, m in candidates})
    for node, message in candidates:  # in date order: a reply joins what came before it
        target = _fallback_target(node, message, index, uf, me)
        if target is not None:
            uf.union(node, target)


def conversation_id(messages: Sequence[Message]) -> str:
    """A stable, provider-independent id: a hash of the first message's Message-ID."""
    first = min(messages, key=sort_key)
    seed = first.message_id or f"{first.sender and first.sender.email}|{first.subject}|{first.date}"
    return hashlib.sha1(seed.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Threads:
    """Conversations by id, each a date-ordered tuple of messages."""

    conversations: Mapping[str, tuple[Message, ...]]

    def with_content(self, contents: Mapping[str, Content]) -> Threads:
        """The same threads, with bodies attached to the messages that were loaded."""
        if not contents:
            return self
        return Threads(
            {
                cid: tuple(
                    replace(m, content=contents[m.key]) if m.key in contents else m for m in msgs
                )
                for cid, msgs in self.conversations.items()
            }
        )

    def messages(self) -> Iterable[Message]:
        for msgs in self.conversations.values():
            yield from msgs


def thread(messages: Iterable[Message], me: Identity) -> Threads:
    """Group messages into conversations (pure; deterministic under any input order)."""
    unique = deduplicate(messages)
    uf = _UnionFind(len(unique))
    _link_by_headers(unique, uf)
    _link_by_subject(unique, uf, me)
    groups: dict[int, list[Message]] = defaultdict(list)
    for node, message in enumerate(unique):
        groups[uf.find(node)].append(message)
    conversations = {conversation_id(msgs): tuple(msgs) for msgs in groups.values()}
    return Threads(dict(sorted(conversations.items())))
