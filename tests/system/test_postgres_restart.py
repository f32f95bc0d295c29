"""The daemon outlives a PostgreSQL restart mid-cycle (issue 7).

The server is shared, so it is not restarted: what its clients see of a restart is done
to ours alone. Every connection with this test's application_name is terminated (what a
restart does to each client), at each statement and each COMMIT of a cycle in turn; or
a TCP proxy in front of the server goes away and comes back (tests/support/tcp_proxy.py). The
real daemon runs the cycles, over a Maildir account. Each time: the cycle in which it
happens fails with a named error, the next one reconnects by itself, and the mailbox ends
with every due draft exactly once and a settled ledger.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from ghostwatch import config
from ghostwatch.service.app import SignIns, build_daemon
from ghostwatch.service.daemon import Daemon
from ghostwatch.store import LedgerStatus, Store
from ghostwatch_sandbox.google import GmailSandbox
from tests.service.test_health import EXAMPLE, ME, NOW
from tests.support import postgres
from tests.support.provider_rigs import KATHY, message
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.server]

STEP = "X-Ghostwatch-Step"
NEWS = "lunch@contoso.example"
DAY = date(2026, 11, 20)  # NOW's day in Europe/London: the digest's ledger key


@pytest.fixture
def schema() -> Iterator[str]:
    with postgres.throwaway("SCHEMA", "gw_test") as name:
        yield name


def store_url(schema: str, application: str, port: int = 5432) -> str:
    """The test's own schema, and a name the test finds its connections by."""
    query = f"options=-csearch_path%3D{schema}&application_name={application}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?{query}"


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(
        f"{postgres.SERVER}/test", autocommit=True, connect_timeout=3
    ) as connection:
        yield connection


def terminate(admin: psycopg.Connection[Any], application: str) -> None:
    """What a server restart does to a client: every connection of `application` ends.
    Returns once they are gone (pg_terminate_backend's own wait polls every 100 ms)."""
    mine = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
    pids = [pid for (pid,) in admin.execute(mine, (application,))]
    assert pids, f"no connection named {application!r} to terminate"
    admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
    alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
    deadline = time.monotonic() + 5
    while admin.execute(alive, (pids,)).fetchone() != (0,):
        assert time.monotonic() < deadline, "terminated connections still there after 5 s"
        time.sleep(0.002)


class Tripwire:
    """Counts the store's statements and COMMITs (the points where a connection can be
    lost) and calls `cut` just before the chosen one, which then meets a dead connection:
    the `at`th point, or the first for which `when(trail)` holds."""

    def __init__(self, engine: sa.Engine, cut: Callable[[], object]) -> None:
        self.cut = cut
        self.trail: list[str] = []
        """Every point since `arm`: each statement's text, or "COMMIT"."""
        self.at: int | None = None
        self.when: Callable[[list[str]], bool] | None = None
        self.fired: str | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def arm(self, at: int | None = None, when: Callable[[list[str]], bool] | None = None) -> None:
        self.trail, self.at, self.when, self.fired = [], at, when, None

    def kinds(self) -> list[str]:
        """SELECT, INSERT, UPDATE, DELETE or COMMIT, point by point."""
        return [point.split(None, 1)[0] for point in self.trail]

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self._point(statement)

    def _commit(self, _conn: Any) -> None:
        self._point("COMMIT")

    def _point(self, what: str) -> None:
        self.trail.append(what)
        chosen = len(self.trail) == self.at or (self.when is not None and self.when(self.trail))
        if chosen and self.fired is None:
            self.fired = what.split(None, 1)[0]
            self.cut()


def maildir_daemon(store: Store, tmp_path: Path, name: str) -> tuple[Daemon, Path]:
    """The real daemon over a fresh copy of the example mailbox, account `name`."""
    mail = tmp_path / name
    shutil.copytree(EXAMPLE, mail)
    options = config.MaildirOptions(path=mail)
    account = config.AccountConfig(name=name, provider="maildir", address=ME, maildir=options)
    settings = config.Settings(data_dir=tmp_path, accounts=[account])
    return build_daemon(settings, store, clock=lambda: NOW), mail


def mailbox_counts(mail: Path) -> tuple[Counter[str], int]:
    """Drafts per X-Ghostwatch-Step, and how many digests, in the Maildir."""
    steps: Counter[str] = Counter()
    digests = 0
    for path in mail.rglob("*"):
        if not path.is_file() or path.parent.name not in ("cur", "new"):
            continue
        with path.open("rb") as file:
            head = BytesParser(policy=compat32).parse(file, headersonly=True)
        if head[STEP] and "D" in path.name.rpartition(":2,")[2]:
            steps[str(head[STEP])] += 1
        digests += str(head["Message-ID"] or "").startswith("<ghostwatch-digest-")
    return steps, digests


def assert_settled(store: Store, name: str, mail: Path, due: set[str]) -> None:
    """Every due draft exactly once, one digest, every intent settled and pointing at
    what the mailbox holds."""
    steps, digests = mailbox_counts(mail)
    assert steps == Counter(dict.fromkeys(due, 1)), name
    assert digests == 1, name
    with store.transaction() as tx:
        [account] = [a.id for a in tx.accounts() if a.name == name]
        assert tx.pending(account) == [], name
        entries = [tx.entry(account, f"draft:{step}") for step in due]
        digest = tx.entry(account, f"digest:{DAY.isoformat()}")
    assert all(e is not None and e.status == LedgerStatus.DONE for e in entries), name
    assert digest is not None
    assert digest.status == LedgerStatus.DONE, name


def assert_failed_cleanly(daemon: Daemon, name: str, result: dict[str, Any]) -> None:
    """The runner caught it, and health counts it by kind (no traceback, no restart)."""
    assert result == {name: None}
    ready, body = daemon.health.report()
    assert not ready
    assert body["failing_by_kind"].get("StoreError", 0) >= 1


def assert_last_error_names_the_database(store: Store, name: str) -> None:
    """What `ghostwatch accounts` shows: one line naming the database and the driver's
    reason, not SQLAlchemy's text (the statement, its parameters, a link)."""
    with store.transaction() as tx:
        [error] = [a.last_error for a in tx.accounts() if a.name == name]
    assert error is not None
    assert error.startswith("cannot use database postgresql+psycopg://postgres@127.0.0.1:5432/")
    assert "; check that the server is running" in error
    assert "\n" not in error
    assert "sqlalche.me" not in error
    assert "[SQL" not in error


# --- connections terminated ----------------------------------------------------------------


def transaction_edges(trail: list[str]) -> list[int]:
    """The points (1-based) that open a transaction or commit one. A connection lost at
    any statement rolls back its whole transaction, so a later statement of the same
    transaction ends the same way as its first: these are all the different outcomes.
    On PostgreSQL a transaction opens with its lease check (store/leases.py); the
    statement after it, the transaction's own first, is an edge as well."""
    return [
        at
        for at, what in enumerate(trail, start=1)
        if what == "COMMIT" or at == 1 or trail[at - 2] == "COMMIT" or _leased(trail[at - 2])
    ]


def _leased(statement: str) -> bool:
    return (
        statement.startswith("SELECT") and "FROM leases" in statement and "FOR SHARE" in statement
    )


def test_connections_terminated_at_any_point_of_a_cycle(
    schema: str, admin: psycopg.Connection[Any], tmp_path: Path
) -> None:
    application = f"gw_restart_{uuid.uuid4().hex[:8]}"
    with Store.open(store_url(schema, application)) as store:
        store.upgrade()
        tripwire = Tripwire(store.engine, lambda: terminate(admin, application))
        # A clean first cycle: its points, and the drafts it makes.
        daemon, mail = maildir_daemon(store, tmp_path, "clean")
        tripwire.arm(None)
        assert daemon.run_once()["clean"] is not None
        edges = transaction_edges(tripwire.trail)
        due = set(mailbox_counts(mail)[0])
        assert len(due) >= 3  # the example mailbox has nudges due at NOW
        fired = Counter[str]()
        for at in edges:
            name = f"cut{at:02d}"
            daemon, mail = maildir_daemon(store, tmp_path, name)
            tripwire.arm(at)
            result = daemon.run_once()
            assert tripwire.fired is not None, f"{name}: the cycle ended before point {at}"
            fired[tripwire.fired] += 1
            assert_failed_cleanly(daemon, name, result)
            tripwire.arm(None)  # the server is back: the same daemon, no restart
            assert_last_error_names_the_database(store, name)
            report = daemon.run_once()[name]
            assert report is not None, name
            assert report.errors == [], name
            assert_settled(store, name, mail, due)
    # Every kind of point was hit: reads, intents, confirmations, and commits.
    assert {"SELECT", "INSERT", "UPDATE", "COMMIT"} <= set(fired), fired


def test_a_restart_between_cycles_goes_unnoticed(
    schema: str, admin: psycopg.Connection[Any], tmp_path: Path
) -> None:
    application = f"gw_restart_{uuid.uuid4().hex[:8]}"
    with Store.open(store_url(schema, application)) as store:
        store.upgrade()
        daemon, mail = maildir_daemon(store, tmp_path, "alex")
        assert daemon.run_once()["alex"] is not None
        due = set(mailbox_counts(mail)[0])
        terminate(admin, application)  # while the daemon waits for its next poll
        # The pool tests a connection before lending it (pre-ping): no cycle fails.
        report = daemon.run_once()["alex"]
        assert report is not None
        assert report.errors == []
        assert daemon.health.report()[0]
        assert_settled(store, "alex", mail, due)


def _after_a_draft_was_made(sandbox: GmailSandbox) -> Callable[[list[str]], bool]:
    """The COMMIT confirming a draft Gmail already made: the confirmation is lost."""
    return lambda trail: (
        trail[-1] == "COMMIT" and any(write.method == "drafts.create" for write in sandbox.writes)
    )


def _recording_the_sync(trail: list[str]) -> bool:
    """The COMMIT of the transaction that stores the sync cursor (the cycle's last)."""
    if trail[-1] != "COMMIT":
        return False
    previous = max((n for n, point in enumerate(trail[:-1]) if point == "COMMIT"), default=-1)
    return any("INTO sync_cursors" in point for point in trail[previous + 1 : -1])


def test_gmail_cycles_cut_mid_action_and_mid_record_miss_nothing_and_repeat_nothing(
    schema: str, admin: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """Gmail syncs incrementally: a cycle cut after it read the mailbox's history but
    before it stored the cursor must leave that history to the next cycle, not skip it."""
    application = f"gw_restart_{uuid.uuid4().hex[:8]}"
    with (
        GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox,
        Store.open(store_url(schema, application)) as store,
    ):
        store.upgrade()
        tripwire = Tripwire(store.engine, lambda: terminate(admin, application))
        options = config.GmailOptions.sandbox(sandbox.url)
        account = config.AccountConfig(name="alex", provider="gmail", address=ME, gmail=options)
        settings = config.Settings(data_dir=tmp_path, accounts=[account])
        sign_ins = SignIns(google=lambda _: sandbox.credentials())
        daemon = build_daemon(settings, store, sign_ins, clock=lambda: NOW)

        tripwire.arm(when=_after_a_draft_was_made(sandbox))
        assert_failed_cleanly(daemon, "alex", daemon.run_once())
        tripwire.arm()
        assert daemon.run_once()["alex"] is not None  # the cursor is stored
        news = message(KATHY, ME, "Lunch?", "2026-11-20 12:00", "Are you free?\n",
                       message_id=f"<{NEWS}>")  # fmt: skip
        with sandbox._lock:
            sandbox.mailbox.add(news, ["INBOX", "UNREAD"])
        tripwire.arm(when=_recording_the_sync)
        assert_failed_cleanly(daemon, "alex", daemon.run_once())
        assert tripwire.fired == "COMMIT"
        tripwire.arm()
        report = daemon.run_once()["alex"]
        assert report is not None
        assert report.errors == []
        with store.transaction() as tx:
            [alex] = tx.accounts()
            assert tx.pending(alex.id) == []
            cached = {m.message_id for m in tx.cached_headers(alex.id, "gmail")}
    assert NEWS in cached  # read in the cut cycle, stored by the next
    steps = Counter(
        value
        for stored in sandbox.mailbox.messages.values()
        if "DRAFT" in stored.labels
        for name, value in stored.headers
        if name.lower() == STEP.lower()
    )
    assert len(steps) == report.drafts_due >= 3
    assert set(steps.values()) == {1}
    assert sum(write.method == "messages.insert" for write in sandbox.writes) == 1  # digest


# --- the server away for a while ------------------------------------------------------------


def test_server_away_for_several_cycles_then_back(schema: str, tmp_path: Path) -> None:
    application = f"gw_restart_{uuid.uuid4().hex[:8]}"
    with (
        TcpProxy(("127.0.0.1", 5432)) as server,
        Store.open(store_url(schema, application, server.port)) as store,
    ):
        store.upgrade()
        tripwire = Tripwire(store.engine, server.stop)
        clean, clean_mail = maildir_daemon(store, tmp_path, "clean")
        tripwire.arm(None)
        assert clean.run_once()["clean"] is not None
        points, due = len(tripwire.trail), set(mailbox_counts(clean_mail)[0])
        daemon, mail = maildir_daemon(store, tmp_path, "alex")
        # Gone halfway through the cycle, after some of its drafts were made.
        tripwire.arm(points // 2)
        assert_failed_cleanly(daemon, "alex", daemon.run_once())
        assert tripwire.fired is not None
        made = sum(mailbox_counts(mail)[0].values())
        assert 0 < made < len(due)
        tripwire.arm(None)
        for _ in range(3):  # still away: each poll fails at once, nothing written
            started = time.monotonic()
            assert_failed_cleanly(daemon, "alex", daemon.run_once())
            assert time.monotonic() - started < 5
            assert sum(mailbox_counts(mail)[0].values()) == made
        server.start()  # back, on the same port
        report = daemon.run_once()["alex"]
        assert report is not None
        assert report.errors == []
        assert_settled(store, "alex", mail, due)
        assert daemon.health.report()[0]
