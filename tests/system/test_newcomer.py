"""The newcomer test (issue 16): the README's walkthrough "Your own daemon against a local
Gmail", run as written from a fresh clone of this repository. The commands are read from
the README itself, so the test and the text cannot drift apart: each runs in its own
process; the sandbox in the background (terminal 1), on a free port; `ID` is taken from
the table `scan` printed; the commands that run until stopped get Ctrl-C (SIGINT). Every
exit code, `run --once`'s summary and `accounts` are checked, and at the end the clone's
`git status` must show nothing: the walkthrough writes no tracked file and leaves nothing
that `.gitignore` does not cover."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.paths import REPO

HEADING = "### Your own daemon against a local Gmail"


def walkthrough() -> list[str]:
    """The README block under HEADING: its commands, comments and blank lines dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split(HEADING, 1)[1]
    block = re.search(r"\n\n((?:    .*\n|\n)+)", after)
    assert block, "no indented command block under the walkthrough's heading"
    commands = []
    for line in block.group(1).splitlines():
        command = line.strip().split("  #", 1)[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Newcomer:
    """One person with two terminals in a fresh clone."""

    clone: Path
    env: dict[str, str]
    key: str = ""
    table: str = ""
    said: str = ""
    """What the last command started in the background printed until it was ready."""
    background: list[subprocess.Popen[str]] = field(default_factory=list)

    def argv(self, command: str) -> list[str]:
        words = shlex.split(command)
        assert words[0] == "ghostwatch", command
        return [sys.executable, "-m", "ghostwatch", *words[1:]]

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command), cwd=self.clone, env=self.env, capture_output=True,
            text=True, timeout=180, check=False,
        )  # fmt: skip

    def start(self, command: str, ready: str) -> subprocess.Popen[str]:
        """In the background until `ready` is on its stdout."""
        process = subprocess.Popen(
            self.argv(command), cwd=self.clone, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.background.append(process)
        assert process.stdout is not None
        seen, deadline = "", time.monotonic() + 120
        while ready not in seen:
            assert time.monotonic() < deadline, seen
            line = process.stdout.readline()
            assert line or process.poll() is None, (seen, process.stderr and process.stderr.read())
            seen += line
        self.said = seen
        return process


def interrupt(process: subprocess.Popen[str]) -> str:
    """Ctrl-C; its stderr, once it has ended."""
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def newcomer(tmp_path: Path) -> Newcomer:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout to clone")
    clone = tmp_path / "ghostwatch"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    return Newcomer(clone, env)


def test_the_readme_walkthrough_from_a_fresh_clone(newcomer: Newcomer) -> None:
    commands = walkthrough()
    assert any(c.startswith("ghostwatch sandbox") for c in commands)
    try:
        for command in commands:
            follow(newcomer, command)
    finally:
        for process in newcomer.background:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=newcomer.clone,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert status.stdout == ""  # nothing tracked changed, nothing left unignored


def follow(person: Newcomer, command: str) -> None:
    """One line of the walkthrough, as a person would type it, checked as they would."""
    if command.startswith("export "):
        name, _, value = command.removeprefix("export ").partition("=")
        person.env[name] = person.key if value == "..." else value
    elif command == "ghostwatch auth key":
        done = person.run(command)
        assert done.returncode == 0, done.stderr
        person.key = done.stdout.strip()
    elif command.startswith("ghostwatch sandbox"):
        person.start(f"{command} --port {free_port()}", "Ctrl-C stops the sandbox")
    elif command == "ghostwatch run":
        interrupt(person.start(command, "Ctrl-C or SIGTERM stops it"))
        # Whatever the day the newcomer tries it (a Sunday included), the sandbox's
        # account polls now: "next poll Mon ...: the weekend" left them watching nothing.
        # It says so as the README's sample of the plan does ("every 5 min", never the
        # "5.0" a file's `mail_minutes: 5` validated to).
        (plan,) = [line for line in person.said.splitlines() if line.startswith("  sandbox")]
        assert plan.startswith("  sandbox (gmail, UTC): first poll within "), person.said
        assert f"\n    {plan}\n" in (REPO / "README.md").read_text(encoding="utf-8"), plan
        sandbox = person.background[0]
        assert "interrupted" in interrupt(sandbox)
    else:
        if " ID" in f"{command} ":
            command = command.replace(" ID", f" {due_id(person.table)}")
        done = person.run(command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, command
        check_output(person, command, done.stdout)


def readme_summary() -> str:
    """The line the README says `run --once` ends with, for the walkthrough's account."""
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    found = re.search(r"counts only \(`(sandbox: [^`]+)`", text)
    assert found, "the README no longer shows run --once's summary"
    return found.group(1)


def check_output(person: Newcomer, command: str, out: str) -> None:
    if command.startswith("ghostwatch run --once"):
        [line] = out.splitlines()
        assert line == readme_summary()  # the README's own sample of it, word for word
    elif command == "ghostwatch accounts":
        assert out.startswith("sandbox: gmail\n")
        assert "signed in" in out
        assert "last error: none" in out
        assert "failing" not in out
    elif command.startswith("ghostwatch scan"):
        person.table = out
    elif command.startswith("ghostwatch mute"):
        assert out.startswith("muted ")


def due_id(table: str) -> str:
    """The first id of the "Due now" section of a scan table."""
    section = table.split("Due now (", 1)[1].splitlines()
    assert section[1].split()[0] == "ID"
    return section[2].split()[0]
