"""Trouble in the store (migration 0003): failed cycles kept until a digest shows them,
on SQLite and PostgreSQL, and an existing 0002 database upgraded with its rows."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ghostwatch.store import Store, migrate
from ghostwatch.store.tables import UTCDateTime
from tests.store.test_store import NOW, _threads, account, store, url

__all__ = ["account", "store", "url"]  # fixtures, used by name

# The accounts table as revision 0002 left it.
ACCOUNTS_0002 = sa.Table(
    "accounts",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String()),
    sa.Column("provider", sa.String()),
    sa.Column("address", sa.String()),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("last_cycle_at", UTCDateTime()),
    sa.Column("last_error", sa.String()),
)
EXPIRED = "Google refused account 'work''s sign-in: run `ghostwatch auth google --account work`"


def test_0003_upgrades_a_0002_database_and_keeps_its_accounts(url: str) -> None:
    with Store.open(url) as old:
        migrate.upgrade(old.engine, "0002")
        assert old.revision() == "0002"
        with old.engine.begin() as connection:  # what a 0002 release wrote
            row: dict[str, object] = {"name": "work", "provider": "gmail"}
            row |= {"address": "alex@example.com"}
            row |= {"created_at": NOW, "last_cycle_at": NOW, "last_error": "Gmail said 503"}
            inserted = connection.execute(sa.insert(ACCOUNTS_0002).values(row))
            (work,) = tuple(inserted.inserted_primary_key or ())
        old.upgrade()
        assert old.revision() == Store.head()
        columns = {c["name"] for c in sa.inspect(old.engine).get_columns("accounts")}
        assert {"trouble_since", "trouble_failures", "trouble_message"} <= columns
        with old.transaction() as tx:
            (kept,) = tx.accounts()
            assert (kept.id, kept.name, kept.last_error) == (work, "work", "Gmail said 503")
            assert tx.trouble(work) is None  # the new columns read as "no trouble"
            tx.record_failure(work, NOW, "TokenRevoked", EXPIRED, needs_you=True)
            found = tx.trouble(work)
            assert found is not None
            assert found.failures == 1


def test_failures_add_up_until_the_digest_that_showed_them(store: Store, account: int) -> None:
    times = [NOW + timedelta(hours=h) for h in (0, 2, 5)]
    with store.transaction() as tx:
        tx.record_failure(account, times[0], "GmailError", "Google answered 500", needs_you=False)
        tx.record_failure(account, times[1], "RuntimeError", "", needs_you=False)
        shown = tx.trouble(account)
    with store.transaction() as tx:
        tx.record_failure(account, times[2], "TokenRevoked", EXPIRED, needs_you=True)
    with store.transaction() as tx:
        # A failure after the digest read the trouble: clearing what it showed keeps all.
        assert shown is not None
        assert not tx.clear_trouble(account, shown)
        now = tx.trouble(account)
    assert now is not None
    assert (now.since, now.last_at, now.failures) == (times[0], times[2], 3)
    assert (now.kind, now.message, now.needs_you) == ("TokenRevoked", EXPIRED, True)
    assert now.since.tzinfo is not None
    with store.transaction() as tx:
        assert tx.clear_trouble(account, now)
        assert tx.trouble(account) is None
        later = NOW + timedelta(days=1)
        tx.record_failure(account, later, "GmailError", "x" * 5000, needs_you=False)
        fresh = tx.trouble(account)
    assert fresh is not None
    assert (fresh.since, fresh.failures, len(fresh.message)) == (later, 1, 500)


def test_a_rolled_back_delivery_keeps_the_trouble(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.record_failure(account, NOW, "TokenRevoked", EXPIRED, needs_you=True)
        shown = tx.trouble(account)
    assert shown is not None
    try:
        with store.transaction() as tx:
            tx.record_digest(account, NOW.date(), "msg-1", at=NOW)
            assert tx.clear_trouble(account, shown)
            raise ConnectionError("the process died before the commit")
    except ConnectionError:
        pass
    with store.transaction() as tx:
        assert tx.trouble(account) == shown
        assert tx.last_digest(account) is None


def test_failures_recorded_at_once_all_count(store: Store, account: int) -> None:
    def fail(index: int) -> None:
        with store.transaction() as tx:
            at = NOW + timedelta(minutes=index)
            tx.record_failure(account, at, "GmailError", "Google answered 503", needs_you=False)

    assert _threads(6, fail) == [None] * 6
    with store.transaction() as tx:
        found = tx.trouble(account)
    assert found is not None
    assert found.failures == 6
