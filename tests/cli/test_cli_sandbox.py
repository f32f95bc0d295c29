"""`ghostwatch sandbox`: a real process serving real HTTP, and `ghostwatch run` pointed at it.

The sandbox and the daemon run as separate `python -m ghostwatch` processes sharing only
what a user's two terminals share: the configuration file, the data directory and the
key. What the daemon did is read back from the sandbox through Google's client with the
credentials the vault now holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from ghostwatch import config
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.gmail import gmail_service
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

EXAMPLE = REPO / "examples" / "mailbox"
NOW = "2026-11-20T15:00:00+00:00"  # examples/README.md's "now"
READY = "Ctrl-C stops the sandbox"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Terminal:
    """What a user's terminal shares with the other: config, data directory, key."""

    config: Path
    data: Path
    key: str = field(default_factory=new_key)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
        return {**env, "GHOSTWATCH_SECRET_KEY": self.key, "GHOSTWATCH_DATA_DIR": str(self.data)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ghostwatch", *args]
        return subprocess.run(
            command, capture_output=True, text=True, env=self.env(), timeout=120, check=False
        )


class Sandbox:
    """`ghostwatch sandbox` in the foreground of its own process; its lines in a queue."""

    def __init__(self, terminal: Terminal, port: int) -> None:
        command = [sys.executable, "-m", "ghostwatch", "sandbox", "--mailbox", str(EXAMPLE)]
        command += ["--port", str(port), "--config", str(terminal.config)]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=terminal.env(),
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.ended = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the process closed its output: it ended

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> list[str]:
        """Every line seen so far, once `count` of them contain `text`."""
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.seen) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no {count}x {text!r} in {self.seen}"
            assert not self.ended, f"no {count}x {text!r} in {self.seen}"
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.ended = True
            else:
                self.seen.append(line)
        return list(self.seen)

    def lost_its_port(self) -> bool:
        """It refused to start because another process took the port after `free_port`
        let go of it (other tests and benchmarks bind ephemeral ports all the time)."""
        try:
            self.wait_for(READY)
        except AssertionError:
            if self.ended and any("is in use" in line for line in self.seen):
                return True
            raise
        return False

    def ready(self) -> None:
        self.wait_for(READY)
        profile = requests.get(f"{self.url}/gmail/v1/users/me/profile", timeout=10)
        assert profile.status_code == 401  # it answers, and wants a token like Gmail does

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.wait_for("sandbox stopped", timeout=10)
        return code


@pytest.fixture
def terminal(tmp_path: Path) -> Terminal:
    return Terminal(tmp_path / "config" / "ghostwatch.yaml", tmp_path / "data")


Start = Callable[..., Sandbox]


@pytest.fixture
def start(terminal: Terminal) -> Iterator[Start]:
    started: list[Sandbox] = []

    def launch(port: int | None = None) -> Sandbox:
        """On `port`, or on a free one (a fresh one if it was taken before the start)."""
        for _attempt in range(3):
            sandbox = Sandbox(terminal, port or free_port())
            started.append(sandbox)
            if port is not None or not sandbox.lost_its_port():
                return sandbox
        raise AssertionError("three free ports were taken before the sandbox could bind one")

    yield launch
    for sandbox in started:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait(timeout=10)


def drafts_in(url: str, terminal: Terminal) -> dict[str, str]:
    """Step key → the X-Ghostwatch-Step header of the draft the sandbox holds for it,
    read with the sign-in the vault holds (as the daemon reads it)."""
    vault = vault_in(terminal.data, resolve_key(terminal.key, None))
    credentials = google.google_credentials(vault, "sandbox", junk_rescue=True)
    gmail = gmail_service(url, credentials)
    found = {}
    for step, draft_id in (
        GmailActions(gmail, batch_uri=f"{url}/batch/gmail/v1").existing_steps().items()
    ):
        draft = gmail.users().drafts().get(userId="me", id=draft_id, format="raw").execute()
        raw = base64.urlsafe_b64decode(draft["message"]["raw"])
        message = email.message_from_bytes(raw, policy=email.policy.default)
        found[step] = str(message["X-Ghostwatch-Step"])
    return found


def test_run_against_the_sandbox_writes_drafts_it_prints(terminal: Terminal, start: Start) -> None:
    sandbox = start()
    sandbox.ready()
    checked = terminal.run(
        "auth", "check", "--account", "sandbox", "--data-dir", str(terminal.data)
    )
    assert checked.returncode == 0, checked.stderr
    assert "sandbox: google (installed app): ok" in checked.stdout
    done = terminal.run("run", "--once", "--now", NOW, "--config", str(terminal.config))
    assert done.returncode == 0, done.stderr
    drafts = drafts_in(sandbox.url, terminal)
    assert drafts
    assert all(header == step for step, header in drafts.items())
    shown = sandbox.wait_for("draft created", count=len(drafts))
    created = [line for line in shown if line.startswith("draft created")]
    assert len(created) == len(drafts)
    for step in drafts:
        assert sum(f"[X-Ghostwatch-Step: {step}]" in line for line in created) == 1
    assert sandbox.wait_for("labels changed")  # the reply rescued from junk
    assert sandbox.wait_for("message inserted")  # the digest, into the inbox
    assert "Best," not in "\n".join(sandbox.seen)  # subjects and headers, never bodies
    assert sandbox.stop() == 0


def test_a_restart_keeps_the_config_and_starts_from_fresh_mail(
    terminal: Terminal, start: Start
) -> None:
    port = free_port()
    first = start(port)
    first.ready()
    written = terminal.config.read_text()
    done = terminal.run("run", "--once", "--now", NOW, "--config", str(terminal.config))
    assert done.returncode == 0, done.stderr
    made = drafts_in(first.url, terminal)
    assert made
    assert first.stop() == 0
    again = start(port)
    lines = again.wait_for(READY)
    assert any("already in" in line and "left as it is" in line for line in lines)
    assert any("memory of the last sandbox for 'sandbox' was reset" in line for line in lines)
    assert terminal.config.read_text() == written
    settings = config.load(terminal.config)
    assert [a.name for a in settings.accounts] == ["sandbox"]
    assert drafts_in(again.url, terminal) == {}  # its mail is new: the drafts are gone
    # ... and so is ghostwatch's memory of them: the same run writes them again.
    done = terminal.run("run", "--once", "--now", NOW, "--config", str(terminal.config))
    assert done.returncode == 0, done.stderr
    assert drafts_in(again.url, terminal) == made
    assert again.stop() == 0


def test_an_existing_config_keeps_its_accounts_and_comments(
    terminal: Terminal, start: Start, tmp_path: Path
) -> None:

    terminal.config.parent.mkdir(parents=True)
    text = f"""# my own notes
log_level: warning
accounts:
  - name: archive  # the old mail
    provider: maildir
    address: alex@ghostwatch.example
    digest_time: 07:30  # unquoted, as people write it
    maildir:
      path: {EXAMPLE}
# trailing remark
health:
  enabled: false  # no health here
"""
    terminal.config.write_text(text)
    sandbox = start()
    sandbox.ready()
    now = terminal.config.read_text()
    for line in text.splitlines():
        assert line in now.splitlines()
    accounts = config.load(terminal.config).accounts
    assert [(a.name, a.provider) for a in accounts] == [
        ("archive", "maildir"),
        ("sandbox", "gmail"),
    ]
    assert accounts[0].digest_time == dt.time(7, 30)
    gmail = accounts[1].gmail
    assert gmail is not None
    assert gmail.api_endpoint == sandbox.url
    # Polled at any hour of any day: tried on a weekend, `ghostwatch run` still polls.
    hours = accounts[1].working_hours
    assert (hours.start, hours.end) == (dt.time(0, 0), dt.time(23, 59))
    assert all(hours.works_on(day) for day in range(7))
    assert sandbox.stop() == 0
