"""Where ghostwatch's tables live, so a database shared with other services stays theirs too.

PostgreSQL: every table, index, sequence and the migration state live in one schema of
ghostwatch's own, `ghostwatch` (or the first schema of a `search_path` the URL sets, e.g.
`?options=-csearch_path%3Dsales_tools`). Each connection's `search_path` names it, so the
store and the migrations use plain table names and nothing in another schema can collide
with them: not `accounts`, not an index, not a sequence. Why a schema rather than a name
prefix is argued in docs/architecture.md ("Sharing a database").

SQLite: the file is ghostwatch's alone; only the version table is renamed, as everywhere.

Both: Alembic's version table is `ghostwatch_alembic_version`, never the default
`alembic_version` that every other Alembic project writes to.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

SCHEMA = "ghostwatch"
VERSION_TABLE = "ghostwatch_alembic_version"
# Where an install made before this change kept its migration state (Alembic's default).
SHARED_VERSION_TABLE = "alembic_version"
# The schema a PostgreSQL connection would have used had ghostwatch not set its own:
# where an older install's tables are (connection.info, filled on connect).
DEFAULT_SCHEMA = "ghostwatch_default_schema"

# libpq's `options` carries server settings as `-c name=value`, `-cname=value` or
# `--name=value` (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS).
_SEARCH_PATH = re.compile(r"(?:^|\s)(?:-c\s*|--)search_path\s*=\s*(\S+)")


def url_schema(url: URL) -> str | None:
    """The first schema of a search_path the URL's `options` sets, if it sets one."""
    options = url.query.get("options", ())
    for text in (options,) if isinstance(options, str) else options:
        match = _SEARCH_PATH.search(text)
        if match:
            return match.group(1).split(",")[0].strip().strip('"')
    return None


def schema_of(url: URL) -> str:
    """The PostgreSQL schema ghostwatch's tables live in."""
    return url_schema(url) or SCHEMA


def use_own_schema(engine: Engine) -> None:
    """Point every new PostgreSQL connection of `engine` at ghostwatch's schema, unless
    the URL already chose one, remembering the schema it would have used instead."""
    if url_schema(engine.url) is not None:
        return
    # insert=True: before SQLAlchemy's own first queries on the connection.
    event.listen(engine, "connect", _set_search_path, insert=True)


def _set_search_path(dbapi_connection: Any, record: Any) -> None:
    # Autocommit for this one statement: a SET inside a transaction that is later rolled
    # back is undone with it (https://www.postgresql.org/docs/current/sql-set.html).
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_schema(), set_config('search_path', %s, false)",
                (f'"{SCHEMA}"',),
            )
            record.info[DEFAULT_SCHEMA] = cursor.fetchone()[0]
    finally:
        dbapi_connection.autocommit = autocommit


def ensure_schema(connection: sa.Connection) -> None:
    """Create ghostwatch's PostgreSQL schema if it is missing. Looked up first: CREATE
    SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database, which an
    administrator who made the schema for ghostwatch need not have granted."""
    if connection.dialect.name != "postgresql":
        return
    schema = schema_of(connection.engine.url)
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
    ).first()
    if exists is None:
        connection.exec_driver_sql(f"CREATE SCHEMA {quote(connection, schema)}")


def quote(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def default_schema(connection: sa.Connection) -> str | None:
    """Where an older install's tables are: the schema the connection would use without
    ghostwatch's search_path (PostgreSQL), None on SQLite (one file, one namespace)."""
    if connection.dialect.name != "postgresql":
        return None
    if url_schema(connection.engine.url) is not None:
        return schema_of(connection.engine.url)
    value = connection.info.get(DEFAULT_SCHEMA)
    return str(value) if value else None
