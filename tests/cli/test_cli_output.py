"""The shapes other programs rely on: `classify --json` lines and the scan contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.support.builder import ME, Mailbox, scan

OOO = b"""From: Kathy Lopez <kathy@contoso.example>
To: alex@ghostwatch.example
Subject: Automatic reply: Proposal
Date: Mon, 16 Nov 2026 10:01:00 +0000
Auto-Submitted: auto-replied
Message-ID: <ooo-1@contoso.example>

I am out of the office until 30 November 2026 and will reply when I am back.
"""

HUMAN = b"""From: Kathy Lopez <kathy@contoso.example>
To: alex@ghostwatch.example
Subject: Re: Proposal
Date: Mon, 16 Nov 2026 10:01:00 +0000
Message-ID: <re-1@contoso.example>

Thanks Alex, this looks good. Can we talk on Thursday?
"""


def test_classify_prints_one_json_object_per_file(tmp_path: Path) -> None:
    (tmp_path / "ooo.eml").write_bytes(OOO)
    (tmp_path / "human.eml").write_bytes(HUMAN)
    files = [str(tmp_path / "ooo.eml"), str(tmp_path / "human.eml")]
    result = CliRunner().invoke(main, ["classify", *files, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [
        {
            "file",
            "class",
            "return_date",
            "failed_recipients",
            "delayed_recipients",
            "intent",
            "until",
            "signals",
        }
    ] * 2
    ooo, human = rows
    assert (ooo["file"], ooo["class"], ooo["return_date"]) == (
        files[0],
        "out_of_office",
        "2026-11-30",
    )
    assert any("Auto-Submitted" in s for s in ooo["signals"])
    assert (human["class"], human["return_date"], human["failed_recipients"]) == ("human", None, [])
    assert (human["intent"], human["until"], ooo["intent"]) == (None, None, None)


DEFERRAL = b"""From: Kathy Lopez <kathy@contoso.example>
To: alex@ghostwatch.example
Subject: Re: Proposal
Date: Thu, 31 Dec 2026 23:30:00 +0000
Message-ID: <later-1@contoso.example>

Not now, sorry - please get back to me next quarter.

On Mon, 16 Nov 2026 at 10:00, Alex Morgan <alex@ghostwatch.example> wrote:
> Please unsubscribe me if this is not for you.
"""

OPT_OUT = b"""From: Kathy Lopez <kathy@contoso.example>
To: alex@ghostwatch.example
Subject: Re: Proposal
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <stop-1@contoso.example>

Bitte nehmen Sie mich aus dem Verteiler.

Am Mo., 16. Nov. 2026 um 10:00 Uhr schrieb Alex Morgan <alex@ghostwatch.example>:
> Hallo Kathy
"""


def test_classify_prints_the_intent_and_a_deferrals_first_business_day(tmp_path: Path) -> None:
    (tmp_path / "later.eml").write_bytes(DEFERRAL)
    (tmp_path / "stop.eml").write_bytes(OPT_OUT)
    files = [str(tmp_path / "later.eml"), str(tmp_path / "stop.eml")]
    # 23:30 UTC on 31 December is already 1 January in Tokyo: "next quarter" is Q2 there.
    utc = CliRunner().invoke(main, ["classify", *files, "--json"])
    tokyo = CliRunner().invoke(main, ["classify", *files, "--json", "--tz", "Asia/Tokyo"])
    later, stop = (json.loads(line) for line in utc.stdout.splitlines())
    assert (later["class"], later["intent"], later["until"]) == ("human", "deferral", "2027-01-01")
    assert json.loads(tokyo.stdout.splitlines()[0])["until"] == "2027-04-01"
    assert (stop["intent"], stop["until"]) == ("opt_out", None)
    assert any("opt_out" in signal for signal in stop["signals"])


def test_classify_refuses_an_unknown_time_zone_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "later.eml").write_bytes(DEFERRAL)
    result = CliRunner().invoke(
        main, ["classify", str(tmp_path / "later.eml"), "--tz", "Mars/Base"]
    )
    assert result.exit_code == 2
    assert "unknown time zone" in result.output


DELAY = b"""From: Mail Delivery System <MAILER-DAEMON@mx.ghostwatch.example>
To: alex@ghostwatch.example
Subject: Delivery Status Notification (Delay)
Date: Mon, 16 Nov 2026 10:01:00 +0000
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ghostwatch.example

Final-Recipient: rfc822; kathy@contoso.example
Action: delayed
Status: 4.4.7

--B--
"""


def test_classify_names_a_delayed_recipient_apart_from_failed_ones(tmp_path: Path) -> None:
    (tmp_path / "delay.eml").write_bytes(DELAY)
    result = CliRunner().invoke(main, ["classify", str(tmp_path / "delay.eml"), "--json"])
    row = json.loads(result.stdout)
    assert (row["class"], row["failed_recipients"]) == ("auto_ack", [])
    assert row["delayed_recipients"] == ["kathy@contoso.example"]
    plain = CliRunner().invoke(main, ["classify", str(tmp_path / "delay.eml")])
    assert "auto_ack delayed: kathy@contoso.example" in plain.stdout


def test_classify_without_json_says_why(tmp_path: Path) -> None:
    (tmp_path / "ooo.eml").write_bytes(OOO)
    result = CliRunner().invoke(main, ["classify", str(tmp_path / "ooo.eml")])
    assert result.exit_code == 0
    assert "out_of_office (back 2026-11-30)" in result.stdout
    assert "Auto-Submitted" in result.stdout


def test_scan_json_has_exactly_the_contract_fields(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    first = box.add("Sent", ME, "Kathy <kathy@contoso.example>", "Proposal", "2026-11-02 10:00")
    box.add(
        "Junk",
        "Kathy <kathy@contoso.example>",
        ME,
        "RE: Proposal",
        "2026-11-03 10:00",
        reply_to=first,
    )
    result = scan(box, "2026-11-20T15:00:00+00:00")
    assert set(result) == {"now", "conversations", "junk_replies", "meetings", "suspicious"}
    assert result["now"] == "2026-11-20T15:00:00+00:00"
    [conversation] = result["conversations"]
    assert set(conversation) == {
        "id",
        "subject",
        "contacts",
        "state",
        "action",
        "attempt",
        "due_at",
        "snoozed_until",
        "reply_in_junk",
        "reasons",
    }
    [junk] = result["junk_replies"]
    assert set(junk) == {"conversation", "from", "subject", "date"}
    assert junk["date"] == "2026-11-03T10:00:00+00:00"


def test_scan_table_groups_conversations_by_state(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.add("Sent", ME, "Kathy <kathy@contoso.example>", "Proposal", "2026-11-02 10:00")
    box.add("Sent", ME, "Raj <raj@tailspin.example>", "Pilot", "2026-11-19 10:00")
    args = ["scan", "--maildir", str(box.root), "--me", ME, "--now", "2026-11-20T15:00:00+00:00"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("Due now (1)") < text.index("Proposal") < text.index("Waiting (1)")
    assert text.index("Waiting (1)") < text.index("Pilot")


def test_help_lists_every_command_and_each_loads_with_its_own_help() -> None:
    """Service, auth and health commands load lazily; a wrong mapping must not hide one."""
    runner = CliRunner()
    listed = runner.invoke(main, ["--help"])
    assert listed.exit_code == 0
    expected = {"scan", "preview", "digest", "classify", "db", "config", "init", "run"}
    expected |= {"accounts", "mute", "unmute", "note", "auth", "health", "templates"}
    commands = listed.output.split("Commands:")[1]
    assert expected <= {line.split()[0] for line in commands.splitlines() if line.strip()}
    for name in sorted(expected):
        shown = runner.invoke(main, [name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)
        assert f"Usage: main {name}" in shown.output


def test_a_plain_scan_does_not_import_the_service_or_the_sandboxes(tmp_path: Path) -> None:
    """Startup counts in every scan's wall time (issue 2's benchmark runs the CLI)."""
    Mailbox(tmp_path)
    probe = (
        "import sys; from ghostwatch.cli.main import main\n"
        "try: main(sys.argv[1:])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ghostwatch_sandbox', "
        "'ghostwatch.service.cycle', 'ghostwatch.service.app', 'ghostwatch.store', "
        "'ghostwatch.vault', 'ghostwatch.providers.google', 'ghostwatch.providers.microsoft', "
        "'googleapiclient', 'msal', 'sqlalchemy'))))"
    )
    args = ["scan", "--maildir", str(tmp_path), "--me", ME, "--json"]
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_scan_table_has_headers_whole_addresses_one_date_format_and_the_ids(
    tmp_path: Path,
) -> None:
    """Issue 16: the table a person reads holds what `mute` takes, every address whole,
    and times written one way (the ISO days the reasons use)."""
    box = Mailbox(tmp_path / "mail")
    far = "Someone <someone.with.a.long.name@a-long-company-name.example>"
    box.add("Sent", ME, far, "Proposal for the long-named company", "2026-11-02 10:00")
    box.add("Sent", ME, "Raj <raj@tailspin.example>", "Pilot", "2026-11-19 10:00")
    common = ["--maildir", str(box.root), "--me", ME, "--now", "2026-11-20T15:00:00+00:00"]
    table = CliRunner().invoke(main, ["scan", *common, "--all"]).stdout
    plan = json.loads(CliRunner().invoke(main, ["scan", *common, "--all", "--json"]).stdout)
    lines = table.splitlines()
    heads = [line.split() for line in lines if line.strip().startswith("ID ")]
    assert heads
    assert all(h == ["ID", "SUBJECT", "CONTACTS", "NEXT", "SENT", "WHEN", "WHY"] for h in heads)
    for conversation in plan["conversations"]:
        [row] = [line for line in lines if line.strip().startswith(conversation["id"] + " ")]
        assert all(contact in row for contact in conversation["contacts"])
        when = conversation["due_at"] or conversation["snoozed_until"]
        if when:
            assert datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M") in row
    stamps = re.findall(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", table)
    assert stamps == []  # no second format beside the ISO days of the reasons


def test_one_conversation_left_out_is_said_in_the_singular(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    box.add("Sent", ME, "kathy@contoso.example", "Quote", "2026-11-10 10:00")
    box.add("INBOX", "news@vendor.example", ME, "Newsletter", "2026-11-12 08:00")
    result = CliRunner().invoke(main, ["scan", "--maildir", str(box.root), "--me", ME,
                                       "--now", "2026-11-20T15:00:00+00:00"])  # fmt: skip
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last == "(1 conversation without an outside contact not shown: --all)"
