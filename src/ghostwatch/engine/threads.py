"""Grouping messages into conversations (DESIGN.md §1 "Conversation").

Order of evidence: the provider's thread id; then RFC 5322 Message-ID / In-Reply-To /
References links (RFC 5322 §3.6.4), joined through a union-find so that siblings whose
parent is missing still meet through the id they both reference; then, for replies
whose client dropped those headers, the normalized subject *and* a sender who already
takes part. Everything is keyed and sorted so the result does not depend on the order
messages were read in.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ghostwatch.engine.people import Identity
from ghostwatch.model import Content, Folder, Message, plausible

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Reply/forward markers in the languages our users' prospects write in, plus the
# auto-reply prefixes, so "Automatic reply: Proposal" lands beside "Proposal".
_PREFIX = re.compile(
    r"""^\s*(?:
        (?:re|aw|wg|sv|vs|tr|fw|fwd|réf|ref|antw|antwort|rif|r|enc|res|odp|rv|vl|ynt|atb)
            \s*(?:\[\d+\]|\(\d+\))?\s*[:：]
      | (?:automatic\s+reply|auto(?:matische?)?\s*(?:reply|antwort|antwoord)|autoreply
         |out\s+of\s+(?:the\s+)?office|abwesenheitsnotiz|abwesend|réponse\s+automatique
         |respuesta\s+automática|risposta\s+automatica|automatisch\s+antwoord
         |resposta\s+automática)\s*[:：]
      | \[[^\]]{0,40}\]
    )\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_REPLY_MARK = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|rif|r|res|odp|ynt|réf|ref|tr|fw|fwd|wg|enc|rv|vl)\s*[:：]",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1 << 16)
def normalize_subject(subject: str) -> str:
    """Strip reply/forward/auto-reply prefixes and tags, fold case and whitespace."""
    return " ".join(display_subject(subject).lower().split()) if subject.strip() else ""


def display_subject(subject: str) -> str:
    """The subject as people wrote it, without reply/forward prefixes."""
    previous = None
    while previous != subject:
        previous, subject = subject, _PREFIX.sub("", subject, count=1)
    return " ".join(subject.split()) or "(no subject)"


def sort_key(message: Message) -> tuple[datetime, str, str]:
    """Date order; equal dates by Message-ID, so file names decide nothing."""
    return (message.date or _EPOCH, message.message_id or "", message.key)


_FOLDER_RANK = {Folder.SENT: 0, Folder.INBOX: 1, Folder.OTHER: 2, Folder.JUNK: 3}


def deduplicate(messages: Iterable[Message]) -> list[Message]:
    """One copy per Message-ID; drafts, trash and absurd dates never take part (DESIGN.md §1).

    The same message can sit in two folders (Sent and INBOX when I copy myself,
    or an archive); keep the copy whose folder says most about it.
    """
    best: dict[str, Message] = {}
    for message in messages:
        if message.folder in (Folder.DRAFTS, Folder.TRASH):
            continue
        if message.date is not None and not plausible(message.date):
            message = replace(message, date=None)  # see model.PLAUSIBLE_YEARS
        ident = message.message_id or f"key:{message.key}"
        held = best.get(ident)
        if held is None or _rank(message) < _rank(held):
            best[ident] = message
    return sorted(best.values(), key=sort_key)


def _rank(message: Message) -> tuple[int, str]:
    return (_FOLDER_RANK.get(message.folder, 2), message.key)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        while parent != item:
            grand = self.parent.setdefault(parent, parent)
            self.parent[item] = grand
            item, parent = parent, grand
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller name wins, so the result is independent of insertion order.
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo


def _link_by_headers(messages: Sequence[Message], uf: _UnionFind) -> None:
    for message in messages:
        node = "k:" + message.key
        uf.find(node)
        if message.thread_id:
            uf.union(node, "t:" + message.thread_id)
            continue
        if message.message_id:
            uf.union(node, "m:" + message.message_id)
        for ref in (*message.references, *message.in_reply_to):
            uf.union(node, "m:" + ref)


def _is_linked(message: Message, known_ids: set[str]) -> bool:
    refs = (*message.references, *message.in_reply_to)
    return bool(message.thread_id) or any(r in known_ids for r in refs)


@dataclass(slots=True)
class _Seen:
    """What the subject fallback knows of one conversation so far."""

    latest: datetime
    anchor: str
    """Its smallest Message-ID: a tie-break that depends on the mail, not on file names."""

    def merged(self, other: _Seen) -> _Seen:
        return _Seen(max(self.latest, other.latest), min(self.anchor, other.anchor))


@dataclass(slots=True)
class _SubjectIndex:
    """Conversations (union-find roots, possibly stale) by (normalized subject, participant).

    Keyed by person as well as subject, a lookup touches only the conversations that
    person takes part in: newsletters share one subject across thousands of messages.
    """

    roots: dict[tuple[str, str], set[str]]
    seen: dict[str, _Seen]


def _participants(message: Message) -> set[str]:
    found = {a.email for a in message.recipients}
    if message.sender:
        found.add(message.sender.email)
    return found


def _askers(message: Message, me: Identity) -> list[str]:
    """Whose presence in a conversation lets this header-less message join it."""
    assert message.sender is not None
    if not me.is_me(message.sender.email):
        return [message.sender.email]
    # My own fresh mail with a reused subject starts a new conversation; only a marked
    # reply to someone already in it continues one.
    if not _REPLY_MARK.match(message.subject):
        return []
    return sorted({a.email for a in message.recipients} - me.addresses)


def _fallback_target(
    message: Message, index: _SubjectIndex, uf: _UnionFind, me: Identity
) -> str | None:
    """The conversation a header-less reply belongs to, or None (DESIGN.md §1).

    Among several, the most recently active one: a reply answers the latest mail.
    """
    subject = normalize_subject(message.subject)
    if not subject or message.sender is None:
        return None
    own = uf.find("k:" + message.key)
    roots: set[str] = set()
    for person in _askers(message, me):
        key = (subject, person)
        if key in index.roots:
            # Compact as we go: merged conversations leave stale roots behind, and a
            # weekly newsletter would otherwise make every lookup walk all of them.
            index.roots[key] = {uf.find(root) for root in index.roots[key]}
            roots |= index.roots[key]
    roots.discard(own)
    if not roots:
        return None
    return min(roots, key=lambda r: (-index.seen[r].latest.timestamp(), index.seen[r].anchor))


def _record(message: Message) -> _Seen:
    return _Seen(message.date or _EPOCH, message.message_id or message.key)


def _link_by_subject(messages: Sequence[Message], uf: _UnionFind, me: Identity) -> None:
    known_ids = {m.message_id for m in messages if m.message_id}
    index = _SubjectIndex(defaultdict(set), {})
    for message in messages:  # in date order: a reply joins what came before it
        node = "k:" + message.key
        own = uf.find(node)
        if not _is_linked(message, known_ids):
            target = _fallback_target(message, index, uf, me)
            if target is not None:
                uf.union(node, target)
                _merge(index, own, target, uf.find(node))
        root = uf.find(node)
        subject = normalize_subject(message.subject)
        for person in _participants(message):
            index.roots[(subject, person)].add(root)
        held = index.seen.get(root)
        index.seen[root] = _record(message) if held is None else held.merged(_record(message))


def _merge(index: _SubjectIndex, a: str, b: str, root: str) -> None:
    parts = [index.seen.pop(r) for r in {a, b} if r in index.seen]
    if parts:
        index.seen[root] = parts[0].merged(parts[1]) if len(parts) == 2 else parts[0]


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
    uf = _UnionFind()
    _link_by_headers(unique, uf)
    _link_by_subject(unique, uf, me)
    groups: dict[str, list[Message]] = defaultdict(list)
    for message in unique:
        groups[uf.find("k:" + message.key)].append(message)
    conversations = {conversation_id(msgs): tuple(msgs) for msgs in groups.values()}
    return Threads(dict(sorted(conversations.items())))
