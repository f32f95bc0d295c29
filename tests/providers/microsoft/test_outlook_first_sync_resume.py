"""An Outlook first sync cut short carries on across cycles from where it stopped
(issue 20): under a quota too tight for one cycle, each cycle reads what it can, the
cycle fails, and what it read is stored with its record — each folder's messages up to
the next page's link — so the next cycle, in a new process, goes on from those links,
never starting over, and decides exactly as an unthrottled first sync.

The sandbox counts its 10-minute window in virtual time (`tests/support/virtual_time.py`);
the retry policy will not wait out a refusal longer than a minute, so a refusal ends
the cycle, and the test lets a window pass before the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import State
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.cycle import run_cycle
from ghostwatch.service.pipeline import run_scan
from ghostwatch.store import Store
from ghostwatch_sandbox.microsoft import GraphSandbox
from tests.support.builder import ME, Mailbox
from tests.support.virtual_time import VirtualTime

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TZ = ZoneInfo("UTC")
RULES = Rules(me=Identity.of([ME]))
SENDER = Sender(name="Alex", address=ME, signature="Alex")
LIMIT, WINDOW = 30, 600.0
"""Graph calls the sandbox allows in 10 minutes here: far fewer than one sync needs."""
PROSPECTS, PAGE = 24, 4


def _seed(root: Path) -> None:
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-11-{2 + n % 10:02d} 09:00")
        if n % 2:
            box.add("INBOX", who, ME, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                    reply_to=first)  # fmt: skip


def _source(graph: GraphSandbox, clock: VirtualTime | None = None) -> OutlookSource:
    token = graph.token
    client = GraphClient(lambda: token, base_url=graph.base_url)
    if clock is not None:  # waits pass on the virtual clock; a long one ends the cycle
        client.retry = RetryPolicy(sleep=clock.sleep, base=0.5, cap=2.0, longest_wait=60.0)
    return OutlookSource(client, page_size=PAGE)


def _decided(store: Store) -> dict[str, State]:
    with store.transaction() as tx:
        account = tx.account(ME, "outlook", ME)
        found = tx.snapshots(account).values()
    return {s.subject: s.state for s in found if s.state != State.NOT_TRACKED}


def test_a_first_sync_under_a_tight_quota_completes_across_cycles(tmp_path: Path) -> None:
    """The daemon's source lives across cycles (it keeps the bodies it read); after the
    first failure the process restarts, and carries on from what the store holds."""
    _seed(tmp_path / "mail")
    with GraphSandbox.serve(seed=tmp_path / "mail", user=ME, throttle_limit=10**9) as free:
        plan = run_scan(_source(free), RULES, NOW).plan
        expected = {d.subject: d.state for d in plan.conversations
                    if d.state != State.NOT_TRACKED}  # fmt: skip
    assert len(expected) == PROSPECTS
    clock = VirtualTime()
    with (
        GraphSandbox.serve(
            seed=tmp_path / "mail", user=ME, throttle_limit=LIMIT, throttle_window=WINDOW
        ) as graph,  # fmt: skip
        Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store,
    ):
        graph.quota.clock = clock.now
        store.upgrade()
        failed, held, source = 0, [], _source(graph, clock)
        for _ in range(100):
            try:
                run_cycle(ME, source, OutlookActions(source.client), store, RULES, SENDER, NOW,
                          TZ, provider="outlook")  # fmt: skip
                break
            except GhostwatchError:
                failed += 1
                held.append(_stored(store))
                clock.sleep(WINDOW)  # the next poll, once the window has passed
                if failed == 1:
                    source = _source(graph, clock)  # a restart: only the store carries over
        else:
            pytest.fail("the first sync never completed")
        assert failed >= 3  # it really was cut short, more than once
        assert _decided(store) == expected
        # Carried on, never started over: what was stored only ever grew.
        assert 0 < held[0] < PROSPECTS + PROSPECTS // 2
        assert held == sorted(held)
        assert _stored(store) == PROSPECTS + PROSPECTS // 2


def _stored(store: Store) -> int:
    with store.transaction() as tx:
        account = tx.account(ME, "outlook", ME)
        return len(tx.cached_headers(account, "outlook"))
