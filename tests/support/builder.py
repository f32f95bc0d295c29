"""Build small Maildir++ mailboxes in temporary folders, and scan them via the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from itertools import count
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ghostwatch.cli.main import main
from ghostwatch_sandbox.dovecot import dovecot_binary

ME = "alex@ghostwatch.example"
THROUGH = ("gmail", "outlook", *(("imap",) if dovecot_binary() is not None else ()))
"""The providers every scenario is also read through (`scan --through`)."""


def when(text: str) -> datetime:
    """'2026-11-16 10:00' (UTC) or any ISO time with an offset."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Mailbox:
    """A Maildir++ tree: INBOX at the root, other folders as `.Name`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._serial = count(1)
        self.folder("INBOX")

    def folder(self, name: str) -> Path:
        path = self.root if name == "INBOX" else self.root / f".{name}"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def add_bytes(self, folder: str, raw: bytes, sub: str = "cur") -> Path:
        serial = next(self._serial)
        path = self.folder(folder) / sub / f"{1700000000 + serial}.M{serial}P1.test:2,S"
        path.write_bytes(raw)
        return path

    def add(
        self,
        folder: str,
        sender: str,
        to: str | list[str],
        subject: str,
        date: str,
        *,
        cc: str | list[str] = (),  # type: ignore[assignment]
        reply_to: str | None = None,
        references: list[str] | None = None,
        body: str = "Hello,\n\nThanks.\n",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        message_id: str | None = None,
    ) -> str:
        """Write one message; returns its Message-ID (with angle brackets)."""
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to if isinstance(to, str) else ", ".join(to)
        if cc:
            msg["Cc"] = cc if isinstance(cc, str) else ", ".join(cc)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when(date))
        msg["Message-ID"] = message_id or make_msgid(domain="test.example")
        if reply_to:
            msg["In-Reply-To"] = reply_to
            msg["References"] = " ".join([*(references or []), reply_to])
        pairs = headers.items() if isinstance(headers, dict) else headers or []
        for name, value in pairs:  # a list keeps repeated fields in order, topmost first
            msg[name] = value
        msg.set_content(body)
        self.add_bytes(folder, bytes(msg))
        return str(msg["Message-ID"])

    def calendar(self, text: str) -> None:
        (self.root / "calendar.ics").write_text(text)


def _scan_json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def scan(box: Mailbox, now: str, me: str = ME, *extra: str, tz: str = "UTC") -> dict[str, Any]:
    """Run `ghostwatch scan --json` exactly as a user would; return the parsed JSON.

    Every scenario is also read through the Gmail provider and its sandbox (`--through
    gmail`), through the Outlook provider and the Graph sandbox (`--through outlook`) and,
    where Dovecot is installed, through the IMAP provider and a real Dovecot and Radicale
    (`--through imap`; without Dovecot, tests/providers/imap says how to install it), which
    must decide the same (the issues: agreement on every mailbox in the test suite),
    meetings included: the sandboxes serve the mailbox's calendar.ics through Calendar v3
    / calendarView (and attendance through Meet v2 / Teams reports), Radicale over CalDAV.
    """
    args = ["scan", "--maildir", str(box.root), "--me", me, "--now", when(now).isoformat()]
    args += ["--tz", tz, "--json", *extra]
    direct = _scan_json(args)
    for provider in THROUGH:
        through = _scan_json([*args, "--through", provider])
        for part in ("now", "conversations", "junk_replies", "meetings"):
            assert through[part] == direct[part], f"--through {provider} disagrees on {part}"
    return direct


def by_subject(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["subject"]: c for c in result["conversations"]}


def only(result: dict[str, Any]) -> dict[str, Any]:
    """The single tracked conversation of a scenario."""
    conversations = result["conversations"]
    assert len(conversations) == 1, conversations
    found: dict[str, Any] = conversations[0]
    return found
