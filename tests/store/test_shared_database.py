"""A database shared with other services: ghostwatch's names never meet theirs.

PostgreSQL tests make a database of their own per test (the URL then sets no search_path,
as an operator's does), so the `ghostwatch` schema and `public` are theirs alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ghostwatch.cli.main import main
from ghostwatch.errors import StoreUnavailable
from ghostwatch.store import Store
from ghostwatch.store.adopt import MOVED
from ghostwatch.store.namespace import SCHEMA, VERSION_TABLE
from ghostwatch.store.tables import TABLES
from tests.support.postgres import SERVER, store_url, throwaway
from tests.support.postgres import admin as _admin


def _rows(database: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(f"{SERVER}/{database}", connect_timeout=3) as connection:
        return list(connection.execute(sql).fetchall())


def _tables(database: str, schema: str) -> set[str]:
    found = _rows(
        database,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'",
    )
    return {str(row[0]) for row in found}


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty PostgreSQL database; its name."""
    with throwaway("DATABASE", "gw_shared") as name:
        yield name


def _url(database: str, search_path: str | None = None) -> str:
    return store_url(database, search_path)


def _another_service(database: str) -> None:
    """A neighbour using the names an unprefixed ghostwatch would: its own `accounts`,
    an index name, and its Alembic state in the default table."""
    _admin(
        "CREATE TABLE public.accounts (id serial PRIMARY KEY, login text);"
        "INSERT INTO public.accounts (login) VALUES ('theirs');"
        "CREATE INDEX ix_action_ledger_status ON public.accounts (login);"
        "CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);"
        "INSERT INTO public.alembic_version VALUES ('0001');",
        database,
    )


def _use(url: str) -> None:
    with Store.open(url) as store:
        store.upgrade()
        with store.transaction() as tx:
            tx.set_cursor(tx.account("work", "gmail", "alex@example.com"), "history", "42")


def _kept(url: str) -> tuple[str | None, str | None]:
    with Store.open(url) as store:
        store.upgrade()
        with store.transaction() as tx:
            cursor = tx.cursor(tx.account("work", "gmail", "alex@example.com"), "history")
        return store.revision(), cursor


def test_tables_live_in_their_own_schema_beside_another_services(database: str) -> None:
    _another_service(database)
    _use(_url(database))
    assert _tables(database, SCHEMA) == {*TABLES, VERSION_TABLE}
    assert _tables(database, "public") == {"accounts", "alembic_version"}
    assert _rows(database, "SELECT login FROM public.accounts") == [("theirs",)]
    assert _rows(database, "SELECT * FROM public.alembic_version") == [("0001",)]
    assert _kept(_url(database)) == (Store.head(), "42")


def test_an_install_from_before_moves_with_its_data(database: str) -> None:
    """Made as an older ghostwatch made it: tables in `public`, state in `alembic_version`."""
    _use(_url(database, "public"))
    _admin(f"ALTER TABLE public.{VERSION_TABLE} RENAME TO alembic_version", database)
    assert _kept(_url(database)) == (Store.head(), "42")
    assert _tables(database, SCHEMA) == {*TABLES, VERSION_TABLE}
    # An older ghostwatch pointed here stops at a revision it cannot find, rather than
    # making empty tables in public and writing every draft again.
    assert _tables(database, "public") == {"alembic_version"}
    assert _rows(database, "SELECT * FROM public.alembic_version") == [(MOVED,)]


def test_an_old_install_sharing_alembic_version_leaves_the_neighbours_row(
    database: str,
) -> None:
    _use(_url(database, "public"))
    _admin(
        f"ALTER TABLE public.{VERSION_TABLE} RENAME TO alembic_version;"
        "INSERT INTO public.alembic_version VALUES ('9f3e2a1b7c4d')",
        database,
    )
    assert _kept(_url(database)) == (Store.head(), "42")
    rows = _rows(database, "SELECT version_num FROM public.alembic_version ORDER BY 1")
    assert rows == [("9f3e2a1b7c4d",), (MOVED,)]


def test_another_projects_0001_is_not_taken_for_ghostwatchs(database: str) -> None:
    """Its `alembic_version` says 0001 but none of ghostwatch's tables stand beside it."""
    _another_service(database)
    _use(_url(database))
    assert _rows(database, "SELECT * FROM public.alembic_version") == [("0001",)]
    assert _rows(database, "SELECT count(*) FROM public.accounts") == [(1,)]


def test_a_schema_an_administrator_made_needs_no_create_privilege(database: str) -> None:
    role = f"gw_role_{uuid.uuid4().hex[:8]}"
    _admin(f"CREATE ROLE {role} LOGIN")
    try:
        _admin(f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC", database)
        url = f"postgresql+psycopg://{role}@127.0.0.1:5432/{database}"
        with pytest.raises(StoreUnavailable) as raised, Store.open(url) as store:
            store.upgrade()
        said = str(raised.value)
        assert said.startswith(f"cannot create schema {SCHEMA} in database {url}: ")
        assert said.endswith(f"run CREATE SCHEMA {SCHEMA} AUTHORIZATION {role}")
        _admin(f"CREATE SCHEMA {SCHEMA} AUTHORIZATION {role}", database)
        _use(url)
        assert _tables(database, SCHEMA) == {*TABLES, VERSION_TABLE}
    finally:
        _admin(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", database)
        _admin(f"DROP ROLE {role}")


# -- SQLite: the file is ghostwatch's; the version table is still its own -------------


def test_an_old_sqlite_file_keeps_its_data_under_the_new_version_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    _use(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE {VERSION_TABLE} RENAME TO alembic_version")
    assert _kept(url) == (Store.head(), "42")
    assert set(sa.inspect(engine).get_table_names()) == {*TABLES, VERSION_TABLE}
    engine.dispose()


@pytest.mark.parametrize("foreign", ["alembic_version", VERSION_TABLE])
def test_foreign_migration_state_is_one_line_or_none_of_ours(tmp_path: Path, foreign: str) -> None:
    """Another project's revision in `alembic_version` is not ghostwatch's business; an
    unknown revision in ghostwatch's own table (a newer ghostwatch wrote it) is one line."""
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {foreign} (version_num VARCHAR(32))")
        connection.exec_driver_sql(f"INSERT INTO {foreign} VALUES ('9f3e2a1b7c4d')")
    engine.dispose()
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", url])
    if foreign == "alembic_version":
        assert result.exit_code == 0, result.output
        assert f"database at revision {Store.head()} (head)" in result.output
        return
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert f"{VERSION_TABLE} is at revision 9f3e2a1b7c4d, which this ghostwatch" in result.output
