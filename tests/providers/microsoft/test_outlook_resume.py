"""Outlook across restarts: the cycle stores the folders' delta links with the headers they
cover, so a new process continues the deltas (one request when idle) instead of reading
the mailbox again, and a delta read but not committed is read again after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.mail import Message
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.service.cycle import run_cycle
from ghostwatch.store import Store
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import graph_client
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
TZ = ZoneInfo("Europe/London")
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")
RULES = Rules(me=Identity.of([ME]), calendar=BusinessCalendar(TZ))
SENDER = Sender(name="Alex Morgan", address=ME, signature="Alex")
LATE = (
    b"From: Kathy Lopez <kathy.lopez@contoso.example>\r\nTo: " + ME.encode() + b"\r\n"
    b"Subject: Re: Proposal: Ghostwatch for Contoso\r\nMessage-ID: <late@contoso.example>\r\n"
    b"Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nSounds good.\r\n"
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GraphSandbox, Store]]:
    with (
        GraphSandbox.serve(seed=EXAMPLE, user=ME) as graph,
        Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store,
    ):
        store.upgrade()
        yield graph, store


def _cycle(graph: GraphSandbox, store: Store, source: OutlookSource | None = None) -> OutlookSource:
    source = source or OutlookSource(graph_client(graph), auto_commit=False)
    actions = OutlookActions(graph_client(graph))
    run_cycle(ME, source, actions, store, RULES, SENDER, NOW, TZ, provider="outlook")
    return source


def _keys(messages: list[Message]) -> set[str]:
    return {m.key for m in messages}


def test_a_restarted_process_continues_the_deltas(world: tuple[GraphSandbox, Store]) -> None:
    graph, store = world
    first = _cycle(graph, store)
    held = _keys(first.read_headers())
    restarted = OutlookSource(graph_client(graph), auto_commit=False)
    with store.transaction() as tx:
        restarted.resume(tx.cursor(1, "outlook"), tx.cached_headers(1, "outlook"))
    graph.meter.reset()
    assert _keys(restarted.read_headers()) == held
    assert graph.meter.requests == 1  # one batch: the folder tree's and each folder's delta


def test_a_delta_read_but_not_committed_is_read_again(world: tuple[GraphSandbox, Store]) -> None:
    graph, store = world
    source = _cycle(graph, store)
    late = graph.deliver(LATE)
    assert late in _keys(source.read_headers())  # read, then the process dies: no commit
    restarted = _cycle(graph, store, OutlookSource(graph_client(graph), auto_commit=False))
    assert late in _keys(restarted.read_headers())
    with store.transaction() as tx:
        assert late in {m.key for m in tx.cached_headers(1, "outlook")}


def test_stored_headers_match_what_was_read(world: tuple[GraphSandbox, Store]) -> None:
    graph, store = world
    source = _cycle(graph, store)
    with store.transaction() as tx:
        stored = {m.key: m for m in tx.cached_headers(1, "outlook")}
    now = {m.key: m for m in source.read_headers()}
    assert {key: now[key] for key in stored} == stored  # the round trip is exact
    made = set(now) - set(stored)  # read after the cycle's own read: its drafts
    assert len(made) == sum(1 for w in graph.writes if w.method == "messages.createReply") > 0
    assert {now[key].folder.value for key in made} == {"drafts"}
