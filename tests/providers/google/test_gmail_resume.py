"""A Gmail first sync cut short carries on across cycles from where it stopped.

The first cycle reads every sent thread, then Gmail keeps failing the messages it has
left to read (a 500, again and again): the cycle fails, and what it read is stored with
its record under a cursor that says the sync is unfinished. A restarted process picks it
up from the store, reads only what is left — never a thread twice — and decides exactly
as a first sync that was never interrupted. Its progress is logged as it goes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog.testing

from ghostwatch import logs
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import State
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.google.sync import UNDER_WAY
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.cycle import run_cycle
from ghostwatch.service.pipeline import run_scan
from ghostwatch.store import Store
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME, Mailbox
from tests.support.sandbox_fixtures import client

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TZ = ZoneInfo("UTC")
RULES = Rules(me=Identity.of([ME]))
SENDER = Sender(name="Alex", address=ME, signature="Alex")
PROSPECTS = 12


def _seed(root: Path) -> None:
    """Twelve prospects: I wrote to each, half answered in the thread, and a colleague
    of every third wrote in a thread of their own (read one message at a time)."""
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-11-{2 + n % 10:02d} 09:00")
        if n % 2:
            box.add("INBOX", who, ME, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                    reply_to=first)  # fmt: skip
        if n % 3 == 0:
            box.add("INBOX", f"c{n}@org{n}.example", ME, "Hello", "2026-11-15 10:00")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GmailSandbox, Store]]:
    _seed(tmp_path / "mail")
    with (
        GmailSandbox.serve(seed=tmp_path / "mail", user=ME) as box,
        Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store,
    ):
        store.upgrade()
        yield box, store


def _source(box: GmailSandbox) -> GmailSource:
    # Sleeps are not slept: the policy's waits are the test's time, not the suite's.
    retry = RetryPolicy(attempts=2, sleep=lambda _s: None)
    return GmailSource(client(box), batch_uri=box.batch_uri, retry=retry)


def _cycle(box: GmailSandbox, store: Store) -> dict[str, State]:
    source = _source(box)  # a new process each time: only the store carries over
    actions = GmailActions(client(box), batch_uri=box.batch_uri)
    report = run_cycle(ME, source, actions, store, RULES, SENDER, NOW, TZ, dry_run=False)
    assert report.errors == []
    plan = run_scan(source, RULES, NOW).plan
    return {d.subject: d.state for d in plan.conversations if d.state != State.NOT_TRACKED}


def test_a_first_sync_cut_short_carries_on_where_it_stopped(
    world: tuple[GmailSandbox, Store],
) -> None:
    box, store = world
    uninterrupted = _source(box)
    expected = {
        d.subject: d.state
        for d in run_scan(uninterrupted, RULES, NOW).plan.conversations
        if d.state != State.NOT_TRACKED
    }
    assert len(expected) == PROSPECTS
    box.meter.reset()
    box.faults.add("500", count=10**6, method="messages.get")
    logs.configure("info", io.StringIO())  # info lines kept, whatever ran before
    with structlog.testing.capture_logs() as captured, pytest.raises(GhostwatchError):
        _cycle(box, store)
    read_first = box.meter.methods["threads.get"]
    assert read_first == PROSPECTS  # every sent thread was read before Gmail failed
    with store.transaction() as tx:
        cursor = tx.cursor(1, "gmail")
        kept = tx.cached_headers(1, "gmail")
        [account] = tx.accounts()
    assert cursor is not None
    assert cursor.startswith(UNDER_WAY)
    assert uninterrupted.state is not None
    sent = {m.thread_id for m in uninterrupted.state.headers.values() if m.folder.value == "sent"}
    assert {m.thread_id for m in kept} == sent
    assert account.last_error is not None  # the failed cycle is on record, with its progress
    progress = [e for e in captured if e["event"] == "gmail_first_sync_progress"]
    assert progress[-1]["threads_read"] == progress[-1]["threads"] == PROSPECTS

    box.faults.clear()
    assert _cycle(box, store) == expected
    assert box.meter.methods["threads.get"] == read_first  # no thread was read twice
    with store.transaction() as tx:
        assert not str(tx.cursor(1, "gmail")).startswith(UNDER_WAY)
