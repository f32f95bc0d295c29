"""A parsed MIME tree → the `Content` the classifier reads (text, DSN fields, quoted ids).

Real mailboxes hold every kind of damage: unknown charsets, broken base64, missing
boundaries, parts nested a hundred deep. Nothing here may raise: a message we cannot
read is still a message, classified from its headers.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from html.parser import HTMLParser
from typing import TypeGuard

import structlog

from ghostwatch.mail import dsn
from ghostwatch.model.mail import Content, DeliveryStatus

MAX_TEXT = 20_000
MAX_BODY_BYTES = 4 * 1024 * 1024
"""The most of one message ghostwatch reads (the `max_body_bytes` setting's default).
Every signal the classifier reads sits in the headers and the first parts (a bounce's
report, an absence notice's text); what lies beyond is attachments, or a stranger making
a cycle slow: two 24 MB messages once took 33 s and 375 MB. A longer message is cut
here and judged by its headers and the parts that fit."""
MAX_HTML_CHARS = 1_000_000
"""HTML parsed for its visible text: MAX_TEXT characters of text never need more markup
than this, and Python's HTMLParser costs about a second per few MB."""
MAX_DEPTH = 12
"""Deeper nesting is either an attack or a loop of forwarded bounces; neither adds text."""
MAX_PARTS = 300

_HEADER_PARSER = HeaderParser(policy=compat32)
_INLINE_MSGID = re.compile(r"^[ \t>]*Message-I[Dd]:[ \t]*<([^<>\s]+@[^<>\s]+)>", re.M | re.I)
_INLINE_RCPT = re.compile(r"^[ \t>]*(?:To|Cc):[ \t]*(.+)$", re.M | re.I)
# The line a text-only bounce writes above the original it pastes back.
_PASTED_ORIGINAL = re.compile(
    r"^[ \t]*-{2,}.*(?:original|copy of|below this line|undelivered message|unsent message"
    r"|message headers)",
    re.M | re.I,
)
_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_MSGID = re.compile(r"<([^<>\s]+)>")
_BLANK_LINES = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLOCK_TAGS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "table", "blockquote"})


@dataclass
class _Found:
    """What the walk collects, in document order."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    statuses: list[DeliveryStatus] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    parts: int = 0


class _TextOfHtml(HTMLParser):
    """HTML reduced to its visible text, block elements as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's own complaints on broken markup
        pass
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.chunks).split("\n"))
    return "\n".join(line for line in lines if line)


def _charset(part: MimeMessage) -> str:
    try:
        return part.get_content_charset() or "utf-8"
    except (LookupError, ValueError, UnicodeError):
        return "utf-8"


def _payload_bytes(part: MimeMessage) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, UnicodeError, binascii.Error):
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""


def decoded_text(part: MimeMessage) -> str:
    """A leaf part's text in its declared charset; unknown or lying charsets degrade."""
    payload = _payload_bytes(part)
    charset = _charset(part)
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError):
        return payload.decode("utf-8", errors="replace")


def _first(block: MimeMessage, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _status_blocks(part: MimeMessage) -> list[MimeMessage]:
    """The per-recipient blocks of a message/delivery-status part (RFC 3464 §2.1)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, MimeMessage)]
    text = decoded_text(part) if isinstance(payload, str) else ""
    return [_HEADER_PARSER.parsestr(chunk) for chunk in _BLANK_LINES.split(text.strip())]


def delivery_statuses(part: MimeMessage) -> list[DeliveryStatus]:
    return [
        status
        for block in _status_blocks(part)
        for status in dsn.statuses((name, str(value)) for name, value in block.items())
    ]


def _note_returned_headers(headers: MimeMessage, found: _Found) -> None:
    found.ids.extend(_MSGID.findall(_first(headers, "message-id")))
    for name in ("to", "cc"):
        found.recipients.extend(a.lower() for a in _ADDR.findall(_first(headers, name)))


def _returned_original(part: MimeMessage, found: _Found) -> None:
    """A message/rfc822 or text/rfc822-headers part: the original a report returns."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], MimeMessage):
        _note_returned_headers(payload[0], found)
    elif isinstance(payload, str):
        _note_returned_headers(_HEADER_PARSER.parsestr(decoded_text(part)), found)


def _leaf(part: MimeMessage, kind: str, found: _Found) -> None:
    if kind == "message/delivery-status":
        found.statuses.extend(delivery_statuses(part))
    elif kind == "text/rfc822-headers":
        _returned_original(part, found)
    elif kind == "text/html":
        found.html.append(html_to_text(decoded_text(part)[:MAX_HTML_CHARS]))
    elif part.get_content_maintype() == "text" or _hidden_text(part, kind):
        found.plain.append(decoded_text(part))


def _hidden_text(part: MimeMessage, kind: str) -> bool:
    """Broken multiparts (no boundary) and unnamed octet-streams still hold text."""
    unnamed = part.get_filename() is None
    return unnamed and (kind == "application/octet-stream" or kind.startswith("multipart/"))


def _is_report(payload: object) -> TypeGuard[list[MimeMessage]]:
    """A message/rfc822 payload that is itself a delivery report (RFC 6522, RFC 3464)."""
    if not (isinstance(payload, list) and payload and isinstance(payload[0], MimeMessage)):
        return False
    inner = payload[0]
    kind = str(inner.get_param("report-type", "")).lower()
    return inner.get_content_type() == "multipart/report" and kind == "delivery-status"


def _walk(part: MimeMessage, depth: int, found: _Found) -> None:
    found.parts += 1
    if depth > MAX_DEPTH or found.parts > MAX_PARTS:
        return
    kind = part.get_content_type()
    payload = part.get_payload()
    if kind == "message/rfc822" and not found.statuses and _is_report(payload):
        # A bounce forwarded or wrapped as an attachment: its own report is the evidence.
        # (Once a report has been read, a report it returns is a double bounce: the
        # inner one is about the bounce, not about my message.)
        _walk(payload[0], depth + 1, found)
    elif kind == "message/rfc822":
        # The returned original is someone else's text (often mine): keep only its ids.
        _returned_original(part, found)
    elif isinstance(payload, list) and kind != "message/delivery-status":
        for child in payload:
            if isinstance(child, MimeMessage):
                _walk(child, depth + 1, found)
    else:
        _leaf(part, kind, found)


def _inline_returned(text: str, found: _Found) -> None:
    """Non-standard bounces paste the original's headers into the text itself: its
    Message-ID, and (only where a Message-ID or a "copy of the message" line shows that
    headers follow) its To and Cc."""
    ids = _INLINE_MSGID.findall(text)
    found.ids.extend(ids)
    pasted = _PASTED_ORIGINAL.search(text)
    if ids or pasted:
        headers = text if ids or pasted is None else text[pasted.start() :]
        for line in _INLINE_RCPT.findall(headers):
            found.recipients.extend(a.lower() for a in _ADDR.findall(line))


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _content(tree: MimeMessage) -> Content:
    found = _Found()
    _walk(tree, 0, found)
    text = "\n".join(found.plain if any(t.strip() for t in found.plain) else found.html)
    text = text.replace("\r\n", "\n")[:MAX_TEXT]
    _inline_returned(text, found)
    return Content(
        text=text,
        delivery_status=tuple(found.statuses),
        returned_message_ids=_unique(found.ids),
        returned_recipients=_unique(found.recipients),
        quoted_statuses=tuple(dsn.quoted_statuses(text)),
        content_type=" ".join(str(tree.get("content-type", "")).split()),
    )


def content_of(raw: bytes, limit: int = MAX_BODY_BYTES) -> Content:
    """The `Content` of a raw message, of its first `limit` bytes at most (a message cut
    short parses as one whose last part lost its end: the parser notes a defect and goes
    on). The stdlib parser recurses once per nested multipart, so a hostile nesting
    (about a thousand deep) exhausts the stack before MAX_DEPTH is ever checked: such a
    message is read without its body."""
    if len(raw) > limit:
        structlog.get_logger(__name__).info("body_cut", bytes=len(raw), limit=limit)
        raw = raw[:limit]
    try:
        tree = BytesParser(policy=compat32).parsebytes(raw)
    except RecursionError:
        structlog.get_logger(__name__).warning("body_skipped", reason="MIME nested too deep")
        return Content()
    return extract_content(tree)


def extract_content(tree: MimeMessage) -> Content:
    """Text, DSN blocks and the returned original's ids from a parsed message."""
    try:
        return _content(tree)
    except Exception:  # noqa: BLE001 — never lose a message to a parser bug
        try:
            return Content(content_type=" ".join(str(tree.get("content-type", "")).split()))
        except Exception:  # noqa: BLE001 — a header that cannot even be read
            return Content()
