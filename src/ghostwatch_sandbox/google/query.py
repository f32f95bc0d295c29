"""Gmail search (`q`) for messages.list, threads.list and drafts.list.

The operators of https://support.google.com/mail/answer/7190 that a sync client
uses: `in:`, `label:`, `is:`, `from:`, `to:`, `cc:`, `bcc:`, `subject:`,
`rfc822msgid:`, `after:`/`before:` (and `newer:`/`older:`), `newer_than:`/
`older_than:` (`d`, `m`, `y`), a leading `-` to negate, and bare words. Terms are
ANDed. Dates written YYYY/MM/DD are midnight Pacific time; epoch seconds are exact
(https://developers.google.com/gmail/api/guides/filtering).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ghostwatch_sandbox.google.mailbox import Mailbox
from ghostwatch_sandbox.google.message import Stored
from ghostwatch_sandbox.server import bad_request

Predicate = Callable[[Stored], bool]
_PACIFIC = ZoneInfo("America/Los_Angeles")
_IN = {
    "inbox": "INBOX",
    "sent": "SENT",
    "spam": "SPAM",
    "trash": "TRASH",
    "drafts": "DRAFT",
    "draft": "DRAFT",
    "starred": "STARRED",
    "important": "IMPORTANT",
    "unread": "UNREAD",
    "chats": "CHAT",
}
_SPAN = re.compile(r"^(\d+)([dmy])$")
_SPAN_DAYS = {"d": 1, "m": 30, "y": 365}
_GROUP = re.compile(r"(?<!\S)(-?)(\w+):\{([^}]*)\}")
_DATE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Query:
    predicates: tuple[Predicate, ...]
    spam_trash: bool
    """The query names SPAM or TRASH (or in:anywhere): those are not left out."""

    def __call__(self, stored: Stored) -> bool:
        return all(test(stored) for test in self.predicates)


def _millis(value: str) -> int:
    if value.isdigit():
        return int(value) * 1000
    match = _DATE.match(value)
    if match is None:
        raise bad_request(f"Invalid search date: {value}")
    year, month, day = (int(g) for g in match.groups())
    return int(datetime(year, month, day, tzinfo=_PACIFIC).timestamp() * 1000)


def _span_millis(value: str) -> int:
    match = _SPAN.match(value)
    if match is None:
        raise bad_request(f"Invalid search span: {value}")
    return int(match[1]) * _SPAN_DAYS[match[2]] * 86_400_000


def _has(*fields: str) -> Callable[[str], Predicate]:
    def make(value: str) -> Predicate:
        wanted = value.lower()
        return lambda m: any(wanted in m.header(name).lower() for name in fields)

    return make


def _word(value: str) -> Predicate:
    wanted = value.lower()

    def test(m: Stored) -> bool:
        text = " ".join((m.header("Subject"), m.header("From"), m.header("To"), m.snippet))
        return wanted in text.lower()

    return test


def _label(label_id: str | None) -> Predicate:
    return lambda m: label_id is not None and label_id in m.labels


class _Builder:
    def __init__(self, box: Mailbox, now_ms: int) -> None:
        self.box = box
        self.now_ms = now_ms
        self.spam_trash = False

    def term(self, operator: str, value: str) -> Predicate:
        if operator in ("in", "is", "label"):
            return self._labelled(operator, value.lower())
        if operator in ("after", "newer"):
            after = _millis(value)
            return lambda m: m.internal_date >= after
        if operator in ("before", "older"):
            before = _millis(value)
            return lambda m: m.internal_date < before
        if operator in ("newer_than", "older_than"):
            cut = self.now_ms - _span_millis(value)
            if operator == "newer_than":
                return lambda m: m.internal_date > cut
            return lambda m: m.internal_date <= cut
        fields = {
            "from": ("From",),
            "to": ("To", "Cc", "Bcc"),
            "cc": ("Cc",),
            "bcc": ("Bcc",),
            "subject": ("Subject",),
            "rfc822msgid": ("Message-ID",),
        }.get(operator)
        return _has(*fields)(value) if fields else _word(f"{operator}:{value}")

    def _labelled(self, operator: str, value: str) -> Predicate:
        if operator == "is" and value == "read":
            return lambda m: "UNREAD" not in m.labels
        if operator == "in" and value == "anywhere":
            self.spam_trash = True
            return lambda m: True
        found = self.box.label_by_name(value) if operator == "label" else None
        label_id = found.id if found is not None else _IN.get(value)
        if label_id in ("SPAM", "TRASH"):
            self.spam_trash = True
        return _label(label_id)


def _any(tests: list[Predicate]) -> Predicate:
    return lambda m: any(test(m) for test in tests)


def _grouped(builder: _Builder, text: str) -> tuple[list[Predicate], str]:
    """`operator:{a b c}` — Gmail's braces mean "any of" (support.google.com/mail/answer/
    7190). Each group becomes one OR predicate; the rest of the query is returned."""
    predicates: list[Predicate] = []

    def take(match: re.Match[str]) -> str:
        operator, values = match[2].lower(), match[3].split()
        test = _any([builder.term(operator, value) for value in values])
        predicates.append((lambda m: not test(m)) if match[1] else test)
        return " "

    return predicates, _GROUP.sub(take, text)


def parse_query(box: Mailbox, text: str | None, now_ms: int) -> Query:
    """Compile `q` into a predicate over stored messages."""
    builder = _Builder(box, now_ms)
    predicates, rest = _grouped(builder, text or "")
    try:
        tokens = shlex.split(rest)
    except ValueError:
        tokens = rest.split()
    for token in tokens:
        negate = token.startswith("-") and len(token) > 1
        body = token[1:] if negate else token
        operator, sep, value = body.partition(":")
        test = builder.term(operator.lower(), value) if sep and value else _word(body)
        predicates.append((lambda t: lambda m: not t(m))(test) if negate else test)
    return Query(tuple(predicates), builder.spam_trash)
