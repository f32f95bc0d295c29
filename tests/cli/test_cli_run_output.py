"""`ghostwatch run` speaks to the person who started it (issue 16, found 4): `--once`
ends with a line per account on stdout and a non-zero exit when any action failed; the
daemon's start says each account's next poll and why it is not now. Real processes
over a real Maildir account."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import yaml

from tests.support.paths import EXAMPLES

NOW = "2026-11-20T15:00:00+00:00"
ME = "alex@ghostwatch.example"


def _configure(tmp_path: Path, *accounts: dict[str, object]) -> Path:
    settings = {"data_dir": str(tmp_path / "data"), "health": {"enabled": False},
                "log_format": "json", "accounts": list(accounts)}  # fmt: skip
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def _maildir_account(tmp_path: Path, name: str = "alex", **more: object) -> dict[str, object]:
    shutil.copytree(EXAMPLES / "mailbox", tmp_path / name)
    return {"name": name, "provider": "maildir", "address": ME, "time_zone": "Europe/London",
            "junk_rescue": True, "maildir": {"path": str(tmp_path / name)}, **more}  # fmt: skip


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", "run", "--config", str(config), *args],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip


def _steps(folder: Path) -> int:
    return sum("X-Ghostwatch-Step" in p.read_text(errors="replace") for p in folder.iterdir())


def test_once_says_what_it_did_per_account_on_stdout(tmp_path: Path) -> None:
    account = _maildir_account(tmp_path)
    junk_before = len(list((tmp_path / "alex" / ".Junk" / "cur").iterdir()))
    done = _run(_configure(tmp_path, account), "--once", "--now", NOW)
    assert done.returncode == 0, done.stderr
    drafts = _steps(tmp_path / "alex" / ".Drafts" / "cur")
    rescued = junk_before - len(list((tmp_path / "alex" / ".Junk" / "cur").iterdir()))
    assert drafts > 1
    assert rescued == 1
    expected = f"alex: {drafts} drafts, {rescued} rescued from Junk, digest delivered"
    assert done.stdout.splitlines() == [expected]
    again = _run(_configure(tmp_path, account), "--once", "--now", NOW)
    assert again.stdout.splitlines() == ["alex: nothing new"]


def test_once_says_a_muted_conversations_draft_was_withdrawn(tmp_path: Path) -> None:
    """`ghostwatch mute` then `run --once`, as the README's walkthrough does: the draft
    taken back is said, not "nothing new" (which read as if the mute did nothing)."""
    config = _configure(tmp_path, _maildir_account(tmp_path))
    assert _run(config, "--once", "--now", NOW).returncode == 0
    drafts = tmp_path / "alex" / ".Drafts" / "cur"
    before = _steps(drafts)
    muted = subprocess.run(
        [sys.executable, "-m", "ghostwatch", "mute", "5b9e46e613a3", "--config", str(config)],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert muted.returncode == 0, muted.stderr
    again = _run(config, "--once", "--now", NOW)
    assert again.returncode == 0, again.stderr
    assert _steps(drafts) == before - 1
    assert again.stdout.splitlines() == ["alex: 1 draft withdrawn (no longer needed)"]


def test_run_with_no_enabled_account_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A daemon that watches nothing would run for ever and look healthy; a cron job
    would succeed every time. Both say what to do instead, before starting anything."""
    config = _configure(tmp_path, _maildir_account(tmp_path, enabled=False))
    expected = (
        "Error: no enabled account in the configuration: sign one in (`ghostwatch auth "
        "...`), then set `enabled: true` on it (`ghostwatch config check` lists them)\n"
    )
    for args in (("--once",), ()):
        done = _run(config, *args)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", expected), args


def test_once_exits_non_zero_and_says_so_when_an_action_failed(tmp_path: Path) -> None:
    account = _maildir_account(tmp_path)
    drafts = tmp_path / "alex" / ".Drafts"
    shutil.rmtree(drafts)
    drafts.write_text("a file where the Drafts folder should be")
    done = _run(_configure(tmp_path, account), "--once", "--now", NOW)
    assert done.returncode == 1
    [line] = done.stdout.splitlines()
    assert line.startswith("alex: ")
    assert "actions failed: create_draft: cannot write into" in line
    assert done.stderr.splitlines()[-1].startswith("Error: alex: ")
    assert "action(s) failed (create_draft x" in done.stderr.splitlines()[-1]


def _next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_the_daemon_says_each_accounts_next_poll_and_why(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    # One account that may poll at any hour, one whose working hours are not now.
    hour = (now.hour + 3) % 24 if now.hour < 20 else 1
    window = {"start": f"{hour:02d}:00", "end": f"{hour:02d}:30"}
    always = _maildir_account(tmp_path, "always", time_zone="UTC",
                              working_hours={"start": "00:00", "end": "23:59"})  # fmt: skip
    later = _maildir_account(tmp_path, "later", time_zone="UTC", working_hours=window)
    config = _configure(tmp_path, always, later)
    process = subprocess.Popen(
        [sys.executable, "-m", "ghostwatch", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert process.stdout is not None
    said = [process.stdout.readline() for _ in range(4)]
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert said[0].startswith("ghostwatch running: 2 accounts")
    weekend = now.weekday() >= 5
    today, start = now.date(), clock(hour, 0)
    if weekend:
        first = datetime.combine(_next_business_day(today), clock(0, 0))
        assert f"next poll {first:%a %d %b %H:%M}: the weekend until then" in said[1]
    else:
        plan = "first poll within 30 s, then every 5 min until 23:59"
        assert f"always (maildir, UTC): {plan}" in said[1]
    day = today if not weekend and now.time() < start else _next_business_day(today)
    why = "the weekend" if weekend else "outside working hours"
    expected = f"next poll {datetime.combine(day, start):%a %d %b %H:%M}: {why} until then"
    assert said[2].startswith("  later (maildir, UTC): ")
    assert expected in said[2]
    assert said[3].startswith("Ctrl-C or SIGTERM stops it")


def test_maildir_drafts_carry_a_date_and_a_message_id(tmp_path: Path) -> None:
    """Issue 16: a Maildir draft is read as it is (no server fills them in), and one
    without Date sorts as undated in a mail client."""
    account = _maildir_account(tmp_path)
    assert _run(_configure(tmp_path, account), "--once", "--now", NOW).returncode == 0
    ids = []
    for path in (tmp_path / "alex" / ".Drafts" / "cur").iterdir():
        draft = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if draft["X-Ghostwatch-Step"] is None:
            continue
        assert email.utils.parsedate_to_datetime(str(draft["Date"])).tzinfo is not None
        ids.append(str(draft["Message-ID"]))
        assert ids[-1].endswith("@ghostwatch.example>")
    assert len(ids) > 1
    assert len(set(ids)) == len(ids)


# ECMA-48 control sequences (CSI … final byte): what a terminal draws with, not text.
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def _terminal_lines(raw: bytes) -> list[str]:
    """What each line of a terminal shows: a carriage return starts its line again."""
    text = _CSI.sub("", raw.decode(errors="replace"))
    return [line.rpartition("\r")[2] for line in text.replace("\r\n", "\n").split("\n")]


def test_progress_on_a_terminal_never_runs_into_a_log_line(tmp_path: Path) -> None:
    """Issue 16: the running count ("alex: 41 messages read", no newline) and the next
    log line ended up on one line. stderr is a real pseudo-terminal here."""
    account = _maildir_account(tmp_path)
    drafts = tmp_path / "alex" / ".Drafts"
    shutil.rmtree(drafts)
    drafts.write_text("not a folder: every draft fails, and each failure is logged")
    config = _configure(tmp_path, account)
    config.write_text(config.read_text().replace("log_format: json", "log_format: console"))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ghostwatch", "run", "--once", "--now", NOW, "--config",
         str(config)], stdout=subprocess.PIPE, stderr=terminal, env=_env(),
    )  # fmt: skip
    os.close(terminal)
    raw = b""
    while chunk := _read(controller):
        raw += chunk
    os.close(controller)
    process.wait(timeout=60)
    lines = _terminal_lines(raw)
    assert any("messages read" in line for line in lines)  # the count was shown
    logged = [line for line in lines if "cycle_action_failed" in line]
    assert logged
    for line in logged:
        assert re.match(r"\d{4}-\d\d-\d\dT", line), line  # the log line starts its line
        assert line.rstrip().endswith("Not a directory'"), line  # whole, never cut


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the process closed its end of the terminal
        return b""
