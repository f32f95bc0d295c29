"""The daemon: a simulated business week-end through APScheduler's own job processing on a
fake clock, against the Gmail sandbox (polls, the digest, a restart); account isolation;
and the real process stopping on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
import yaml
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

from ghostwatch import config
from ghostwatch.service.app import SignIns, build_daemon
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.pipeline import compose_drafts, run_scan
from ghostwatch.service.wiring import (
    Mailbox,
    ProviderRegistry,
    default_registry,
    rules_for,
    sender_for,
)
from ghostwatch.store import LedgerStatus, Store
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.paths import REPO
from tests.support.sandbox_fixtures import client

ROOT = REPO
EXAMPLE = ROOT / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
FRIDAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # Europe/London is on UTC in November


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class SimulatedScheduler(BaseScheduler):  # type: ignore[misc]
    """APScheduler's own job processing (triggers, jitter, coalescing, max_instances),
    stepped by the test from one due job to the next instead of by a timer thread."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(timezone=UTC, executors={"default": DebugExecutor()})
        self.clock = clock

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass  # nothing sleeps: run_until decides when the next round is

    def run_until(self, end: datetime) -> None:
        while True:
            due = [job.next_run_time for job in self.get_jobs() if job.next_run_time]
            if not due or min(due) > end:
                self.clock.now = end
                return
            self.clock.now = max(self.clock.now, min(due))
            self._process_jobs()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """APScheduler 3 reads `datetime.now` itself; the fake clock answers it."""
    fake = FakeClock(FRIDAY)

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return fake.now.astimezone(tz) if tz is not None else fake.now.replace(tzinfo=None)

    for module in (apscheduler.schedulers.base, apscheduler.executors.base):
        monkeypatch.setattr(module, "datetime", FakeDatetime)
    return fake


def _settings(gmail: config.GmailOptions, tmp_path: Path, **account: Any) -> config.Settings:
    return config.Settings(
        data_dir=tmp_path,
        schedule=config.ScheduleConfig(mail_minutes=120, calendar_minutes=240, jitter_seconds=60),
        accounts=[
            config.AccountConfig(
                name="alex",
                provider="gmail",
                address=ME,
                time_zone="Europe/London",
                display_name="Alex Morgan",
                gmail=gmail,
                **account,
            )
        ],
    )


@dataclass
class Week:
    sandbox: GmailSandbox
    store: Store
    settings: config.Settings
    clock: FakeClock

    def daemon(self) -> tuple[Daemon, SimulatedScheduler]:
        sign_ins = SignIns(google=lambda a: self.sandbox.credentials())
        daemon = build_daemon(self.settings, self.store, sign_ins, self.clock)
        scheduler = SimulatedScheduler(self.clock)
        daemon.schedule(scheduler)
        scheduler.start()
        return daemon, scheduler

    def inserts(self) -> int:
        return sum(1 for w in self.sandbox.writes if w.method == "messages.insert")

    def steps(self) -> Counter[str]:
        """Step keys of every draft in the mailbox, counted (a duplicate shows as 2)."""
        gmail, found = client(self.sandbox), Counter[str]()
        for draft in gmail.users().drafts().list(userId="me").execute().get("drafts", []):
            got = gmail.users().drafts().get(userId="me", id=draft["id"]).execute()
            headers = got["message"]["payload"]["headers"]
            found.update(h["value"] for h in headers if h["name"] == "X-Ghostwatch-Step")
        return found

    def due_keys(self, at: datetime) -> set[str]:
        account = self.settings.accounts[0]
        registry = default_registry(lambda a: self.sandbox.credentials(), clock=self.clock)
        opened = registry.open(account)
        scan = run_scan(opened.source, rules_for(account), at)
        drafts = compose_drafts(scan, opened.source, sender_for(account), account.zone)
        return {d.step_key for d in drafts}


@pytest.fixture
def week(tmp_path: Path, clock: FakeClock) -> Iterator[Week]:
    stamp = lambda: clock.now.timestamp()  # noqa: E731 - the sandbox lives on the fake clock too
    with (
        GmailSandbox.serve(seed=EXAMPLE, user=ME, clock=stamp) as sandbox,
        Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store,
    ):
        store.upgrade()
        settings = _settings(config.GmailOptions.sandbox(sandbox.url), tmp_path)
        yield Week(sandbox, store, settings, clock)


def test_a_simulated_friday_weekend_and_monday(week: Week) -> None:
    daemon, scheduler = week.daemon()
    scheduler.run_until(FRIDAY.replace(hour=7, minute=29))
    assert week.inserts() == 0  # before working hours and the digest: nothing ran
    scheduler.run_until(FRIDAY.replace(hour=11, minute=59))
    assert week.inserts() == 1  # the 07:30 digest
    # The digest, mail polls at 08:00 and 10:00 (06:00 was before working hours), the
    # calendar poll at 10:00.
    assert daemon.metrics.cycles.labels("alex", "ok")._value.get() == 4

    # A restart at noon: a new daemon and schedule on the same store and mailbox.
    scheduler.shutdown()
    daemon, scheduler = week.daemon()
    scheduler.run_until(datetime(2026, 11, 21, 0, 0, tzinfo=UTC))
    assert week.inserts() == 1  # the restarted daemon does not deliver Friday's again
    calls = week.sandbox.meter.calls
    scheduler.run_until(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert week.sandbox.meter.calls == calls  # no polls, no digest at the weekend
    scheduler.run_until(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    scheduler.shutdown()

    assert week.inserts() == 2  # Friday's and Monday's
    with week.store.transaction() as tx:
        days = {day: tx.entry(1, f"digest:2026-11-{day}") for day in (20, 21, 22, 23)}
        [info] = tx.accounts()
    assert {d for d, e in days.items() if e and e.status == LedgerStatus.DONE} == {20, 23}
    assert info.last_error is None
    assert info.last_cycle_at is not None
    steps = week.steps()
    assert all(n == 1 for n in steps.values())
    assert set(steps) == week.due_keys(info.last_cycle_at.replace(tzinfo=UTC))
    assert week.sandbox.sent == []


def test_the_daemon_follows_up_nothing_past_the_horizon(week: Week) -> None:
    """docs/rules.md "Horizon": with a 10-day look-back, the conversation whose latest
    message is older (its break-up is due with the default 90 days) gets no draft, and
    the daemon writes exactly what `scan` decides within the same look-back."""
    account = week.settings.accounts[0]
    wide = week.due_keys(FRIDAY)
    week.settings.accounts[0] = account.model_copy(update={"look_back_days": 10})
    narrow = week.due_keys(FRIDAY)
    assert any("/breakup/" in key for key in wide)
    assert not any("/breakup/" in key for key in narrow)
    assert narrow < wide
    daemon, _ = week.daemon()
    report = daemon.run_once()["alex"]
    assert report is not None
    assert report.errors == []
    assert set(week.steps()) == narrow


def test_a_rate_limit_answer_is_waited_out_and_counted_in_metrics(week: Week) -> None:
    daemon, _ = week.daemon()
    week.sandbox.faults.add("429", method="messages.list", retry_after=1)
    report = daemon.run_once()["alex"]
    assert report is not None
    assert report.errors == []
    assert daemon.metrics.throttled.labels("alex")._value.get() == 1
    assert daemon.metrics.messages_read.labels("alex")._value.get() > 0  # the first sync's
    assert b"ghostwatch_messages_read_total" in daemon.metrics.exposition()
    assert b"ghostwatch_api_throttled_total" in daemon.metrics.exposition()


def test_coalescing_runs_a_missed_stretch_once(week: Week) -> None:
    daemon, scheduler = week.daemon()
    scheduler.run_until(FRIDAY.replace(hour=8, minute=5))
    before = daemon.metrics.cycles.labels("alex", "ok")._value.get()
    # The process was asleep for five hours: each job runs once on waking, not per miss.
    week.clock.now = FRIDAY.replace(hour=13, minute=5)
    scheduler._process_jobs()
    after = daemon.metrics.cycles.labels("alex", "ok")._value.get()
    scheduler.shutdown()
    assert after - before == 2  # the mail poll once, the calendar poll once


def _broken(account: config.AccountConfig) -> Mailbox:
    raise RuntimeError("provider exploded")


def test_one_broken_account_never_stops_the_others(tmp_path: Path) -> None:
    box = tmp_path / "mail"
    shutil.copytree(EXAMPLE, box)
    accounts = [
        config.AccountConfig(name="broken", provider="gmail", address="b@ghostwatch.example"),
        config.AccountConfig(
            name="alex", provider="maildir", address=ME, maildir=config.MaildirOptions(path=box)
        ),
    ]
    settings = config.Settings(data_dir=tmp_path, accounts=accounts)
    registry = default_registry()
    registry.register("gmail", _broken)
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    with Store.open(settings.database()) as store:
        store.upgrade()
        daemon = Daemon(
            settings, store, ProviderRegistry(registry.builders).open, clock=lambda: now
        )
        reports = daemon.run_once()
        ready, body = daemon.health.report()
        with store.transaction() as tx:
            errors = {a.name: a.last_error for a in tx.accounts()}
    assert reports["broken"] is None
    good = reports["alex"]
    assert good is not None
    assert good.drafts_created > 0
    assert good.digest_delivered  # 15:00 on a business day: today's digest is owed
    assert not ready
    assert body["accounts"] == {
        "enabled": 2,
        "ready": 1,
        "failing": 1,
        "stale": 0,
        "not_checked_yet": 0,
    }
    assert body["failing_by_kind"] == {"RuntimeError": 1}
    assert errors["broken"] == "RuntimeError"
    assert errors["alex"] is None


# --- the real process ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_sigterm_finishes_and_exits_within_30_seconds(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "mail")
    port = _free_port()
    settings = {
        "data_dir": str(tmp_path / "data"),
        "log_format": "json",
        "health": {"address": f"127.0.0.1:{port}"},
        "schedule": {"jitter_seconds": 0},
        "accounts": [
            {
                "name": "alex",
                "provider": "maildir",
                "address": ME,
                "maildir": {"path": str(tmp_path / "mail")},
                # Always "working", so the first poll runs a cycle whatever the real time.
                "working_hours": {"start": "00:00", "end": "23:59"},
            }
        ],
    }
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ghostwatch", "run", "--config", str(path)],
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        ready = _wait_ready(f"http://127.0.0.1:{port}", process)
        status, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert process.stderr is not None
    events = [json.loads(line)["event"] for line in process.stderr.read().splitlines()]
    assert ready  # a weekday's first cycle went well, or a weekend's idle check did
    assert status == 200
    assert b"ghostwatch_cycles_total" in metrics
    assert code == 0
    assert took < 30
    assert events[-1] == "daemon_stopped"
    assert "signal_received" in events


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> bool:
    """True once /readyz answers 200 (False if only /healthz does within the time)."""
    deadline = time.monotonic() + 60
    alive = False
    while time.monotonic() < deadline:
        assert process.poll() is None, "the daemon exited early"
        try:
            alive = alive or _get(f"{base}/healthz")[0] == 200
            if _get(f"{base}/readyz")[0] == 200:
                return True
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    assert alive
    return False
