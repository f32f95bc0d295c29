"""`ghostwatch preview` and `ghostwatch digest` on the example mailbox, as a user runs them."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import Message
from pathlib import Path

from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "mailbox"
ARGS = [
    "--maildir",
    str(EXAMPLE),
    "--me",
    "alex@ghostwatch.example",
    "--now",
    "2026-11-20T15:00:00+00:00",
    "--tz",
    "Europe/London",
]


def _run(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_preview_json_lists_one_draft_per_due_step() -> None:
    drafts = json.loads(_run("preview", *ARGS, "--json")[0])
    fields = {"conversation", "step", "to", "subject", "in_reply_to", "text", "html"}
    assert all(set(d) == fields for d in drafts)
    scan = json.loads(_run("scan", *ARGS, "--json")[0])
    due = {c["id"]: c["action"] for c in scan["conversations"] if c["state"] == "due"}
    missed = {m["uid"] for m in scan["meetings"] if m["action"] == "meeting_followup"}
    assert {d["conversation"]: d["step"] for d in drafts if d["step"] != "meeting_followup"} == due
    assert {d["conversation"] for d in drafts if d["step"] == "meeting_followup"} == missed


def test_preview_drafts_reply_in_the_conversation_to_its_contacts() -> None:
    drafts = json.loads(_run("preview", *ARGS, "--json")[0])
    [kathy] = [d for d in drafts if d["subject"] == "Re: Proposal: Ghostwatch for Contoso"]
    assert kathy["to"] == ["kathy.lopez@contoso.example"]
    assert kathy["in_reply_to"] == "20261116100000.94D75F3C2C3A@mail.ghostwatch.example"
    assert kathy["text"].startswith("Hi Kathy,")
    assert "Alex Morgan" in kathy["text"]  # signed with the name from Alex's own sent mail
    assert all(d["subject"].count("Re:") <= 1 for d in drafts)


def test_preview_without_json_shows_headers_and_text() -> None:
    out = _run("preview", *ARGS)[0]
    assert "To: Kathy Lopez <kathy.lopez@contoso.example>" in out
    assert "Subject: Re: Proposal: Ghostwatch for Contoso" in out


def test_digest_writes_html_and_a_whole_message(tmp_path: Path) -> None:
    html, eml = tmp_path / "digest.html", tmp_path / "digest.eml"
    _, err = _run("digest", *ARGS, "--out", str(html), "--eml", str(eml))
    assert str(html) in err
    page = html.read_text()
    for heading in ("Needs you today", "Waiting", "Let go", "Your numbers"):
        assert heading in page
    message: Message = email.message_from_bytes(eml.read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == message["From"]
    assert message["Date"] is not None
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]  # type: ignore[union-attr]


def test_digest_since_controls_let_go_shown_once(tmp_path: Path) -> None:
    before, after = tmp_path / "before.html", tmp_path / "after.html"
    _run("digest", *ARGS, "--out", str(before), "--since", "2026-11-17T00:00:00+00:00")
    _run("digest", *ARGS, "--out", str(after), "--since", "2026-11-19T00:00:00+00:00")
    assert "Trial for the Alpine Ski House sales team" in before.read_text()
    assert "Trial for the Alpine Ski House sales team" not in after.read_text()


def test_the_digest_command_writes_nothing_and_does_not_claim_it_did(tmp_path: Path) -> None:
    """Issue 16: `ghostwatch digest` reads a Maildir and writes a file; a digest saying
    "Drafts written … in your Drafts folder" or "rescued from Junk" would be untrue."""
    html, eml = tmp_path / "digest.html", tmp_path / "digest.eml"
    _run("digest", *ARGS, "--out", str(html), "--eml", str(eml))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for page in (html.read_text(), text, str(message["Subject"])):
        assert "in your Drafts folder" not in page
        assert "Drafts written" not in page
        assert "rescued from Junk" not in page
    assert "Drafts due" in text
    assert "not written: a preview" in text
    assert str(message["Subject"]).startswith("ghostwatch (preview): ")
