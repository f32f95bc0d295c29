"""Gmail search (`q`) for messages.list, threads.list and drafts.list: the documented
grammar, and a 400 for anything this emulator does not implement.

The grammar of Gmail's search help (https://support.google.com/mail/answer/7190):

    query   := clause*                    clauses side by side must all match
    clause  := unary ("OR" unary)*        OR, in capitals, between two terms
    unary   := "-" unary | primary        a leading - removes what matches
    primary := "(" query ")"              ( ) groups terms
             | "{" unary* "}"             { } matches any of the terms inside
             | operator ":" value         from:amy, after:2004/04/16
             | operator ":(" query ")"    subject:(dinner movie): the operator on each
             | '"' phrase '"' | word

Operators implemented: `from:`, `to:`, `cc:`, `bcc:`, `subject:`, `rfc822msgid:`,
`label:`, `in:` (inbox, sent, drafts, spam, trash, starred, important, chats,
anywhere), `is:` (read, unread, starred, important), `after:`/`before:` and their
`newer:`/`older:` forms (YYYY/MM/DD or MM/DD/YYYY at midnight Pacific time, or epoch
seconds, https://developers.google.com/gmail/api/guides/filtering) and
`newer_than:`/`older_than:` (`d`, `m`, `y`). Bare words and phrases match the subject,
the addresses and the snippet (Gmail searches the whole text; close enough here).

Everything else — another operator (`has:`, `list:`, `AROUND`, …), `AND`, braces
after an operator (`from:{a b}`, a form the help does not document) — is refused
with Gmail's 400 error body, never answered with an empty list: a client relying on
syntax the emulator does not know must find out in its tests, not in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ghostwatch_sandbox.google.mailbox import Mailbox
from ghostwatch_sandbox.google.message import Stored
from ghostwatch_sandbox.server import ApiError

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
    "chats": "CHAT",
}
_IS = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT"}
_FIELDS = {
    "from": ("From",),
    "to": ("To", "Cc", "Bcc"),
    "cc": ("Cc",),
    "bcc": ("Bcc",),
    "subject": ("Subject",),
    "rfc822msgid": ("Message-ID",),
}
_DATES = ("after", "before", "newer", "older")
_SPANS = ("newer_than", "older_than")
OPERATORS = frozenset({*_FIELDS, *_DATES, *_SPANS, "in", "is", "label"})
_SPAN = re.compile(r"^(\d+)([dmy])$")
_SPAN_DAYS = {"d": 1, "m": 30, "y": 365}
_YMD = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_PIECE = re.compile(r'\s+|[^\s(){}"]*"[^"]*"|[(){}]|[^\s(){}"]+|"')
"""Whitespace, a phrase with what is glued before it (`-`, `subject:`), a bracket, a word;
a quote left over is unmatched."""
_OPERATOR = re.compile(r"^([A-Za-z_0-9]+):(.*)$", re.DOTALL)


def invalid(detail: str) -> ApiError:
    """Gmail's answer to a `q` it cannot use: 400, INVALID_ARGUMENT, naming the parameter."""
    return ApiError(
        400, f"Invalid query: {detail}", "invalidArgument", location="q", locationType="parameter"
    )


@dataclass(frozen=True, slots=True)
class Query:
    test: Predicate
    spam_trash: bool
    """The query names SPAM or TRASH (or in:anywhere): those are not left out."""

    def __call__(self, stored: Stored) -> bool:
        return self.test(stored)


# --- pieces ----------------------------------------------------------------------------


def _pieces(text: str) -> list[str]:
    """Words, "phrases" and the brackets; a lone unmatched quote is refused."""
    found = [t for t in _PIECE.findall(text) if not t.isspace()]
    if '"' in found:
        raise invalid("an unmatched quote")
    return _glued(found)


def _glued(pieces: list[str]) -> list[str]:
    """`subject:` directly followed by `(`: one piece `subject:(`, as Gmail reads it.
    Braces there (`from:{…}`) are not documented and are refused."""
    out: list[str] = []
    for piece in pieces:
        if out and out[-1].endswith(":") and piece in ("(", "{"):
            if piece == "{":
                raise invalid(f"braces after an operator ({out[-1]}{{…}}) are not documented")
            out[-1] += piece
        else:
            out.append(piece)
    return out


# --- terms -----------------------------------------------------------------------------


def _millis(value: str) -> int:
    if value.isdigit():
        return int(value) * 1000
    ymd, mdy = _YMD.match(value), _MDY.match(value)
    if ymd is not None:
        year, month, day = (int(g) for g in ymd.groups())
    elif mdy is not None:
        month, day, year = (int(g) for g in mdy.groups())
    else:
        raise invalid(f"a date must be YYYY/MM/DD, MM/DD/YYYY or epoch seconds: {value!r}")
    try:
        return int(datetime(year, month, day, tzinfo=_PACIFIC).timestamp() * 1000)
    except ValueError:
        raise invalid(f"no such date: {value!r}") from None


def _span_millis(value: str) -> int:
    match = _SPAN.match(value)
    if match is None:
        raise invalid(f"a span must be a number and d, m or y: {value!r}")
    return int(match[1]) * _SPAN_DAYS[match[2]] * 86_400_000


def _contains(fields: tuple[str, ...], value: str) -> Predicate:
    wanted = value.strip('"').lower()
    return lambda m: any(wanted in m.header(name).lower() for name in fields)


def _word(value: str) -> Predicate:
    wanted = value.strip('"').lower()

    def test(m: Stored) -> bool:
        text = " ".join((m.header("Subject"), m.header("From"), m.header("To"), m.snippet))
        return wanted in text.lower()

    return test


def _labelled(label_id: str) -> Predicate:
    return lambda m: label_id in m.labels


class _Terms:
    """Turns one `operator:value` into a predicate; notes whether SPAM/TRASH is named."""

    def __init__(self, box: Mailbox, now_ms: int) -> None:
        self.box = box
        self.now_ms = now_ms
        self.spam_trash = False

    def term(self, operator: str, value: str) -> Predicate:
        if operator not in OPERATORS:
            raise invalid(f"the operator {operator}: is not implemented by this emulator")
        if not value:
            raise invalid(f"{operator}: needs a value")
        if operator in _FIELDS:
            return _contains(_FIELDS[operator], value)
        if operator in _DATES:
            return self._dated(operator, _millis(value))
        if operator in _SPANS:
            return self._aged(operator, self.now_ms - _span_millis(value))
        return self._placed(operator, value.lower())

    @staticmethod
    def _dated(operator: str, at: int) -> Predicate:
        if operator in ("after", "newer"):
            return lambda m: m.internal_date >= at
        return lambda m: m.internal_date < at

    @staticmethod
    def _aged(operator: str, cut: int) -> Predicate:
        if operator == "newer_than":
            return lambda m: m.internal_date > cut
        return lambda m: m.internal_date <= cut

    def _placed(self, operator: str, value: str) -> Predicate:
        if operator == "label":
            found = self.box.label_by_name(value)
            return _labelled(found.id) if found is not None else (lambda m: False)
        if operator == "is":
            return self._status(value)
        if value == "anywhere":
            self.spam_trash = True
            return lambda m: True
        if value not in _IN:
            raise invalid(f"in:{value} is not implemented by this emulator")
        self.spam_trash = self.spam_trash or _IN[value] in ("SPAM", "TRASH")
        return _labelled(_IN[value])

    @staticmethod
    def _status(value: str) -> Predicate:
        if value == "read":
            return lambda m: "UNREAD" not in m.labels
        if value not in _IS:
            raise invalid(f"is:{value} is not implemented by this emulator")
        return _labelled(_IS[value])


# --- the parser ------------------------------------------------------------------------


def _all(tests: list[Predicate]) -> Predicate:
    return lambda m: all(test(m) for test in tests)


def _any(tests: list[Predicate]) -> Predicate:
    return lambda m: any(test(m) for test in tests)


def _not(test: Predicate) -> Predicate:
    return lambda m: not test(m)


class _Parser:
    """Recursive descent over the pieces; `field` is the operator of `op:( … )`, which
    bare words inside take on."""

    def __init__(self, pieces: list[str], terms: _Terms) -> None:
        self.pieces = pieces
        self.at = 0
        self.terms = terms

    def peek(self) -> str | None:
        return self.pieces[self.at] if self.at < len(self.pieces) else None

    def take(self) -> str:
        if self.at >= len(self.pieces):
            raise invalid("it ends where a term was expected")
        piece = self.pieces[self.at]
        self.at += 1
        return piece

    def query(self, field: str | None = None, closer: str | None = None) -> Predicate:
        tests = list(self._clauses(field, closer))
        if closer is not None:
            if self.peek() != closer:
                raise invalid(f"a missing {closer!r}")
            self.take()
            if not tests:
                raise invalid("an empty group")
        return _all(tests)

    def _clauses(self, field: str | None, closer: str | None) -> Iterator[Predicate]:
        while (piece := self.peek()) is not None and piece != closer:
            if piece in (")", "}"):
                raise invalid(f"an unmatched {piece!r}")
            yield self._clause(field)

    def _clause(self, field: str | None) -> Predicate:
        tests = [self._unary(field)]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "}", "OR"):
                raise invalid("OR needs a term on each side")
            tests.append(self._unary(field))
        return tests[0] if len(tests) == 1 else _any(tests)

    def _unary(self, field: str | None) -> Predicate:
        piece = self.peek()
        if piece == "-":
            self.take()  # `-(…)`, `-{…}`: the minus stands alone before the bracket
            return _not(self._unary(field))
        if piece is not None and piece.startswith("-"):
            self.pieces[self.at] = piece[1:]
            return _not(self._unary(field))
        return self._primary(field)

    def _primary(self, field: str | None) -> Predicate:
        piece = self.take()
        if piece == "(":
            return self.query(field, ")")
        if piece == "{":
            return self._either(field)
        if piece in ("OR", "AND", "AROUND"):
            raise invalid(f"{piece} where a term was expected" if piece == "OR" else
                          f"{piece} is not implemented by this emulator")  # fmt: skip
        if piece.endswith(":(") and _OPERATOR.match(piece):
            if field is not None:
                raise invalid("an operator inside another operator's group")
            return self.query(piece[:-2].lower(), ")")
        return self._term(piece, field)

    def _either(self, field: str | None) -> Predicate:
        tests: list[Predicate] = []
        while self.peek() not in ("}", None):
            tests.append(self._unary(field))
        if self.peek() is None or not tests:
            raise invalid("an empty or unclosed { }")
        self.take()
        return _any(tests)

    def _term(self, piece: str, field: str | None) -> Predicate:
        match = _OPERATOR.match(piece) if not piece.startswith('"') else None
        if match is None:
            return self.terms.term(field, piece) if field is not None else _word(piece)
        if field is not None:
            raise invalid("an operator inside another operator's group")
        return self.terms.term(match[1].lower(), match[2])


def parse_query(box: Mailbox, text: str | None, now_ms: int) -> Query:
    """Compile `q` into a predicate over stored messages (400 for what is not implemented)."""
    terms = _Terms(box, now_ms)
    parser = _Parser(_pieces(text or ""), terms)
    test = parser.query()
    return Query(test, terms.spam_trash)
