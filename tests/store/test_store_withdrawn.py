"""The ledger's side of "Drafts stay true" (migration 0005), on SQLite and PostgreSQL: the
digest of what a draft said is kept on its intent, the drafts still in the mailbox are
found by id or by step, and a step ghostwatch withdrew itself may be intended again —
by exactly one of several replicas — where a step the user deleted never is."""

from __future__ import annotations

from ghostwatch.store import LedgerStatus, Store
from tests.store.test_store import _threads, account, store, url

__all__ = ["account", "store", "url"]  # fixtures, used by name

KEY, STEP = "draft:c1/nudge/0/ab", "c1/nudge/0/ab"


def _made(store: Store, account: int, ref: str, fingerprint: str = "f1") -> None:
    with store.transaction() as tx:
        assert tx.intend(account, KEY, "draft", "c1", STEP)
        tx.written(account, KEY, fingerprint)
        tx.confirm(account, KEY, ref)


def test_the_digest_is_kept_and_drafts_are_found_by_id_or_by_step(
    store: Store, account: int
) -> None:
    _made(store, account, "r-1")
    with store.transaction() as tx:
        assert tx.drafts_made(account, {"r-9"}, {"other/step"}) == []
        [by_id] = tx.drafts_made(account, {"r-1"}, set())
        [by_step] = tx.drafts_made(account, set(), {STEP})
    assert by_id == by_step
    assert (by_id.fingerprint, by_id.provider_ref, by_id.status) == ("f1", "r-1", LedgerStatus.DONE)


def test_a_withdrawn_step_is_intended_again_by_one_replica(store: Store, account: int) -> None:
    _made(store, account, "r-1")
    with store.transaction() as tx:
        tx.withdrawn(account, KEY)
        assert tx.drafts_made(account, {"r-1"}, {STEP}) == []  # no longer a draft of ours

    def race(_index: int) -> bool:
        with store.transaction() as tx:
            return tx.intend(account, KEY, "draft", "c1", STEP)

    assert sorted(map(repr, _threads(4, race))) == ["False"] * 3 + ["True"]
    with store.transaction() as tx:
        again = tx.entry(account, KEY)
    assert again is not None
    assert (again.status, again.provider_ref, again.fingerprint) == (
        LedgerStatus.INTENDED,
        None,
        None,
    )


def test_a_step_the_user_deleted_is_never_intended_again(store: Store, account: int) -> None:
    _made(store, account, "r-1")
    with store.transaction() as tx:
        tx.abandon(account, KEY, "deleted by the user without sending")
        tx.withdrawn(account, KEY)  # only a confirmed draft can be withdrawn: no change
        assert not tx.intend(account, KEY, "draft", "c1", STEP)
        found = tx.entry(account, KEY)
    assert found is not None
    assert found.status == LedgerStatus.ABANDONED
