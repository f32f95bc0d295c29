"""Leases on a real PostgreSQL (store/leases.py, service/leasing.py): the fair share,
takeover after expiry, a clean stop handing leases back, and fencing — the write of a
replica whose lease ran out is refused in the transaction that would record it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ghostwatch.errors import LeaseLost
from ghostwatch.service.leasing import Leaser
from ghostwatch.store import Store

pytestmark = [pytest.mark.server]

ACCOUNTS = [f"acct-{n:02d}" for n in range(10)]


class Clock:
    """A monotonic clock the test moves: what a pause looks like to the paused replica."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    with Store.open(pg_url) as opened:
        opened.upgrade()
        yield opened


def test_two_replicas_take_fair_shares_that_never_overlap(store: Store) -> None:
    clock = Clock()
    first = Leaser(store, ACCOUNTS, 30, holder="a", monotonic=clock)
    first.claim()
    assert first.held() == ACCOUNTS  # alone, it takes everything at once
    second = Leaser(store, ACCOUNTS, 30, holder="b")
    second.claim()
    assert second.held() == []  # nothing free yet: the first gives up its surplus later
    # Not at once: a newcomer may be a restart still starting while a dead replica is
    # counted until its leases expire; a surplus that lasts a lease time is handed over.
    assert first.claim().released == frozenset()
    clock.offset += 30
    change = first.claim()
    assert len(change.released) == 5
    assert not change.lost
    second.claim()
    assert len(first.held()) == len(second.held()) == 5
    assert set(first.held()).isdisjoint(second.held())
    assert first.ready()[0]
    assert second.ready()[0]


def test_an_expired_lease_goes_to_another_replica_with_a_new_generation(store: Store) -> None:
    paused_clock = Clock()
    paused = Leaser(store, ACCOUNTS[:2], 2, holder="paused", monotonic=paused_clock)
    paused.claim()
    before = {name: paused.generation(name) for name in ACCOUNTS[:2]}
    other = Leaser(store, ACCOUNTS[:2], 2, holder="other")
    other.claim()
    assert other.held() == []  # held, and not expired: nothing to take
    time.sleep(2.2)  # the paused replica renews nothing: its leases run out on the server
    paused_clock.offset = 2.2
    assert paused.held() == []  # its own clock says so too: it stopped acting already
    other.claim()
    assert other.held() == ACCOUNTS[:2]
    for name in ACCOUNTS[:2]:
        generation = other.generation(name)
        assert generation is not None
        assert generation > (before[name] or 0)
    change = paused.claim()  # it wakes: what it held is gone, and counted as lost
    assert paused.held() == []
    assert change.lost == frozenset(ACCOUNTS[:2])


def test_a_stale_replicas_write_is_refused_in_the_transaction_that_records_it(
    store: Store,
) -> None:
    paused = Leaser(store, ["acct-00"], 2, holder="paused")
    paused.claim()
    fence = paused.fence("acct-00")
    assert fence is not None
    # The paused replica's view of its lease is frozen (its clock stopped with it); only
    # the database can refuse it.
    fenced = store.fenced(fence, lambda: True)
    with fenced.transaction() as tx:
        account = tx.account("acct-00", "maildir", "me@example.com")
        assert tx.intend(account, "draft:one", "draft", "c1", "one")
    time.sleep(2.2)
    taker = Leaser(store, ["acct-00"], 30, holder="taker")
    taker.claim()
    assert taker.held() == ["acct-00"]
    with pytest.raises(LeaseLost), fenced.transaction() as tx:
        tx.intend(account, "draft:two", "draft", "c1", "two")
    with store.transaction() as tx:
        assert tx.entry(account, "draft:one") is not None
        assert tx.entry(account, "draft:two") is None  # refused: nothing recorded


def test_a_write_waits_out_no_take_the_lease_row_is_locked_while_it_records(
    store: Store,
) -> None:
    holder = Leaser(store, ["acct-00"], 2, holder="holder")
    holder.claim()
    fence = holder.fence("acct-00")
    assert fence is not None
    with store.fenced(fence, lambda: True).transaction() as tx:
        time.sleep(2.2)  # expired on the server while this transaction holds the row
        taker = Leaser(store, ["acct-00"], 30, holder="taker")
        taker.claim()
        # SKIP LOCKED: the row this transaction locked is not taken under it.
        assert taker.held() == []
        tx.account("acct-00", "maildir", "me@example.com")
    taker.claim()
    assert taker.held() == ["acct-00"]


def test_a_replica_paused_inside_a_transaction_loses_its_locks_and_its_write(
    pg_url: str,
) -> None:
    """SIGSTOP between two statements: without the idle limit its FOR SHARE lock on the
    lease row lasts as long as the pause and SKIP LOCKED never hands the account over."""
    paused_clock = Clock()
    with Store.open(pg_url, idle_limit=1.0) as store:
        store.upgrade()
        with store.engine.connect() as connection:  # added to the URL's own options
            show = connection.exec_driver_sql
            assert show("SHOW idle_in_transaction_session_timeout").scalar() == "1s"
            assert str(show("SHOW search_path").scalar()) in pg_url
        paused = Leaser(store, ["acct-00"], 2, holder="paused", monotonic=paused_clock)
        paused.claim()
        fence = paused.fence("acct-00")
        assert fence is not None
        fenced = store.fenced(fence, lambda: paused.generation("acct-00") is not None)
        with store.transaction() as tx:
            account = tx.account("acct-00", "maildir", "me@example.com")
        taker = Leaser(store, ["acct-00"], 30, holder="taker")

        def paused_mid_transaction() -> None:
            with fenced.transaction() as tx:
                assert tx.intend(account, "draft:late", "draft", "c1", "late")
                time.sleep(2.5)  # the pause: the server ends the session after 1 s idle
                taker.claim()
                assert taker.held() == ["acct-00"]  # its lease expired, its lock is gone
                paused_clock.offset = 2.5  # it wakes; its clock moved on with the world
                tx.intend(account, "draft:later", "draft", "c1", "later")

        with pytest.raises(LeaseLost, match="ended"):
            paused_mid_transaction()
        with store.transaction() as tx:
            assert tx.entry(account, "draft:late") is None  # rolled back with the session
        assert paused.claim().lost == frozenset({"acct-00"})


def test_a_clean_stop_hands_every_lease_back_at_once(store: Store) -> None:
    leaving = Leaser(store, ACCOUNTS, 300, holder="leaving")
    leaving.claim()
    staying = Leaser(store, ACCOUNTS, 300, holder="staying")
    staying.claim()
    assert staying.held() == []
    leaving.release()
    staying.claim()
    assert staying.held() == ACCOUNTS  # not 300 s later: at its next round


def test_a_restarted_replica_takes_the_dead_ones_accounts_and_the_others_keep_theirs(
    store: Store,
) -> None:
    """A kill and a quick restart: the dead replica counts as alive until its leases
    expire, and the restart counts at once. The survivors must not hand the restart
    their own accounts meanwhile (they would move twice, unpolled in between): it takes
    the dead one's as they expire."""
    # Long enough that a claim round slowed by a busy machine still renews in time (a
    # lapse would hand a survivor's account to the restart and fail the test for nothing).
    lease = 5.0
    alive = [Leaser(store, ACCOUNTS, lease, holder=name) for name in ("a", "b", "dies")]
    a, b, dies = alive
    deadline = time.monotonic() + 3 * lease
    while not all(leaser.ready()[0] and leaser.held() for leaser in alive):  # settle
        assert time.monotonic() < deadline, "the three never settled on their shares"
        for leaser in alive:
            leaser.claim()
        time.sleep(0.2)
    kept = {"a": set(a.held()), "b": set(b.held())}
    orphaned = set(dies.held())
    assert all((orphaned, kept["a"], kept["b"]))
    restarted = Leaser(store, ACCOUNTS, lease, holder="restarted")  # `dies` renews no more
    deadline = time.monotonic() + lease + 1.0  # past the expiry of what `dies` held
    while time.monotonic() < deadline:
        for leaser in (a, b, restarted):
            assert not leaser.claim().released
        time.sleep(0.3)
    assert set(a.held()) == kept["a"]
    assert set(b.held()) == kept["b"]
    assert set(restarted.held()) == orphaned
