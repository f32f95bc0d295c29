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
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _no_duplicate_drafts(folder: Path) -> None:
    for n in range(ACCOUNTS):
        counts = drafts_by_step(folder / f"mail-{n:02d}")
        assert all(count == 1 for count in counts.values()), counts


def test_two_replicas_share_the_accounts_and_never_poll_one_together(
    replicas: Replicas, tmp_path: Path
) -> None:
    one = replicas.start("one")
    time.sleep(2)
    two = replicas.start("two")
    time.sleep(16)  # a few rounds: the first gives up its surplus, the second takes it
    started_by_two = min(start for w, _, start, _ in replicas.windows() if w.startswith("two"))
    mine, theirs = _polled(replicas, one, after=started_by_two + 4), _polled(replicas, two)
    assert len(mine) == len(theirs) == ACCOUNTS // 2, (mine, theirs)
    assert mine.isdisjoint(theirs)
    assert overlaps(replicas.windows()) == []
    for replica in (one, two):
        status, body = _ready(replica)
        assert status == 200, body
        assert body["leases"] == {"held": 3, "share": 3, "free": 0, "replicas": 2}
    _no_duplicate_drafts(tmp_path)


def test_a_killed_replicas_accounts_go_to_the_other_within_the_lease_time(
    replicas: Replicas, tmp_path: Path
) -> None:
    one, _two = replicas.start("one"), replicas.start("two")
    time.sleep(12)
    orphaned = _polled(replicas, one, after=time.time() - 5)
    assert orphaned, "the first replica polled nothing"
    killed_at = one.signal(signal.SIGKILL)

    def taken() -> dict[str, float]:
        found: dict[str, float] = {}
        for who, account, start, _ in sorted(replicas.windows(), key=lambda w: w[2]):
            if who.startswith("two") and start > killed_at:
                found.setdefault(account, start)
        return found

    deadline = time.monotonic() + 30
    while not orphaned <= set(taken()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert orphaned <= set(taken()), (orphaned, taken())
    slowest = max(taken()[account] - killed_at for account in orphaned)
    # Expiry (one lease after the last renewal), the survivor's next round (a third of a
    # lease) and its poll at once; a poll interval of room, as the target gives.
    assert slowest <= LEASE + POLL_MINUTES * 60 + 2, slowest
    assert overlaps(replicas.windows()) == []
    _no_duplicate_drafts(tmp_path)


def test_a_replica_paused_past_its_lease_is_fenced_and_stops_acting(
    replicas: Replicas, tmp_path: Path
) -> None:
    one, _two = replicas.start("one"), replicas.start("two")
    time.sleep(12)
    paused_at = one.signal(signal.SIGSTOP)
    time.sleep(2 * LEASE + 4)  # its leases run out; the other takes and polls them
    resumed_at = one.signal(signal.SIGCONT)
    time.sleep(8)
    windows = replicas.windows()
    assert overlaps(windows) == []  # never two replicas on one account at once
    taken = {a for w, a, s, _ in windows if w.startswith("two") and paused_at < s < resumed_at}
    assert len(taken) == ACCOUNTS  # the other replica had every account while it slept
    losses = [e for e in one.events() if e.get("event") == "leases_changed" and e["lost"]]
    assert losses, "the paused replica did not notice it lost its leases"
    # What it had begun before the pause ended at once (the lease check refused it) or
    # had finished: no cycle of it runs on under a lost lease after it wakes.
    fenced = [e for e in one.events() if e.get("event") == "lease_lost_in_cycle"]
    late = [w for w in windows if w[0].startswith("one") and w[2] < paused_at < w[3] - 1]
    assert not late or fenced, late
    _no_duplicate_drafts(tmp_path)
