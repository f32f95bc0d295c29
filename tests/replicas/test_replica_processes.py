"""Real `ghostwatch run` replicas on one PostgreSQL share the accounts (issue 18):
no account is polled by two at once; a SIGKILLed replica's accounts go to the other
within the lease time; a replica paused past its lease stops acting for what it lost.
Windows come from each replica's own log (`cycle_started`/`cycle_ended`)."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.replica_rig import (
    Replica,
    Replicas,
    drafts_by_step,
    overlaps,
    replica_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.server]

ACCOUNTS = 6
LEASE = 4.0
POLL_MINUTES = 0.05  # every 3 s


@pytest.fixture
def replicas(tmp_path: Path, pg_url: str) -> Iterator[Replicas]:
    config = replica_config(tmp_path, ACCOUNTS, lease_seconds=LEASE, mail_minutes=POLL_MINUTES)
    rig = Replicas(tmp_path, config, pg_url)
    try:
        yield rig
    finally:
        rig.stop_all()


def _polled(rig: Replicas, replica: Replica, after: float = 0.0) -> set[str]:
    index = rig.started.index(replica)
    who = f"{replica.name}#{index}"
    return {account for w, account, start, _ in rig.windows() if w == who and start >= after}


def _ready(replica: Replica) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{replica.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def _metric(replica: Replica, name: str) -> float:
    url = f"http://127.0.0.1:{replica.port}/metrics"
    with urllib.request.urlopen(url, timeout=3) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not in /metrics")


def _no_duplicate_drafts(folder: Path) -> None:
    for n in range(ACCOUNTS):
        counts = drafts_by_step(folder / f"mail-{n:02d}")
        assert all(count == 1 for count in counts.values()), counts


def _until(check: Callable[[], bool], timeout: float, why: str) -> None:
    """Wait for `check`: a replica starts Python, imports and claims before it polls,
    seconds on a loaded machine, so the tests wait for states, not for fixed times."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {why}"
        time.sleep(0.3)


def _sharing(rig: Replicas, *pair: Replica) -> bool:
    """Both ready, each holding its half."""
    want = {"held": ACCOUNTS // 2, "share": ACCOUNTS // 2, "free": 0, "replicas": 2}
    for replica in pair:
        status, body = _ready(replica)
        if status != 200 or body.get("leases") != want:
            return False
    return True


def test_two_replicas_share_the_accounts_and_never_poll_one_together(
    replicas: Replicas, tmp_path: Path
) -> None:
    one = replicas.start("one")
    _until(lambda: _ready(one)[0] == 200, 90, "the first replica ready alone")
    two = replicas.start("two")
    _until(lambda: _sharing(replicas, one, two), 90, "two replicas holding half each")
    shared_at = time.time()
    _until(
        lambda: (
            len(_polled(replicas, one, shared_at))
            == len(_polled(replicas, two, shared_at))
            == ACCOUNTS // 2
        ),
        60,
        "each replica polling its half",
    )
    mine, theirs = _polled(replicas, one, shared_at), _polled(replicas, two, shared_at)
    assert mine.isdisjoint(theirs)
    assert overlaps(replicas.windows()) == []
    for replica in (one, two):
        assert _metric(replica, "ghostwatch_leased_accounts") == ACCOUNTS // 2
    _no_duplicate_drafts(tmp_path)


def test_a_killed_replicas_accounts_go_to_the_other_within_the_lease_time(
    replicas: Replicas, tmp_path: Path
) -> None:
    one, two = replicas.start("one"), replicas.start("two")
    _until(lambda: _sharing(replicas, one, two), 120, "two replicas holding half each")
    shared_at = time.time()
    _until(lambda: len(_polled(replicas, one, shared_at)) == ACCOUNTS // 2, 60, "one polling")
    orphaned = _polled(replicas, one, shared_at)
    killed_at = one.signal(signal.SIGKILL)

    def taken() -> dict[str, float]:
        found: dict[str, float] = {}
        for who, account, start, _ in sorted(replicas.windows(), key=lambda w: w[2]):
            if who.startswith("two") and start > killed_at:
                found.setdefault(account, start)
        return found

    _until(lambda: orphaned <= set(taken()), 60, "the survivor polling the orphans")
    slowest = max(taken()[account] - killed_at for account in orphaned)
    # Expiry (one lease after the last renewal), the survivor's next round (a third of a
    # lease) and its poll at once; a poll interval of room, as the target gives.
    assert slowest <= LEASE + POLL_MINUTES * 60 + 2, slowest
    assert overlaps(replicas.windows()) == []
    _no_duplicate_drafts(tmp_path)


def test_a_replica_paused_past_its_lease_is_fenced_and_stops_acting(
    replicas: Replicas, tmp_path: Path
) -> None:
    one, two = replicas.start("one"), replicas.start("two")
    _until(lambda: _sharing(replicas, one, two), 120, "two replicas holding half each")
    paused_at = one.signal(signal.SIGSTOP)

    def taken() -> set[str]:
        return {a for w, a, s, _ in replicas.windows() if w.startswith("two") and s > paused_at}

    # Its leases run out while it sleeps; the other takes and polls every account.
    _until(lambda: len(taken()) == ACCOUNTS, 60, "the other replica polling every account")
    woke_at = one.signal(signal.SIGCONT)
    _until(
        lambda: any(e.get("event") == "leases_changed" and e["lost"] for e in one.events()),
        30,
        "the paused replica noticing its loss",
    )
    assert _metric(one, "ghostwatch_lease_losses_total") >= 1
    time.sleep(LEASE)  # it rejoins: the accounts are shared again, never polled twice
    windows = replicas.windows()
    # A cycle the pause froze half-way spans the pause, and so the other's takeover of
    # its account, by the wall clock: it did nothing meanwhile. Every other pair of
    # windows must be apart.
    frozen = [w for w in windows if w[0].startswith("one") and w[2] < paused_at < w[3]]
    assert overlaps([w for w in windows if w not in frozen]) == []
    # What it had begun before the pause ended at once when it woke (the lease check
    # refused it) or had finished: no cycle of it runs on under a lost lease.
    fenced = [e for e in one.events() if e.get("event") == "lease_lost_in_cycle"]
    assert all(w[3] - woke_at < LEASE for w in frozen), (frozen, woke_at)
    late = [w for w in frozen if w[3] - 1 > paused_at]
    assert not late or fenced, late
    _no_duplicate_drafts(tmp_path)
