"""What a stranger wrote reaches the terminal shown, never obeyed (cli/terminal.py): `scan`,
`preview`, `classify` and error lines carry no escape sequence or control character, and
`--json` keeps the exact value, escaped."""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.support.builder import ME, Mailbox
from tests.support.hostile import event, raw_message

# A CSI colour, an OSC window title, an OSC 8 link, a C1 CSI, a line separator, a bidi
# override and a bell: what a subject can carry to make a terminal act or lie.
HOSTILE = (
    "Quote \x1b[31mURGENT\x1b[0m \x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\click"
    "\x1b]8;;\x1b\\ \x9b2J\u2028next\u202eevil\x07 end"
)
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NOW = "2026-11-20T15:00:00+00:00"


def _mailbox(tmp_path: Path) -> Mailbox:
    box = Mailbox(tmp_path / "mail")
    box.add_bytes("Sent", raw_message(f"Alex <{ME}>", "Kathy \x1b[2J <kathy@contoso.example>",
                                      HOSTILE, "2026-11-10 10:00", "Here is the quote.\n",
                                      Message_ID="<quote-1@ghostwatch.example>"))  # fmt: skip
    return box


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def _mailbox_args(box: Mailbox) -> list[str]:
    return ["--maildir", str(box.root), "--me", ME, "--now", NOW, "--tz", "UTC"]


def test_scan_and_preview_show_a_hostile_subject_without_its_controls(tmp_path: Path) -> None:
    box = _mailbox(tmp_path)
    for command in (["scan"], ["preview"]):
        code, out, err = _run([*command, *_mailbox_args(box)])
        assert code == 0, err
        assert "URGENT" in out  # the words are shown...
        assert RAW_CONTROL.search(out) is None, repr(out)  # ...and nothing the terminal acts on
        assert "pwned" not in out  # OSC bodies are dropped with their escape
        assert "https://evil.example" not in out


def test_scan_json_keeps_the_exact_subject_escaped(tmp_path: Path) -> None:
    code, out, err = _run(["scan", *_mailbox_args(_mailbox(tmp_path)), "--json"])
    assert code == 0, err
    assert RAW_CONTROL.search(out) is None, repr(out)
    [conversation] = json.loads(out)["conversations"]
    assert "\x1b[31mURGENT" in conversation["subject"]  # the data is the sender's, unchanged
    assert "\x9b2J" in conversation["subject"]


def test_classify_shows_a_hostile_message_without_its_controls(tmp_path: Path) -> None:
    raw = raw_message("\x1b]0;pwned\x07MAILER-DAEMON <mailer-daemon@contoso.example>", ME,
                      f"Undelivered: {HOSTILE}", "2026-11-16 10:00",
                      f"Delivery failed \x1b[5m{HOSTILE}\n", X_Mailer=HOSTILE,
                      Auto_Submitted="auto-replied")  # fmt: skip
    path = tmp_path / "bounce\x1b[31m.eml"
    path.write_bytes(raw)
    for extra in ([], ["--json"]):
        code, out, err = _run(["classify", str(path), *extra])
        assert code == 0, err
        assert "bounce" in out
        assert RAW_CONTROL.search(out) is None, repr(out)


def test_an_error_naming_a_hostile_path_is_shown_without_its_controls(tmp_path: Path) -> None:
    folder = tmp_path / "not\x1b]0;pwned\x07 a maildir"
    folder.mkdir()
    code, _, err = _run(["scan", "--maildir", str(folder), "--me", ME])
    assert code == 2
    assert "is not a Maildir" in err
    assert RAW_CONTROL.search(err) is None, repr(err)


def test_a_hostile_subject_leaves_the_table_columns_in_line(tmp_path: Path) -> None:
    """The widths are those of the text shown: measured with the escape sequences, the
    hostile row's contact sat columns to the left of every other row's."""
    box = _mailbox(tmp_path)
    box.add_bytes("Sent", raw_message(f"Alex <{ME}>", "Sam <sam@fabrikam.example>", "Plain quote",
                                      "2026-11-10 11:00", "Here is the quote.\n",
                                      Message_ID="<quote-2@ghostwatch.example>"))  # fmt: skip
    code, out, err = _run(["scan", *_mailbox_args(box)])
    assert code == 0, err
    lines = out.splitlines()
    head = next(line for line in lines if "CONTACTS" in line)
    rows = [line for line in lines if "@" in line]
    assert len(rows) == 2, out
    starts = [row.index("kathy@" if "kathy@" in row else "sam@") for row in rows]
    assert starts == [head.index("CONTACTS")] * 2, out


def test_the_digest_shows_a_strangers_subject_without_its_controls(tmp_path: Path) -> None:
    """A reply found in Junk is listed in the digest with its sender's subject: in the
    text part (a terminal mail client, or `cat` of the .eml) and the HTML it is shown,
    never obeyed (mail/visible.py)."""
    box = Mailbox(tmp_path / "mail")
    box.add_bytes("Sent", raw_message(f"Alex <{ME}>", "Raj <raj@tailspin.example>", "Plan",
                                      "2026-11-10 10:00", "The plan.\n",
                                      Message_ID="<plan@ghostwatch.example>"))  # fmt: skip
    box.add_bytes("Junk", raw_message("\"R\x1b]0;pwned\x07aj\" <raj@tailspin.example>", ME,
                                      f"Re: Plan {HOSTILE}", "2026-11-11 10:00", "Sounds good.\n",
                                      In_Reply_To="<plan@ghostwatch.example>"))  # fmt: skip
    out, eml = tmp_path / "digest.html", tmp_path / "digest.eml"
    code, _, err = _run(["digest", *_mailbox_args(box), "--out", str(out), "--eml", str(eml)])
    assert code == 0, err
    message = BytesParser(policy=default).parsebytes(eml.read_bytes())
    parts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    assert len(parts) == 2
    for text in (*parts, out.read_text(encoding="utf-8")):
        assert "URGENT" in text  # the reply is listed...
        assert RAW_CONTROL.search(text.replace("\r", "")) is None, repr(text)  # ...shown
        assert "pwned" not in text
        assert "https://evil.example" not in text


def _missed_meeting(tmp_path: Path, title: str) -> Mailbox:
    """A mailbox whose calendar holds a stranger's meeting called `title` that Eve missed."""
    box = Mailbox(tmp_path / "mail")
    meeting = event(
        "evil@stranger.example",
        title,
        "20261118T160000Z",
        [("Eve", "eve@stranger.example", "NEEDS-ACTION"), ("Alex", ME, "ACCEPTED")],
    )
    box.calendar(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{meeting}END:VCALENDAR\r\n"
    )
    return box


def test_a_meeting_title_with_line_feeds_adds_no_row_to_the_table(tmp_path: Path) -> None:
    """An invitation's SUMMARY may hold line feeds (RFC 5545 TEXT escapes `\\n`): in the
    table each started a line of its own, where it read as a section or a row nobody
    wrote. Inside a cell, a stranger's value is one line (cli/terminal.py, `cell`)."""
    box = _missed_meeting(tmp_path, "Call\\nDue now (9)\\n  ffffffffffff  Fake row")
    for command in (["scan"], ["preview"]):
        code, out, err = _run([*command, *_mailbox_args(box)])
        assert code == 0, err
        assert "Call Due now (9) ffffffffffff Fake row" in out.replace("…", ""), out
        assert not [line for line in out.splitlines() if "Fake row" in line and "Call" not in line]
        assert "Due now (9)" not in [line.strip() for line in out.splitlines()]


def test_a_meeting_title_with_line_feeds_adds_no_line_to_the_digest(tmp_path: Path) -> None:
    """The digest's text part lays out one line per item and note: a title's line feeds
    started lines of their own there too (compose/digest_parts.py, `Item`)."""
    box = _missed_meeting(tmp_path, "Call\\nNEEDS YOU TODAY\\n  * Fake item")
    out, eml = tmp_path / "digest.html", tmp_path / "digest.eml"
    code, _, err = _run(["digest", *_mailbox_args(box), "--out", str(out), "--eml", str(eml)])
    assert code == 0, err
    message = BytesParser(policy=default).parsebytes(eml.read_bytes())
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    lines = str(body.get_content()).splitlines()
    assert [line for line in lines if "Call NEEDS YOU TODAY * Fake item" in line], lines
    assert not [line for line in lines if line.strip() == "* Fake item"], lines
    assert sum(line.strip() == "NEEDS YOU TODAY" for line in lines) <= 1, lines
