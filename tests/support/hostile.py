"""What a stranger can put in a mailbox or a calendar, as seeds for the hostile-input suite
(`tests/contracts/contract_hostile.py`).

A seed is a copy of examples/mailbox (five drafts due at NOW, a reply waiting in Junk) with
hostile messages and events added, so every test can ask: did everything the clean mailbox
gets still happen? The same seed feeds a Maildir, the Gmail sandbox and the Graph sandbox.
"""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from tests.support.builder import ME, when
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "mailbox"

EVE = "eve@stranger.example"
POISONED_SUBJECT = "Quote for Stranger Inc"
"""My sent message whose recipient holds a control character: its draft cannot be written."""
LENA = "lena.berg@margiestravel.example"
LENA_MEETING = "Intro call — Margie's Travel"
"""A missed meeting whose attendee's name holds a line separator (U+2028)."""

# Line breaks Python's str.splitlines() knows, control characters, an escape sequence and
# bidi overrides: everything that must never reach a header or a terminal as it is.
NASTY = (
    "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei\x00j\x1b[31mk\x07l\u202em\r\nBcc: evil@x.example"
)


def seed(folder: Path) -> Path:
    """A fresh copy of examples/mailbox in `folder`; its root."""
    root = folder / "seed"
    shutil.copytree(EXAMPLE, root)
    return root


def add_file(root: Path, raw: bytes, folder: str = "", name: str = "") -> Path:
    """One message file in `folder` ("" is the INBOX, else ".Sent", ".Junk"...)."""
    serial = len(list(root.glob("**/cur/*"))) + 1
    path = root / folder / "cur" / (name or f"{1795100000 + serial}.M{serial}P9.hostile:2,S")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


def raw_message(
    sender: str,
    to: str,
    subject: str,
    date: str,
    body: str = "Hello.\n",
    **headers: str,
) -> bytes:
    """A message as bytes; header values are written as given (raw bytes, no encoding),
    as a stranger's server would deliver them."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when(date))}",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8", "surrogateescape")


def poisoned_recipient(root: Path) -> None:
    """My own sent message to an address holding a control character: a nudge is due for
    it at NOW, and no header can carry that address."""
    add_file(root, raw_message(ME, f'"Eve" <eve\x01@stranger.example>, {EVE}', POISONED_SUBJECT,
                               "2026-11-12 10:00", "Here is the quote.\n",
                               Message_ID="<quote-eve@ghostwatch.example>"), ".Sent")  # fmt: skip


def event(
    uid: str,
    summary: str,
    start: str,
    attendees: list[tuple[str, str, str]],
    organizer: str = ME,
    extra: str = "",
) -> str:
    """One VEVENT (RFC 5545); attendees as (name, address, PARTSTAT)."""
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SUMMARY:{summary}",
        f"DTSTART:{start}",
        f"DTEND:{start[:9]}{int(start[9:11]) + 1:02d}{start[11:]}",
        "DTSTAMP:20261101T090000Z",
        f"ORGANIZER:mailto:{organizer}",
        *(f'ATTENDEE;CN="{n}";PARTSTAT={state}:mailto:{a}' for n, a, state in attendees),
        *([extra] if extra else []),
        "STATUS:CONFIRMED",
        "END:VEVENT",
    ]
    return "\r\n".join(lines) + "\r\n"


def add_events(root: Path, *events: str) -> None:
    """Put `events` into the seed's calendar.ics, before its END:VCALENDAR."""
    path = root / "calendar.ics"
    text = path.read_text(encoding="utf-8").rstrip()
    assert text.endswith("END:VCALENDAR")
    path.write_text(text.removesuffix("END:VCALENDAR") + "".join(events) + "END:VCALENDAR\r\n",
                    encoding="utf-8")  # fmt: skip


def separator_in_a_name(root: Path) -> None:
    """A missed meeting (Wed 18th) whose outside attendee's name holds U+2028."""
    add_events(root, event("intro-margies@ghostwatch.example", LENA_MEETING, "20261118T160000Z",
                           [("Alex Morgan", ME, "ACCEPTED"),
                            ("Lena\u2028Bcc: evil@x.example", LENA, "NEEDS-ACTION")]))  # fmt: skip


def mime_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def planted_digest(message_id: str, sender: str) -> bytes:
    """A message carrying today's digest Message-ID, as a stranger would plant it."""
    return raw_message(sender, ME, "ghostwatch: nothing needs you today", "2026-11-20 06:00",
                       "PLANTED\n", Message_ID=f"<{message_id}>")  # fmt: skip
