"""Bring a database to the newest schema with Alembic, configured from Python.

Several replicas may start at once against one PostgreSQL database. Each runs the whole
upgrade inside one transaction that first takes a transaction-scoped advisory lock, so
the first one migrates and the others wait, then find the schema at head and do nothing.
PostgreSQL's DDL is transactional: a replica that dies mid-upgrade leaves no half schema.
On SQLite the transaction begins IMMEDIATE (connect.py), which serialises writers the same way.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """To the newest schema, or to `revision` (tests upgrading from an older one)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
