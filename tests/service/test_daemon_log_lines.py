"""A real `ghostwatch run` whose stderr is not a terminal writes JSON lines only: its own
events, and APScheduler's (a poll skipped because the previous one still runs) rendered
the same way, so a log collector parses every line (logs.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from ghostwatch.providers.google import signin as google
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME
from tests.support.paths import EXAMPLES

SKIPPED = "maximum number of running instances reached"


def _config(tmp_path: Path, sandbox: GmailSandbox) -> Path:
    account = {
        "name": "alex",
        "provider": "gmail",
        "address": ME,
        "digest": False,
        # Every hour of every day: the polls run whenever the test does.
        "working_hours": {
            "start": "00:00",
            "end": "23:59",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        "gmail": {
            "api_endpoint": sandbox.url,
            "batch_uri": sandbox.batch_uri,
            "calendar_endpoint": f"{sandbox.url}/calendar/v3/",
            "meet_endpoint": sandbox.url,
        },
    }
    settings = {
        "data_dir": str(tmp_path / "data"),
        "health": {"enabled": False},
        # A poll every 3 s, the first one held up longer by the sandbox.
        "schedule": {"mail_minutes": 0.05, "jitter_seconds": 0},
        "accounts": [account],
    }
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def _wait_for(text: str, log: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.2)


def test_every_stderr_line_of_the_daemon_is_json_apscheduler_s_too(tmp_path: Path) -> None:
    key = new_key()
    log = tmp_path / "stderr.log"
    with GmailSandbox.serve(EXAMPLES / "mailbox", user=ME) as sandbox:
        vault = vault_in(tmp_path / "data", resolve_key(key, None))
        granted = sandbox.sign_in(google.google_scopes(junk_rescue=False))
        google.store_user_login(vault, "alex", granted)
        sandbox.faults.add("slow", count=1, method="messages.list", delay=5)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
        env |= {"GHOSTWATCH_SECRET_KEY": key, "OAUTHLIB_INSECURE_TRANSPORT": "1"}
        command = [sys.executable, "-m", "ghostwatch", "run", "--config"]
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*command, str(_config(tmp_path, sandbox))], stderr=stderr, env=env
            )
            try:
                _wait_for(SKIPPED, log, process)
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
    lines = log.read_text().splitlines()
    events: list[dict[str, Any]] = [json.loads(line) for line in lines]  # each, whole
    assert code == 0
    skipped = [e for e in events if SKIPPED in e["event"]]
    assert skipped
    assert {(e["logger"], e["level"]) for e in skipped} == {("apscheduler.scheduler", "warning")}
    assert all("timestamp" in e for e in events)
    assert events[-1]["event"] == "daemon_stopped"
