"""Health and metrics over real HTTP after real cycles against the Gmail sandbox; and the
daemon's logs scanned for tokens, other people's addresses and message text."""

from __future__ import annotations

import io
import json
import re
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.utils import getaddresses
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
import structlog
import structlog.testing
from prometheus_client.parser import text_string_to_metric_families

from ghostwatch import config, logs
from ghostwatch.service import health
from ghostwatch.service.app import SignIns, build_daemon
from ghostwatch.service.daemon import Daemon
from ghostwatch.store import Store
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_SECRET
from tests.support.paths import REPO
from tests.support.postgres import admin as _pg_admin
from tests.support.tcp_proxy import TcpProxy

EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")  # a Friday, in working hours


@dataclass
class Running:
    sandbox: GmailSandbox
    daemon: Daemon
    url: str
    clock: list[datetime]

    def get(self, path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                return int(answer.status), answer.headers["Content-Type"], answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        _, _, body = self.get("/metrics")
        found = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return found


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    with (
        GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox,
        Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store,
    ):
        store.upgrade()
        account = config.AccountConfig(
            name="alex",
            provider="gmail",
            address=ME,
            junk_rescue=True,
            gmail=config.GmailOptions.sandbox(sandbox.url),
        )
        settings = config.Settings(data_dir=tmp_path, accounts=[account])
        clock = [NOW]
        sign_ins = SignIns(google=lambda a: sandbox.credentials())
        daemon = build_daemon(settings, store, sign_ins, lambda: clock[0])
        with health.serve("127.0.0.1", 0, daemon.health, daemon.metrics) as url:
            yield Running(sandbox, daemon, url, clock)


def test_alive_ready_and_not_found(running: Running) -> None:
    assert running.get("/healthz")[0] == 200
    status, kind, body = running.get("/readyz")
    assert status == 503  # no account has been checked yet
    assert kind == "application/json"
    assert json.loads(body) == {
        "ready": False,
        "database": True,
        "accounts": {"enabled": 1, "ready": 0, "failing": 0, "stale": 0, "not_checked_yet": 1},
        "failing_by_kind": {},
        "why": ["1 of 1 accounts not checked yet since the start"],
    }
    running.daemon.run_once()
    status, _, body = running.get("/readyz")
    assert status == 200
    assert json.loads(body) == {
        "ready": True,
        "database": True,
        "accounts": {"enabled": 1, "ready": 1, "failing": 0, "stale": 0, "not_checked_yet": 0},
        "failing_by_kind": {},
        "why": [],
    }
    assert running.get("/nope")[0] == 404


def test_metrics_count_what_the_provider_counted(running: Running) -> None:
    report = running.daemon.run_once()["alex"]
    assert report is not None
    status, kind, _ = running.get("/metrics")
    assert status == 200
    assert kind.startswith("text/plain")
    got = running.metrics()
    gmail = (("provider", "gmail"),)
    alex = (("account", "alex"),)
    # Every API call the sandbox served, and the quota units it charged, by our count.
    assert got[("ghostwatch_api_requests_total", gmail)] == running.sandbox.meter.calls > 0
    assert got[("ghostwatch_api_quota_units_total", gmail)] == running.sandbox.meter.units
    assert got[("ghostwatch_cycles_total", (*alex, ("outcome", "ok")))] == 1
    assert got[("ghostwatch_cycle_duration_seconds_count", alex)] == 1
    assert got[("ghostwatch_drafts_created_total", alex)] == report.drafts_created > 0
    assert got[("ghostwatch_replies_rescued_total", alex)] == report.rescued == 1
    assert got[("ghostwatch_digests_delivered_total", alex)] == 1
    states = {
        dict(labels)["state"]: value
        for (name, labels), value in got.items()
        if name == "ghostwatch_conversations"
    }
    assert states == {state: float(n) for state, n in report.states.items()}
    assert states["due"] > 0


def test_stale_or_failing_accounts_are_not_ready(running: Running) -> None:
    running.daemon.run_once()
    running.clock[0] = NOW + timedelta(minutes=21)  # stale_after_minutes is 20
    status, _, body = running.get("/readyz")
    assert status == 503
    assert json.loads(body)["why"] == ["1 of 1 accounts not checked in the last 20 minutes"]
    running.sandbox.revoke()
    running.sandbox.expire_tokens()
    assert running.daemon.run_once()["alex"] is None
    status, _, body = running.get("/readyz")
    assert status == 503
    [(failed, count)] = json.loads(body)["failing_by_kind"].items()
    assert count == 1
    assert json.loads(body)["why"] == ["1 of 1 accounts failed at its last check"]
    assert "alex" not in body.decode()  # counts and kinds, never a name
    kinds = [dict(k[1]) for k in running.metrics() if k[0] == "ghostwatch_errors_total"]
    assert {"account": "alex", "kind": failed} in kinds


# --- readiness when the database goes away ----------------------------------------------------


@contextmanager
def maildir_service(store: Store, tmp_path: Path) -> Iterator[tuple[Daemon, str]]:
    """The daemon over a Maildir account (no provider to fail) and its health server."""
    shutil.copytree(EXAMPLE, tmp_path / "mail")
    options = config.MaildirOptions(path=tmp_path / "mail")
    account = config.AccountConfig(name="alex", provider="maildir", address=ME, maildir=options)
    settings = config.Settings(data_dir=tmp_path, accounts=[account])
    daemon = build_daemon(settings, store, clock=lambda: NOW)
    with health.serve("127.0.0.1", 0, daemon.health, daemon.metrics) as url:
        yield daemon, url


def readyz(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=20) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# Trust auth at 127.0.0.1 ignores it: a password that must never be shown or logged.
PASSWORD = "s3cret-pw"


def readyz_logged(url: str) -> tuple[int, dict[str, Any], str]:
    """/readyz, and the reason the probe logged for a database that does not answer."""
    with structlog.testing.capture_logs() as captured:
        status, body = readyz(url)
    said = [e["error"] for e in captured if e["event"] == "database_unreachable"]
    return status, body, said[-1] if said else ""


def assert_database_is_why(
    status: int, body: dict[str, Any], why: str, database: str, reason: str
) -> None:
    """503 saying only that the database does not answer (no URL, host or user: whoever
    reaches the port reads it); the log says why in one line: which database (no
    password), the driver's reason, what to check, and not SQLAlchemy's text."""
    assert status == 503
    assert body["database"] is False
    assert body["why"] == ["the database does not answer"]
    assert body["accounts"]["ready"] == 1  # the account alone would be ready
    shown = json.dumps(body)
    for private in ("127.0.0.1", "postgres", "sqlite", "alex"):  # host, user, URL, account
        assert private not in shown
    assert why.startswith(f"cannot reach database {database}"), why
    assert reason in why, why
    assert "; check that " in why, why
    assert "\n" not in why
    assert "sqlalche.me" not in why
    assert "[SQL" not in why
    assert "OperationalError" not in why
    assert PASSWORD not in shown
    assert PASSWORD not in why


def test_readyz_is_503_while_the_sqlite_folder_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    with (
        Store.open(f"sqlite:///{folder / 'ghostwatch.db'}") as store,
        maildir_service(store, tmp_path) as (daemon, url),
    ):
        store.upgrade()
        assert daemon.run_once()["alex"] is not None
        assert readyz(url)[0] == 200
        folder.rename(tmp_path / "moved")  # an unmounted volume, a deleted folder
        database = f"sqlite:///{folder / 'ghostwatch.db'}: "
        assert_database_is_why(*readyz_logged(url), database, "unable to open database file")
        (tmp_path / "moved").rename(folder)
        assert readyz(url) == (200, {**readyz(url)[1], "ready": True, "database": True})


def test_readyz_is_503_while_postgresql_is_unreachable(tmp_path: Path) -> None:
    """And a cycle in that time fails with a named error, logged in one line; the
    database's password is in no answer and no log line."""
    schema = f"gw_test_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable ({error}); `.ci/run` starts it")
    saved, out = structlog.get_config(), io.StringIO()
    logs.configure("debug", stream=out, fmt="json")
    try:
        with TcpProxy(("127.0.0.1", 5432)) as server:
            address = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{server.port}/test"
            with (
                Store.open(f"{address}?options=-csearch_path%3D{schema}") as store,
                maildir_service(store, tmp_path) as (daemon, url),
            ):
                store.upgrade()
                assert daemon.run_once()["alex"] is not None
                assert readyz(url)[0] == 200
                server.stop()  # the server goes away: refused, and open connections cut
                shown = f"postgresql+psycopg://postgres:***@127.0.0.1:{server.port}/test?options="
                assert_database_is_why(*readyz_logged(url), shown, "Connection refused")
                assert daemon.run_once()["alex"] is None
                status, body = readyz(url)
                assert (status, body["failing_by_kind"]) == (503, {"StoreError": 1})
                server.start()  # back on the same port
                assert daemon.run_once()["alex"] is not None  # no restart needed
                assert readyz(url)[0] == 200
    finally:
        structlog.configure(**saved)
        _pg_admin(f"DROP SCHEMA {schema} CASCADE")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    [failed] = [line for line in lines if line["event"] == "cycle_failed"]
    assert failed["kind"] == "StoreError"
    assert failed["error"].startswith(f"cannot use database {shown}"), failed
    assert "Connection refused" in failed["error"]
    assert "sqlalche.me" not in failed["error"]
    assert "database_unreachable" in [line["event"] for line in lines]
    assert PASSWORD not in out.getvalue()


# --- what the logs never hold -----------------------------------------------------------------


def _people_and_text(root: Path) -> tuple[set[str], set[str]]:
    """Every address in the example mailbox but the account's own, and body lines."""
    addresses: set[str] = set()
    lines: set[str] = set()
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix == ".ics" or path.name == ".gitkeep":
            continue
        message = message_from_bytes(path.read_bytes())
        for field in ("From", "To", "Cc", "Reply-To"):
            addresses.update(a.lower() for _, a in getaddresses(message.get_all(field, [])) if a)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = cast(bytes, part.get_payload(decode=True) or b"")
                lines.update(
                    line.strip()
                    for line in text.decode("utf-8", "replace").splitlines()
                    if len(line.strip()) >= 25
                )
    return addresses - {ME}, lines


def test_daemon_logs_hold_no_token_no_contact_and_no_message_text(running: Running) -> None:
    saved, out = structlog.get_config(), io.StringIO()
    logs.configure("debug", stream=out, fmt="json")
    try:
        running.daemon.run_once()
        running.daemon.run_once()
        running.sandbox.revoke()
        running.sandbox.expire_tokens()
        running.daemon.run_once()  # a failing cycle logs its error too
    finally:
        structlog.configure(**saved)
    text = out.getvalue()
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert events.count("cycle_done") == 2
    assert "cycle_failed" in events
    others, lines = _people_and_text(EXAMPLE)
    assert len(others) > 5
    assert len(lines) > 20
    lowered = text.lower()
    assert [a for a in others if a in lowered] == []
    assert [line for line in lines if line in text] == []
    assert re.search(r"ya29\.|1//|Bearer ", text) is None
    assert CLIENT_SECRET not in text
