"""A first sync under Gmail's per-user quota: paced, it is never refused; unpaced, it is
refused and still completes; either way it reads what an unthrottled one reads.

The sandbox enforces a tight quota in virtual time (`tests/support/virtual_time.py`),
the same clock the budget and the retry policy wait on: minutes of pacing take no time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import LOOK_BACK, Rules
from ghostwatch.model.decisions import State
from ghostwatch.providers.budget import Budget, Window
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.pipeline import run_scan
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME, Mailbox
from tests.support.sandbox_fixtures import client
from tests.support.virtual_time import VirtualTime

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LIMIT, WINDOW = 300, 60.0
"""The sandbox's quota here: 300 units a minute, a fiftieth of Gmail's."""
PROSPECTS = 40


def _seed(root: Path) -> None:
    """Forty prospects at forty companies: I wrote, half answered, some colleagues too."""
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-11-{2 + n % 10:02d} 09:00")
        if n % 2:
            box.add("INBOX", who, ME, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                    reply_to=first)  # fmt: skip
        if n % 5 == 0:
            box.add("INBOX", f"c{n}@org{n}.example", ME, "Hello", "2026-11-15 10:00")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pacing")
    _seed(root)
    return root


@pytest.fixture
def clock() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def tight(seed: Path, clock: VirtualTime) -> Iterator[GmailSandbox]:
    with GmailSandbox.serve(seed=seed, user=ME, quota_limit=LIMIT, quota_window=WINDOW) as box:
        box.quota.clock = clock.now
        yield box


def _source(box: GmailSandbox, clock: VirtualTime, budget: Budget | None) -> GmailSource:
    retry = RetryPolicy(sleep=clock.sleep, base=0.5, cap=2.0)
    return GmailSource(client(box), batch_uri=box.batch_uri, retry=retry, budget=budget)


def _states(source: GmailSource) -> dict[str, State]:
    plan = run_scan(source, Rules(me=Identity.of([ME])), NOW).plan
    return {d.subject: d.state for d in plan.conversations if d.state != State.NOT_TRACKED}


@pytest.fixture(scope="module")
def unthrottled(seed: Path) -> dict[str, State]:
    with GmailSandbox.serve(seed=seed, user=ME, quota_limit=10**9) as box:
        return _states(GmailSource(client(box), batch_uri=box.batch_uri))


def test_a_paced_first_sync_is_never_refused_and_decides_as_an_unthrottled_one(
    tight: GmailSandbox, clock: VirtualTime, unthrottled: dict[str, State]
) -> None:
    budget = Budget(ME, (Window(LIMIT, WINDOW),), clock=clock.now, sleep=clock.sleep)
    assert _states(_source(tight, clock, budget)) == unthrottled
    assert tight.meter.rejected == 0
    assert budget.spent.throttled == 0
    minutes = tight.meter.units / (LIMIT * 0.9)
    assert clock.slept >= (minutes - 1) * WINDOW  # slowly: a window per budget spent
    assert len(unthrottled) == PROSPECTS


def test_an_unpaced_first_sync_is_refused_but_waits_and_completes(
    tight: GmailSandbox, clock: VirtualTime, unthrottled: dict[str, State]
) -> None:
    assert _states(_source(tight, clock, None)) == unthrottled
    assert tight.meter.rejected > 0  # it ran into the wall, many times, and carried on


def test_a_refusal_shrinks_a_budget_that_aimed_too_high_until_it_fits(
    tight: GmailSandbox, clock: VirtualTime, unthrottled: dict[str, State]
) -> None:
    optimistic = Budget(ME, (Window(LIMIT * 4, WINDOW),), clock=clock.now, sleep=clock.sleep)
    assert _states(_source(tight, clock, optimistic)) == unthrottled
    # Four times too high: halved, then halved again, it fits, and is refused no more.
    assert 1 <= optimistic.spent.throttled <= 3


def test_a_paced_first_sync_within_the_look_back_decides_as_an_unthrottled_one(
    tight: GmailSandbox, clock: VirtualTime, seed: Path
) -> None:
    """The daemon's first sync (sent threads the look-back reaches, each sender searched
    from its own date) under a tight quota: slow, never refused, the same decisions."""
    since = NOW - LOOK_BACK
    with GmailSandbox.serve(seed=seed, user=ME, quota_limit=10**9) as box:
        free = GmailSource(client(box), batch_uri=box.batch_uri, since=since)
        expected = _states(free)
    budget = Budget(ME, (Window(LIMIT, WINDOW),), clock=clock.now, sleep=clock.sleep)
    paced = _source(tight, clock, budget)
    paced.since = since
    assert _states(paced) == expected
    assert len(expected) == PROSPECTS
    assert tight.meter.rejected == 0
    assert clock.slept >= WINDOW  # more than a minute's quota: it waited for room
