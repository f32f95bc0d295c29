"""A parsed MIME tree → the `Content` the classifier reads (text, DSN fields, quoted ids)."""

from __future__ import annotations

from email.message import Message as MimeMessage

from ghostwatch.model import Content

MAX_TEXT = 20_000


def _decoded_text(part: MimeMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def extract_content(tree: MimeMessage) -> Content:
    """The first text part's decoded text (a minimal version; DSN parsing follows)."""
    texts = [_decoded_text(p) for p in tree.walk() if p.get_content_type() == "text/plain"]
    return Content(text="\n".join(texts)[:MAX_TEXT], content_type=tree.get("content-type", ""))
