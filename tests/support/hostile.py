"""What a stranger can put in a mailbox or a calendar, as seeds for the hostile-input suite
(`tests/contracts/contract_hostile.py`).

A seed is a copy of examples/mailbox (five drafts due at NOW, a reply waiting in Junk) with
hostile messages and events added, so every test can ask: did everything the clean mailbox
gets still happen? The same seed feeds a Maildir, the Gmail sandbox and the Graph sandbox.
"""

from __future__ import annotations

import base64
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


OTTO = "otto.lang@lucerne.example"
"""The organiser of a meeting I accepted and he missed, whose uid, title and his own name
are RFC 2047 encoded words (mail/outgoing.py)."""
SMUGGLED = "=?utf-8?b?" + base64.b64encode(b"x\r\nBcc: evil@x.example").decode() + "?="
"""An encoded word that decodes to a line break and a Bcc field of its own."""
ANGLED = "=?utf-8?q?=3Cevil=40x.example=3E?="
"""An encoded word that decodes to an angle address: `<evil@x.example>`."""


def encoded_word_meeting(root: Path) -> None:
    """A meeting (Wed 18th) that Otto organised and I accepted, which he missed: a
    follow-up draft is due to him, made of what he wrote."""
    add_events(root, event(f"{SMUGGLED}@lucerne.example", f"Call {SMUGGLED}", "20261118T150000Z",
                           [("Alex Morgan", ME, "ACCEPTED"), (ANGLED, OTTO, "NEEDS-ACTION")],
                           organizer=OTTO))  # fmt: skip


def mime_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def planted_digest(message_id: str, sender: str) -> bytes:
    """A message carrying today's digest Message-ID, as a stranger would plant it."""
    return raw_message(sender, ME, "ghostwatch: nothing needs you today", "2026-11-20 06:00",
                       "PLANTED\n", Message_ID=f"<{message_id}>")  # fmt: skip


# --- headers a stranger writes: forged senders, control characters, separators ----------

NINA = "nina@nested.example"
NESTED_SUBJECT = "Quote for Nested Inc"
"""My sent message whose answers are a huge message and a deeply nested one."""


def nasty_headers(root: Path) -> None:
    """Mail whose every header we read holds control characters, line separators, NUL,
    an escape sequence and bidi overrides: in the Inbox and in Junk."""
    for folder, n in (("", 1), (".Junk", 2)):
        add_file(root, raw_message(
            f'"Eve{NASTY}" <{EVE}>', f'"Alex{NASTY}" <{ME}>', f"Invoice {NASTY}",
            "2026-11-19 08:00", f"Body {NASTY}\n",
            Message_ID=f"<nasty-{n}{NASTY}@stranger.example>",
            In_Reply_To=f"<{NASTY}>",
            References=" ".join(f"<ref-{i}\u2028@x>" for i in range(300)),
            Reply_To=f"{NASTY} <{EVE}>",
            Cc=f'"\u2029" <cc\x01@stranger.example>, {NASTY}',
            Auto_Submitted=NASTY,
            Authentication_Results=NASTY,
        ), folder)  # fmt: skip


def huge_and_nested(root: Path, megabytes: int = 6, depth: int = 1500) -> None:
    """My quote to Nina, answered by a message of `megabytes` MB (over the 4 MiB body
    limit) and by one nested `depth` multiparts deep (past any recursion limit)."""
    quote = "<quote-nina@ghostwatch.example>"
    add_file(root, raw_message(ME, NINA, NESTED_SUBJECT, "2026-11-12 10:00", "The quote.\n",
                               Message_ID=quote), ".Sent")  # fmt: skip
    huge = "Thanks, we will read it.\n" + ("y" * 99 + "\n") * (megabytes * 10_486)
    add_file(root, raw_message(NINA, ME, f"Re: {NESTED_SUBJECT}", "2026-11-13 10:00", huge,
                               Message_ID="<huge@nested.example>", In_Reply_To=quote,
                               References=quote))  # fmt: skip
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    nested = raw_message(NINA, ME, f"Re: {NESTED_SUBJECT}", "2026-11-14 10:00", "",
                         Message_ID="<nested@nested.example>", In_Reply_To=quote,
                         References=quote)  # fmt: skip
    head, _, _ = nested.partition(b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
    add_file(root, head + opening.encode() + b"Content-Type: text/plain\r\n\r\nDeep.\r\n")


def strangers_invitation(root: Path) -> None:
    """A stranger's invitation to me (Thu 19th), every text field hostile."""
    add_events(root, event(f"stranger{NASTY[:3]}@stranger.example", f"Free money {NASTY}",
                           "20261119T140000Z",
                           [(f"Eve{NASTY}", EVE, "ACCEPTED"), ("Alex Morgan", ME, "NEEDS-ACTION")]
                           + [(f"Guest {i}", f"guest{i}@stranger.example", "ACCEPTED")
                              for i in range(200)],
                           organizer=EVE,
                           extra=f"DESCRIPTION:{'z' * 100_000}\r\nLOCATION:{NASTY}"))  # fmt: skip


def garbage_calendar(root: Path) -> None:
    """Events a broken or hostile calendar holds: a start that is no date, none at all,
    an end before the start, and a rule that repeats every minute."""
    add_events(
        root,
        "BEGIN:VEVENT\r\nUID:no-date@x\r\nSUMMARY:No date\r\nDTSTART:tomorrow-ish\r\n"
        "END:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:no-start@x\r\nSUMMARY:No start\r\nEND:VEVENT\r\n",
        event(
            "backwards@x", "Backwards", "20261118T150000Z", [("Eve", EVE, "ACCEPTED")],
            extra="DTEND:20261101T000000Z",
        ),
        event(
            "every-minute@x", "Every minute", "20261101T000000Z", [("Eve", EVE, "ACCEPTED")],
            organizer=EVE, extra="RRULE:FREQ=MINUTELY",
        ),
    )  # fmt: skip
