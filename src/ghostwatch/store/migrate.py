"""Bring a database to the newest schema with Alembic, configured from Python.

Several replicas may start at once against one PostgreSQL database. Each runs the whole
upgrade inside one transaction that first takes a transaction-scoped advisory lock, so
the first one migrates and the others wait, then find the schema at head and do nothing.
PostgreSQL's DDL is transactional: a replica that dies mid-upgrade leaves no half schema.
On SQLite the transaction begins IMMEDIATE (connect.py), which serialises writers the same way.

The migration state is in ghostwatch's own version table, in ghostwatch's own schema on
PostgreSQL (namespace.py); an install from before that is moved there first (adopt.py).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import ProgrammingError

from ghostwatch.errors import StoreUnavailable
from ghostwatch.store import adopt, connect, namespace

MIGRATIONS = Path(__file__).with_name("migrations")

# An arbitrary constant that names "ghostwatch is migrating" among advisory locks
# (they are per database, so two ghostwatch databases on one server do not contend).
ADVISORY_LOCK_KEY = 0x67686F7374  # "ghost"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return _context(connection).get_current_revision()


def _context(connection: sa.Connection) -> MigrationContext:
    return MigrationContext.configure(connection, opts={"version_table": namespace.VERSION_TABLE})


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """To the newest schema, or to `revision` (tests upgrading from an older one)."""
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        _ensure_schema(connection)
        adopt.adopt(connection, script)
        _refuse_unknown(connection, script)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _ensure_schema(connection: sa.Connection) -> None:
    try:
        namespace.ensure_schema(connection)
    except ProgrammingError as error:  # no CREATE privilege on the database
        url = connection.engine.url
        schema = namespace.quote(connection, namespace.schema_of(url))
        raise StoreUnavailable(
            connect.explain(url, f"cannot create schema {schema} in", error)
            + f"; have the database's owner run CREATE SCHEMA {schema} AUTHORIZATION "
            + (url.username or "<the URL's user>")
        ) from error


def _refuse_unknown(connection: sa.Connection, script: ScriptDirectory) -> None:
    """A revision this ghostwatch has no migration for was written by a newer one (or by
    hand): one line that says so, not Alembic's "Can't locate revision" traceback."""
    try:
        for revision in _context(connection).get_current_heads():
            script.get_revision(revision)
    except CommandError as error:
        found = ", ".join(_context(connection).get_current_heads())
        raise StoreUnavailable(
            f"the database's {namespace.VERSION_TABLE} is at revision {found}, which this "
            f"ghostwatch (newest revision {script.get_current_head()}) does not know: run "
            "the newer ghostwatch that wrote it, or restore the backup taken before it"
        ) from error
