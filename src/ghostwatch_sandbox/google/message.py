"""One stored Gmail message: its raw RFC 5322 bytes and what Gmail derives from them.

Gmail keeps the bytes and exposes `payload.headers` unfolded (RFC 5322 §2.2.3) and
decoded (RFC 2047), a `snippet` of the body text, `sizeEstimate` and `internalDate`
(https://developers.google.com/gmail/api/reference/rest/v1/users.messages).
"""

from __future__ import annotations

import email.errors
import email.header
import html
import re
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.parser import BytesParser
from email.policy import compat32

from ghostwatch.mail import mime, parse

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr|antw)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
SNIPPET_CHARS = 200


def unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def decode_header(value: str) -> str:
    """An RFC 2047-decoded header value, as Gmail returns it in `payload.headers`."""
    value = unfold(value)
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        return value


def subject_key(subject: str) -> str:
    """A subject without reply/forward prefixes, for Gmail's same-subject threading rule."""
    return " ".join(_PREFIX.sub("", subject).split()).lower()


def headers_of(part: MimeMessage) -> list[tuple[str, str]]:
    return [(name, decode_header(str(value))) for name, value in part.items()]


def _first_text(tree: MimeMessage) -> str:
    html_text = ""
    for part in tree.walk():
        kind = part.get_content_type()
        if part.is_multipart() or part.get_filename():
            continue
        if kind == "text/plain":
            return mime.decoded_text(part)
        if kind == "text/html" and not html_text:
            html_text = mime.html_to_text(mime.decoded_text(part))
    return html_text


def snippet_of(tree: MimeMessage) -> str:
    """The start of the body text, whitespace collapsed and HTML-escaped like Gmail's."""
    text = " ".join(_first_text(tree).split())
    return html.escape(text[:SNIPPET_CHARS])


@dataclass(slots=True)
class Stored:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_date: int
    """Milliseconds since the epoch."""
    history_id: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    snippet: str = ""
    _first: dict[str, str] | None = field(default=None, repr=False, compare=False)
    """Lower-cased name → its first value, built on first use: a search tests a header
    of every message, 100,000 of them in a benchmark, for each term of a query."""

    def header(self, name: str) -> str:
        if self._first is None:
            first: dict[str, str] = {}
            for key, value in self.headers:
                first.setdefault(key.lower(), value)
            self._first = first
        return self._first.get(name.lower(), "")

    @property
    def rfc_id(self) -> str | None:
        ids = parse.message_ids([self.header("Message-ID")]) if self.header("Message-ID") else ()
        return ids[0] if ids else None

    @property
    def references(self) -> tuple[str, ...]:
        values = [self.header("In-Reply-To"), self.header("References")]
        return parse.message_ids([v for v in values if v])

    @property
    def subject_key(self) -> str:
        return subject_key(self.header("Subject"))

    def tree(self) -> MimeMessage:
        return parsed(self.raw)

    def brief(self) -> dict[str, object]:
        """The `{id, threadId, labelIds}` shape of history records and modify answers."""
        return {"id": self.id, "threadId": self.thread_id, "labelIds": list(self.labels)}


def parsed(raw: bytes) -> MimeMessage:
    """The MIME tree; one nested deeper than the parser's recursion (a stranger's message)
    keeps its headers and an empty body, as Gmail stores such a message as it came."""
    try:
        return BytesParser(policy=compat32).parsebytes(raw)
    except RecursionError:
        tree = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
        tree.set_payload("")
        return tree


def parse_raw(raw: bytes) -> tuple[list[tuple[str, str]], str, int | None]:
    """(headers, snippet, Date header in ms) of raw message bytes."""
    tree = parsed(raw)
    headers = headers_of(tree)
    date_value = next((v for k, v in headers if k.lower() == "date"), None)
    when, _ = parse.parse_date(date_value)
    millis = int(when.timestamp() * 1000) if when is not None else None
    return headers, snippet_of(tree), millis
