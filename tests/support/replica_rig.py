"""Real `ghostwatch run` replicas on one PostgreSQL, over Maildir accounts, and what
their logs say: which replica polled which account when (`cycle_started`/`cycle_ended`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import yaml

from ghostwatch_sandbox.logs import json_events
from tests.support.paths import REPO

GHOSTWATCH = REPO / ".venv" / "bin" / "ghostwatch"
EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replica_config(
    folder: Path, accounts: int, *, lease_seconds: float, mail_minutes: float
) -> Path:
    """A configuration of `accounts` Maildir accounts (each a copy of the example
    mailbox), polled all day every day, that every replica of the test shares."""
    entries: list[dict[str, Any]] = []
    for n in range(accounts):
        box = folder / f"mail-{n:02d}"
        if not box.exists():
            shutil.copytree(EXAMPLE, box)
        entries.append(
            {
                "name": f"acct-{n:02d}",
                "provider": "maildir",
                "address": ME,
                "digest": False,
                "working_hours": {"start": "00:00", "end": "23:59", "days": ALL_WEEK},
                "maildir": {"path": str(box)},
            }
        )
    settings = {
        "log_format": "json",
        "schedule": {
            "mail_minutes": mail_minutes,
            "calendar_minutes": 1440,
            "jitter_seconds": 1,
            "stale_after_minutes": 60,
        },
        "replicas": {"lease_seconds": lease_seconds},
        "accounts": entries,
    }
    path = folder / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int
    stopped_at: float | None = None
    """When it was killed (time.time()): a cycle still open then ended there."""

    def signal(self, number: int) -> float:
        at = time.time()
        os.kill(self.process.pid, number)
        if number == signal.SIGKILL:
            self.process.wait(timeout=10)
            self.stopped_at = at
        return at

    def events(self) -> list[dict[str, Any]]:
        """Every JSON object in the log (`ghostwatch_sandbox.logs.json_events`)."""
        return json_events(self.log)


@dataclass
class Replicas:
    folder: Path
    config: Path
    database_url: str
    started: list[Replica] = field(default_factory=list)

    def start(self, name: str) -> Replica:
        port = free_port()
        env = {
            **os.environ,
            "GHOSTWATCH_DATABASE_URL": self.database_url,
            "GHOSTWATCH_DATA_DIR": str(self.folder / f"data-{name}"),
            "GHOSTWATCH_HEALTH__ADDRESS": f"127.0.0.1:{port}",
        }
        log = self.folder / f"{name}-{len(self.started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(GHOSTWATCH), "run", "--config", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=sink,
                env=env,
            )
        replica = Replica(name, process, log, port)
        self.started.append(replica)
        return replica

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGCONT)
                replica.process.terminate()
        for replica in self.started:
            try:
                replica.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()

    def windows(self) -> list[tuple[str, str, float, float]]:
        """(replica, account, start, end) of every cycle; one cut by a kill ends then."""
        found = []
        for index, replica in enumerate(self.started):
            who = f"{replica.name}#{index}"
            opened: dict[str, float] = {}
            last = time.time()
            for event in replica.events():
                kind = event.get("event")
                if kind == "cycle_started":
                    opened[event["account"]] = event["at"]
                elif kind == "cycle_ended" and event["account"] in opened:
                    start = opened.pop(event["account"])
                    found.append((who, event["account"], start, event["at"]))
            end = replica.stopped_at or last
            found.extend((who, account, start, end) for account, start in opened.items())
        return found


def overlaps(windows: list[tuple[str, str, float, float]]) -> list[tuple[Any, Any]]:
    """Pairs of cycles of one account by two replicas whose windows overlap."""
    pairs = []
    by_account: dict[str, list[tuple[str, str, float, float]]] = {}
    for window in windows:
        by_account.setdefault(window[1], []).append(window)
    for cycles in by_account.values():
        cycles.sort(key=lambda w: w[2])
        for i, first in enumerate(cycles):
            for second in cycles[i + 1 :]:
                if second[2] >= first[3]:
                    break
                if second[0] != first[0]:
                    pairs.append((first, second))
    return pairs


def drafts_by_step(box: Path) -> dict[str, int]:
    """X-Ghostwatch-Step → how many drafts carry it, in a Maildir's Drafts."""
    counts: dict[str, int] = {}
    for path in (box / ".Drafts").glob("*/*"):
        with path.open("rb") as handle:
            headers = BytesParser(policy=compat32).parse(handle, headersonly=True)
        step = headers.get("X-Ghostwatch-Step")
        if step:
            counts[step] = counts.get(step, 0) + 1
    return counts


def iso_seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def wait_until(check: Any, timeout: float, every: float = 0.2) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(every)
        yield
