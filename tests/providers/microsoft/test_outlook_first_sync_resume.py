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
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def _seed(root: Path) -> None:
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-11-{2 + n % 10:02d} 09:00")
        if n % 2:
            box.add("INBOX", who, ME, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                    reply_to=first)  # fmt: skip


def _seed_live(root: Path) -> None:
    """Every conversation begun before the look-back (`SINCE`) and live within it: an
    answer, or a nudge of mine, so each is read whole after the deltas."""
    box = Mailbox(root)
    for n in range(PROSPECTS):
        who = f"P{n} <p{n}@org{n}.example>"
        first = box.add("Sent", ME, who, f"Offer {n}", f"2026-10-{2 + n % 10:02d} 09:00")
        folder, sender, to = ("INBOX", who, ME) if n % 2 else ("Sent", ME, who)
        box.add(folder, sender, to, f"Re: Offer {n}", f"2026-11-{3 + n % 10:02d} 10:00",
                reply_to=first)  # fmt: skip


def _source(
    graph: GraphSandbox, clock: VirtualTime | None = None, since: datetime | None = None
) -> OutlookSource:
    token = graph.token
    client = GraphClient(lambda: token, base_url=graph.base_url)
    if clock is not None:  # waits pass on the virtual clock; a long one ends the cycle
        client.retry = RetryPolicy(sleep=clock.sleep, base=0.5, cap=2.0, longest_wait=60.0)
    return OutlookSource(client, page_size=PAGE, since=since)


def _decided(store: Store) -> dict[str, State]:
    with store.transaction() as tx:
        account = tx.account(ME, "outlook", ME)
        found = tx.snapshots(account).values()
    return {s.subject: s.state for s in found if s.state != State.NOT_TRACKED}


def test_a_first_sync_under_a_tight_quota_completes_across_cycles(tmp_path: Path) -> None:
    """The daemon's source lives across cycles (it keeps the bodies it read); after the
    first failure the process restarts, and carries on from what the store holds."""
    _seed(tmp_path / "mail")
    held = _cycles_until_synced(tmp_path, since=None)
    assert 0 < held[0] < PROSPECTS + PROSPECTS // 2
    assert held[-1] == PROSPECTS + PROSPECTS // 2


def test_a_look_back_first_sync_reads_its_conversations_whole_across_cycles(
    tmp_path: Path,
) -> None:
    """With a look-back, the conversations read whole after the deltas
    (`providers/microsoft/older.py`) are cut short by the quota too, and carried on
    from the last one read, never started over: the decisions are the full read's."""
    _seed_live(tmp_path / "mail")
    held = _cycles_until_synced(tmp_path, since=SINCE)
    assert held[0] < PROSPECTS  # the deltas alone: the older half not read yet
    assert held[-1] == 2 * PROSPECTS


def _cycles_until_synced(tmp_path: Path, since: datetime | None) -> list[int]:
    """Cycles under the tight quota until one completes, deciding as an unthrottled
    full read; the messages stored after each failed cycle and at the end."""
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
        failed, held, source = 0, [], _source(graph, clock, since)
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
                    source = _source(graph, clock, since)  # a restart: only the store is kept
        else:
            pytest.fail("the first sync never completed")
        assert failed >= 3  # it really was cut short, more than once
        assert _decided(store) == expected
        # Carried on, never started over: what was stored only ever grew.
        held.append(_stored(store))
        assert held == sorted(held)
        return held


def _stored(store: Store) -> int:
    with store.transaction() as tx:
        account = tx.account(ME, "outlook", ME)
        return len(tx.cached_headers(account, "outlook"))
