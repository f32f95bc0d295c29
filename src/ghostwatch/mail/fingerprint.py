"""What a draft says, digested: how ghostwatch tells its own unedited draft from one the
user touched (docs/rules.md, "Drafts stay true").

The digest covers what a person reads and sends — the subject, who it goes to, the text —
in a canonical form that survives a provider's round trip: header words decoded (RFC
2047), addresses lower-cased and sorted, HTML reduced to its visible text (a server that
wraps the body in its own `<html><head>`, restyles it or re-encodes it changes none of
that), every run of whitespace one space. Any edit a person can see changes it; what only
a server does to the bytes does not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from email.message import Message as MimeMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

from ghostwatch.mail import mime
from ghostwatch.mail.parse import decode_words

VERSION = "1"
"""Part of every digest: a later change of the canonical form never matches an old one,
so a draft written before it is kept (never deleted on a guess)."""


def fingerprint(subject: str, recipients: Iterable[str], bodies: Iterable[tuple[str, str]]) -> str:
    """The digest of a draft: `bodies` are (content type, text) pairs, `text/html` ones
    reduced to their visible text."""
    canonical = {
        "v": VERSION,
        "subject": _words(subject),
        "to": sorted({address.strip().lower() for address in recipients if address.strip()}),
        "bodies": sorted(_words(_visible(kind, text)) for kind, text in bodies),
    }
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def fingerprint_mime(raw: bytes) -> str:
    """The digest of a draft kept as RFC 5322 bytes (Gmail `raw`, a Maildir file, an
    IMAP message): its Subject, To and Cc, and every text part that is not an attachment."""
    tree = BytesParser(policy=compat32).parsebytes(raw)
    fields = [str(value) for name in ("To", "Cc") for value in tree.get_all(name, [])]
    recipients = [address for _name, address in getaddresses(fields)]
    return fingerprint(decode_words(str(tree.get("Subject", ""))), recipients, _texts(tree))


def _texts(tree: MimeMessage) -> list[tuple[str, str]]:
    found = []
    for part in tree.walk():
        kind = part.get_content_type()
        if part.is_multipart() or part.get_filename() or kind not in ("text/plain", "text/html"):
            continue
        found.append((kind, mime.decoded_text(part)))
    return found


def _visible(kind: str, text: str) -> str:
    return mime.html_to_text(text) if kind.lower() == "text/html" else text


def _words(text: str) -> str:
    return " ".join(text.split())
