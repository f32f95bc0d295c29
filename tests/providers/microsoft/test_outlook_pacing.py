"""A first sync under Outlook's per-mailbox limits: paced, never refused; unpaced,
refused and still complete; the same decisions as an unthrottled read either way; and
never more than four requests of one mailbox at once.

The sandbox counts its 10-minute window in virtual time (`tests/support/virtual_time.py`),
the clock the budget and the retry policy wait on.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog.testing

from ghostwatch import logs
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import State
from ghostwatch.providers.budget import Budget, Window, graph_mailbox
from ghostwatch.providers.microsoft.graph import GraphClient, Part
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.pipeline import run_scan
from ghostwatch_sandbox.microsoft import GraphSandbox
from tests.support.builder import ME, Mailbox
from tests.support.virtual_time import VirtualTime

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LIMIT, WINDOW = 40, 600.0
"""Requests the sandbox allows here in 10 minutes: a 250th of Outlook's."""
PROSPECTS = 30


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outlook-pacing")
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-11-{2 + n % 10:02d} 09:00")
        if n % 2:
            box.add("INBOX", who, ME, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                    reply_to=first)  # fmt: skip
    return root


@pytest.fixture
def clock() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def tight(seed: Path, clock: VirtualTime) -> Iterator[GraphSandbox]:
    with GraphSandbox.serve(seed=seed, user=ME, throttle_limit=LIMIT, throttle_window=WINDOW) as g:
        g.quota.clock = clock.now
        yield g


def _client(graph: GraphSandbox, clock: VirtualTime, budget: Budget | None) -> GraphClient:
    retry = RetryPolicy(sleep=clock.sleep, base=0.5, cap=2.0, longest_wait=WINDOW + 1)
    token = graph.token
    return GraphClient(lambda: token, base_url=graph.base_url, retry=retry, budget=budget)


def _states(source: OutlookSource) -> dict[str, State]:
    plan = run_scan(source, Rules(me=Identity.of([ME])), NOW).plan
    return {d.subject: d.state for d in plan.conversations if d.state != State.NOT_TRACKED}


@pytest.fixture(scope="module")
def unthrottled(seed: Path) -> dict[str, State]:
    with GraphSandbox.serve(seed=seed, user=ME, throttle_limit=10**9) as graph:
        token = graph.token
        return _states(OutlookSource(GraphClient(lambda: token, base_url=graph.base_url)))


def test_a_paced_first_sync_is_never_refused_and_decides_as_an_unthrottled_one(
    tight: GraphSandbox, clock: VirtualTime, unthrottled: dict[str, State]
) -> None:
    budget = Budget(ME, (Window(LIMIT, WINDOW),), concurrency=4, clock=clock.now,
                    sleep=clock.sleep)  # fmt: skip
    assert _states(OutlookSource(_client(tight, clock, budget))) == unthrottled
    assert tight.meter.rejected == 0
    assert tight.meter.calls > LIMIT  # more than one window's worth: it had to wait
    assert clock.slept >= WINDOW
    assert len(unthrottled) == PROSPECTS


def test_an_unpaced_first_sync_is_refused_but_waits_and_completes(
    tight: GraphSandbox, clock: VirtualTime, unthrottled: dict[str, State]
) -> None:
    assert _states(OutlookSource(_client(tight, clock, None))) == unthrottled
    assert tight.meter.rejected > 0


def test_requests_from_many_threads_never_exceed_four_at_once(seed: Path) -> None:
    with GraphSandbox.serve(seed=seed, user=ME) as graph:
        graph.faults.add("slow", count=12, method="messages.delta", delay=0.3)
        client = _client(graph, VirtualTime(), graph_mailbox(ME))
        url = "/me/mailFolders/inbox/messages/delta"
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: client.request("GET", url).status, range(6)))
        batch = client.batch(Part(str(n), url) for n in range(8))
        assert answers == [200] * 6
        assert all(a.status == 200 for a in batch.values())
        assert graph.meter.rejected == 0
        assert graph.slots.peak == 4


def test_a_long_first_sync_logs_its_progress_round_by_round(seed: Path) -> None:
    """What a daemon's log shows while a big mailbox is read: messages so far and the
    folders still reading, after every round that leaves some."""
    with GraphSandbox.serve(seed=seed, user=ME, throttle_limit=10**9) as graph:
        token = graph.token
        source = OutlookSource(GraphClient(lambda: token, base_url=graph.base_url), page_size=5)
        logs.configure("info", io.StringIO())  # info lines kept, whatever ran before
        with structlog.testing.capture_logs() as captured:
            held = source.read_headers()
    read = [e["messages"] for e in captured if e["event"] == "outlook_sync_progress"]
    assert len(read) >= 2
    assert read == sorted(read)
    assert read[-1] < len(held)  # the last round, which finishes, logs nothing
