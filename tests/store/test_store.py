"""The store on both backends: SQLite (a temporary file) and PostgreSQL (a fresh schema).

The ledger is what keeps ghostwatch from writing a draft twice, so its guarantees are
tested the way they are used: across transactions, connections, threads and reopenings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel

from ghostwatch.cli.main import main
from ghostwatch.errors import StoreError, StoreUnavailable, UserError
from ghostwatch.model.decisions import Action, ConversationDecision, State
from ghostwatch.store import ConversationSettings, LedgerError, LedgerStatus, Store
from ghostwatch.store.namespace import VERSION_TABLE
from ghostwatch.store.tables import TABLES
from tests.support import postgres

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has used yet: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ghostwatch.db'}"
        return
    with postgres.throwaway("SCHEMA", "gw_test") as schema:
        # Every connection of this store sees only the test's own schema.
        yield postgres.store_url(search_path=schema)


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store.open(url) as opened:
        opened.upgrade()
        yield opened


@pytest.fixture
def account(store: Store) -> int:
    with store.transaction() as tx:
        return tx.account("work", "gmail", "alex@example.com")


def _threads(count: int, work: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - reported to the test below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


# -- schema and upgrade ---------------------------------------------------------------


def test_upgrade_reaches_head_and_twice_is_a_noop(store: Store) -> None:
    assert store.revision() == Store.head() == "0008"
    before = set(sa.inspect(store.engine).get_table_names())
    store.upgrade()
    assert store.revision() == "0008"
    assert set(sa.inspect(store.engine).get_table_names()) == before >= set(TABLES)


def test_the_migration_builds_exactly_the_models(store: Store) -> None:
    ours = sa.MetaData()  # only this package's tables: others may share SQLModel.metadata
    for name in TABLES:
        SQLModel.metadata.tables[name].to_metadata(ours)
    with store.engine.connect() as connection:
        opts = {"compare_type": True, "version_table": VERSION_TABLE}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, ours) == []


def test_replicas_upgrading_at_once_both_succeed(url: str) -> None:
    stores = [Store.open(url) for _ in range(3)]
    try:
        results = _threads(3, lambda i: stores[i].upgrade())
        assert results == [None, None, None]
        assert {s.revision() for s in stores} == {"0008"}
    finally:
        for opened in stores:
            opened.close()


def test_snapshots_have_no_column_for_a_body(store: Store) -> None:
    for table in TABLES:
        names = {c["name"] for c in sa.inspect(store.engine).get_columns(table)}
        assert not names & {"body", "text", "html", "content", "snippet", "raw"}, table


# -- the ledger -----------------------------------------------------------------------


def test_intend_twice_tells_the_caller_not_to_act_again(store: Store, account: int) -> None:
    with store.transaction() as tx:
        assert tx.intend(account, "c1:nudge:1", "draft", "c1", "nudge:1")
        assert not tx.intend(account, "c1:nudge:1", "draft", "c1", "nudge:1")
    with store.transaction() as tx:
        assert not tx.intend(account, "c1:nudge:1", "draft", "c1", "nudge:1")
        other = tx.account("home", "outlook", "alex@example.org")
        assert tx.intend(other, "c1:nudge:1", "draft", "c1", "nudge:1")  # keys are per account


def test_many_threads_intend_one_key_exactly_one_wins(store: Store, account: int) -> None:
    barrier = threading.Barrier(6)

    def race(_index: int) -> bool:
        barrier.wait()
        with store.transaction() as tx:
            return tx.intend(account, "k", "draft", "c1", "nudge:1")

    results = _threads(6, race)
    assert sorted(map(repr, results)) == ["False"] * 5 + ["True"]


@pytest.mark.parametrize("first_commits", [True, False])
def test_a_racing_intent_waits_for_the_first_transaction(
    store: Store, account: int, first_commits: bool
) -> None:
    """B intends while A holds an uncommitted intent: B learns A's fate, never an error."""
    holding = threading.Event()

    def first() -> None:
        with store.transaction() as tx:
            assert tx.intend(account, "k", "draft", "c1", "nudge:1")
            holding.set()
            time.sleep(0.3)  # B is blocked on A's lock meanwhile
            if not first_commits:
                raise RuntimeError("crash before commit")

    def second() -> bool:
        holding.wait(10)
        with store.transaction() as tx:
            return tx.intend(account, "k", "draft", "c1", "nudge:1")

    results = _threads(2, lambda i: first() if i == 0 else second())
    assert results[1] is (not first_commits)


def test_a_failed_transaction_changes_nothing(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.set_cursor(account, "gmail.history", "100")

    def failing_cycle() -> None:
        with store.transaction() as tx:
            tx.set_cursor(account, "gmail.history", "200")
            tx.intend(account, "k", "draft", "c1", "nudge:1")
            tx.save_snapshots(account, [_decision("c1")], NOW)
            raise RuntimeError("the provider call failed mid-cycle")

    with pytest.raises(RuntimeError, match="mid-cycle"):
        failing_cycle()
    with store.transaction() as tx:
        assert tx.cursor(account, "gmail.history") == "100"
        assert tx.entry(account, "k") is None
        assert tx.snapshots(account) == {}


def test_an_unconfirmed_intent_is_pending_after_a_crash(url: str, store: Store) -> None:
    with store.transaction() as tx:
        account = tx.account("work", "gmail", "alex@example.com")
        tx.intend(account, "k1", "draft", "c1", "nudge:1")
        tx.intend(account, "k2", "draft", "c2", "nudge:1")
        tx.confirm(account, "k2", "draft-2")
    store.close()  # the process dies between the API call and the confirmation
    with Store.open(url) as reopened, reopened.transaction() as tx:
        assert [e.key for e in tx.pending(account)] == ["k1"]
        tx.confirm(account, "k1", "draft-1")
        assert tx.pending(account) == []
        done = tx.entry(account, "k1")
        assert done is not None
        assert (done.status, done.provider_ref, done.step) == (
            LedgerStatus.DONE,
            "draft-1",
            "nudge:1",
        )
        assert done.settled_at is not None
        assert done.settled_at.tzinfo is not None


def test_confirm_is_idempotent_but_never_rewrites_history(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.intend(account, "k", "draft", "c1", "nudge:1")
        tx.confirm(account, "k", "draft-1")
        tx.confirm(account, "k", "draft-1")  # a retry after a lost reply
        with pytest.raises(LedgerError):
            tx.confirm(account, "k", "draft-2")
        with pytest.raises(LedgerError):
            tx.confirm(account, "never-intended", "draft-3")


def test_an_abandoned_step_stays_taken(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.intend(account, "k", "draft", "c1", "nudge:1")
        tx.confirm(account, "k", "draft-1")
        tx.abandon(account, "k", "the user deleted the draft unsent")
        tx.abandon(account, "k", "seen again next cycle")  # idempotent
        entry = tx.entry(account, "k")
        assert entry is not None
        assert entry.status is LedgerStatus.ABANDONED
        assert entry.reason == "the user deleted the draft unsent"
        assert not tx.intend(account, "k", "draft", "c1", "nudge:1")
        assert tx.pending(account) == []
        with pytest.raises(LedgerError):
            tx.confirm(account, "k", "draft-1")
        with pytest.raises(LedgerError):
            tx.abandon(account, "unknown", "no such step")


def test_the_ledger_survives_reopening_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with Store.open(url) as first:
        first.upgrade()
        with first.transaction() as tx:
            account = tx.account("work", "gmail", "alex@example.com")
            tx.intend(account, "k", "draft", "c1", "nudge:1")
    with Store.open(url) as second:
        second.upgrade()
        with second.transaction() as tx:
            assert not tx.intend(account, "k", "draft", "c1", "nudge:1")
            assert [e.key for e in tx.pending(account)] == ["k"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with Store.open(url) as opened, opened.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


# -- what a cycle records -------------------------------------------------------------


def _decision(conversation: str, **changes: object) -> ConversationDecision:
    fields: dict[str, object] = {
        "id": conversation,
        "subject": "Proposal",
        "contacts": ("sam@prospect.example",),
        "state": State.WAITING,
        "due_at": datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=1))),
    }
    return ConversationDecision(**{**fields, **changes})  # type: ignore[arg-type]


def test_snapshots_upsert_and_read_back_in_utc(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.save_snapshots(account, [_decision("c1"), _decision("c2")], NOW)
    later = NOW + timedelta(days=3)
    due = _decision("c1", state=State.DUE, action=Action.NUDGE, attempt=1, reply_in_junk=True)
    with store.transaction() as tx:
        tx.save_snapshots(account, [due], later)
        saved = tx.snapshots(account)
    assert set(saved) == {"c1", "c2"}
    first = saved["c1"]
    assert (first.state, first.action, first.attempt, first.reply_in_junk) == (
        State.DUE,
        Action.NUDGE,
        1,
        True,
    )
    assert first.contacts == ("sam@prospect.example",)
    assert first.due_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert first.due_at is not None
    assert first.due_at.tzinfo is UTC
    assert (first.updated_at, saved["c2"].updated_at) == (later, NOW)


def test_a_naive_time_is_refused(store: Store, account: int) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive"), store.transaction() as tx:
        tx.record_cycle(account, datetime(2026, 11, 20, 15, 0), None)


def test_many_snapshots_are_written_in_chunks(store: Store, account: int) -> None:
    decisions = [_decision(f"c{i}") for i in range(1200)]
    with store.transaction() as tx:
        tx.save_snapshots(account, decisions, NOW)
        assert len(tx.snapshots(account)) == 1200


def test_one_digest_per_day(store: Store, account: int) -> None:
    with store.transaction() as tx:
        assert tx.last_digest(account) is None
        assert tx.record_digest(account, date(2026, 11, 20), "msg-1", at=NOW)
        assert not tx.record_digest(account, date(2026, 11, 20), "msg-2", at=NOW)
        assert tx.record_digest(account, date(2026, 11, 21), None, at=NOW + timedelta(days=1))
        assert tx.last_digest(account) == NOW + timedelta(days=1)


def test_each_account_gets_one_random_digest_key_that_replicas_agree_on(
    url: str, store: Store, account: int
) -> None:
    with store.transaction() as tx:
        other = tx.account("other", "gmail", "sam@example.com")
    # Three replicas asking at once for a key nobody made yet: one is made, all see it.
    stores = [Store.open(url) for _ in range(3)]
    try:
        seen = _threads(3, lambda i: _key_of(stores[i], account))
    finally:
        for opened in stores:
            opened.close()
    key = str(seen[0])
    assert seen == [key] * 3
    assert len(bytes.fromhex(key)) == 16
    with store.transaction() as tx:
        assert tx.digest_key(account) == key
        assert tx.digest_key(other) not in (key, "")
        tx.forget_mailbox("other")  # the key is not learned from mail: it stays
    assert _key_of(store, account) == key


def _key_of(store: Store, account: int) -> str:
    with store.transaction() as tx:
        return tx.digest_key(account)


def test_conversation_settings_change_only_what_is_given(store: Store, account: int) -> None:
    with store.transaction() as tx:
        tx.set_conversation(account, "c1", muted=True)
        tx.set_conversation(account, "c1", note="met at the fair")
        tx.set_conversation(account, "c2", high_value=True)
        assert tx.conversation_settings(account) == {
            "c1": ConversationSettings(muted=True, note="met at the fair"),
            "c2": ConversationSettings(high_value=True),
        }
        tx.set_conversation(account, "c1", muted=False, note="")
        assert tx.conversation_settings(account)["c1"] == ConversationSettings()


def test_accounts_show_their_last_cycle(store: Store) -> None:
    with store.transaction() as tx:
        work = tx.account("work", "gmail", "alex@example.com")
        assert tx.account("work", "gmail", "alex@new.example") == work  # upsert
        tx.record_cycle(work, NOW, "Gmail said 503 " + "x" * 5000)
        (shown,) = tx.accounts()
        assert (shown.address, shown.last_cycle_at) == ("alex@new.example", NOW)
        assert shown.last_error is not None
        assert shown.last_error.startswith("Gmail said 503")
        assert len(shown.last_error) == 2000
        tx.record_cycle(work, NOW + timedelta(minutes=5), None)
        assert tx.accounts()[0].last_error is None


def test_cursors_are_per_account_and_name(store: Store, account: int) -> None:
    with store.transaction() as tx:
        assert tx.cursor(account, "gmail.history") is None
        tx.set_cursor(account, "gmail.history", "100")
        tx.set_cursor(account, "gmail.history", "101")
        tx.set_cursor(account, "graph.inbox", "delta")
        assert tx.cursor(account, "gmail.history") == "101"
        assert tx.cursor(account, "graph.inbox") == "delta"


# -- opening and the command line -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("mysql://root@localhost/ghostwatch", "unsupported database"),
        ("sqlite://", "in-memory"),
        ("sqlite:////no/such/folder/ghostwatch.db", "does not exist"),
        ("postgresql://postgres@127.0.0.1:1/test", "cannot open database"),
        ("postgresql://postgres@127.0.0.1:port/test", "not a database URL"),
    ],
)
def test_a_bad_url_says_how_to_fix_it(url: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        Store.open(url)


def test_an_unreachable_database_is_named_without_its_password() -> None:
    """A password in the URL, or in its query (libpq reads both), is never shown."""
    url = "postgresql://postgres:s3cret@127.0.0.1:1/test?password=s3cret&sslpassword=s3cret"
    with pytest.raises(StoreUnavailable) as raised:
        Store.open(url)
    said = str(raised.value)
    assert said.startswith("cannot open database postgresql+psycopg://postgres:***@127.0.0.1:1/")
    assert "Connection refused; check that the server is running" in said
    assert "s3cret" not in said
    assert "\n" not in said
    assert isinstance(raised.value, UserError)  # a setting to fix: exit code 2
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://gw:s3cret@db:notaport/gw",
        "postgresql+psycopg://gw:s3c@r/e:t@db:notaport/gw",  # @, / and : in the password
        "postgresql://gw@db:port/gw?sslmode=require&password=s3cret",
        "gw:s3cret@db/gw",  # no scheme at all
    ],
)
def test_a_malformed_url_is_shown_without_its_password(url: str) -> None:
    """Refused as no URL, or (the second: it parses, with host `r`) as no server."""
    with pytest.raises(UserError) as raised:
        Store.open(url)
    said = str(raised.value)
    assert "not a database URL" in said or said.startswith("cannot open database")
    assert "s3c" not in said
    assert "***" in said


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "nowhere" / "gw.db", "nowhere does not exist"),
        (lambda tmp: tmp / "a-file" / "gw.db", "a-file is a file, not a folder"),
        (lambda tmp: tmp / "a-file", "file is not a database; check that the path names"),
    ],
)
def test_an_unusable_sqlite_path_says_why(
    tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    (tmp_path / "a-file").write_text("not a database, and long enough to be read as one\n")
    with pytest.raises(UserError, match=says):
        Store.open(f"sqlite:///{make(tmp_path)}")


def test_a_failed_statement_leaves_as_a_store_error(store: Store, account: int) -> None:
    """Inside a transaction too: the driver's first line, no SQL and no parameters (they
    may hold mail headers), and no "check the server" for what is not the server's."""
    with pytest.raises(StoreError) as raised, store.transaction() as tx:
        tx.set_cursor(account + 1000, "gmail.history", "secret-cursor-value")  # no such account
    said = str(raised.value)
    assert said.startswith(f"cannot use database {store.engine.url.render_as_string()}: ")
    assert "foreign key" in said.lower()
    assert "secret-cursor-value" not in said
    assert "[SQL" not in said
    assert "check that" not in said
    assert not isinstance(raised.value, UserError)  # mid-run: not the user's to fix
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)
    with store.transaction() as tx:  # rolled back, and the store still works
        assert tx.cursor(account, "gmail.history") is None


def test_cli_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade", "--database-url", url])
    assert (result.exit_code, result.output) == (0, "database at revision 0008 (head)\n")
    again = runner.invoke(main, ["db", "upgrade"], env={"GHOSTWATCH_DATABASE_URL": url})
    assert again.exit_code == 0
    bad = runner.invoke(main, ["db", "upgrade"], env={"GHOSTWATCH_DATABASE_URL": "mysql://x"})
    assert bad.exit_code == 2
    assert "unsupported database" in bad.output


def test_forgetting_a_mailbox_keeps_the_users_choices_and_other_accounts(store: Store) -> None:
    with store.transaction() as tx:
        sandbox, other = (
            tx.account("sandbox", "gmail", "a@x.example"),
            tx.account("o", "gmail", "b@x.example"),
        )
        for account in (sandbox, other):
            tx.set_cursor(account, "gmail", "4242")
            tx.save_snapshots(account, [_decision("c1")], NOW)
            tx.intend(account, "draft:c1/nudge/1", "draft", "c1", "c1/nudge/1")
            tx.record_digest(account, date(2026, 11, 20), "msg-1", at=NOW)
            tx.record_cycle(account, NOW, "it broke")
            tx.record_failure(account, NOW, "GmailError", "it broke", needs_you=False)
            tx.set_conversation(account, "c1", muted=True, note="met at the fair")
    with store.transaction() as tx:
        assert tx.forget_mailbox("sandbox")
        assert not tx.forget_mailbox("nobody")
    with store.transaction() as tx:
        learned = [
            (tx.cursor(a, "gmail"), len(tx.snapshots(a)), len(tx.pending(a)), tx.last_digest(a))
            for a in (sandbox, other)
        ]
        assert learned == [(None, 0, 0, None), ("4242", 1, 1, NOW)]
        assert [tx.trouble(a) is None for a in (sandbox, other)] == [True, False]
        assert [info.last_error for info in tx.accounts()] == ["it broke", None]  # o, sandbox
        kept = ConversationSettings(muted=True, note="met at the fair")
        assert [tx.conversation_settings(a) for a in (sandbox, other)] == [{"c1": kept}] * 2
