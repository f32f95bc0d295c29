"""Move an install made before ghostwatch had names of its own into them, data and all.

Such an install kept its tables beside everyone else's (PostgreSQL: in the schema the URL
landed in, usually `public`) and its migration state in Alembic's default
`alembic_version` table. Its revision moves to `ghostwatch_alembic_version` and, on
PostgreSQL, its tables move into ghostwatch's schema with `ALTER TABLE … SET SCHEMA`,
which takes their rows, indexes, constraints and sequences along
(https://www.postgresql.org/docs/current/sql-altertable.html). It runs inside the
upgrade's transaction, after its lock: it happens whole, once, or not at all.

This is not an Alembic revision because it moves Alembic's own version table: Alembic
reads that table before it can run any revision.

An `alembic_version` holding a revision that is not ghostwatch's is another service's:
it is left alone and never read again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ghostwatch.store import namespace, tables

# Left in the old version table once the tables have moved, so an older ghostwatch
# pointed at this database stops at "Can't locate revision" instead of starting over on
# empty tables in the old schema and writing every draft a second time.
MOVED = "ghostwatch_moved_to_own_schema"

# Tables every revision of ghostwatch had: their presence beside the old version table
# says the revision there is ghostwatch's and not another project's "0001".
FIRST_TABLES = ("accounts", "sync_cursors", "action_ledger", "digests")


def adopt(connection: sa.Connection, script: ScriptDirectory) -> str | None:
    """Move an older install found where this connection's data used to go; return the
    revision it was at, or None when there was nothing of ghostwatch's to move."""
    inspector = sa.inspect(connection)
    target = _current_schema(connection)
    if inspector.has_table(namespace.VERSION_TABLE, schema=target):
        return None
    source = namespace.default_schema(connection)
    revision = _our_revision(connection, inspector, source, script)
    if revision is None:
        return None
    if source is not None and target is not None and source != target:
        _move_tables(connection, inspector, source, target)
    _hand_over_revision(connection, source, revision, moved=source != target)
    context = MigrationContext.configure(
        connection, opts={"version_table": namespace.VERSION_TABLE}
    )
    context.stamp(script, revision)
    return revision


def _current_schema(connection: sa.Connection) -> str | None:
    if connection.dialect.name != "postgresql":
        return None
    return connection.execute(sa.text("SELECT current_schema()")).scalar_one_or_none()


def _our_revision(
    connection: sa.Connection,
    inspector: sa.Inspector,
    schema: str | None,
    script: ScriptDirectory,
) -> str | None:
    if not inspector.has_table(namespace.SHARED_VERSION_TABLE, schema=schema):
        return None
    if not all(inspector.has_table(name, schema=schema) for name in FIRST_TABLES):
        return None
    rows = connection.execute(sa.select(_version_table(schema).c.version_num)).scalars()
    ours = [revision for revision in rows if _known(script, revision)]
    return ours[0] if len(ours) == 1 else None


def _known(script: ScriptDirectory, revision: str) -> bool:
    return any(step.revision == revision for step in script.walk_revisions())


def _move_tables(
    connection: sa.Connection, inspector: sa.Inspector, source: str, target: str
) -> None:
    quote = connection.dialect.identifier_preparer.quote_identifier
    for name in tables.TABLES:
        if inspector.has_table(name, schema=source):
            connection.exec_driver_sql(
                f"ALTER TABLE {quote(source)}.{quote(name)} SET SCHEMA {quote(target)}"
            )


def _hand_over_revision(
    connection: sa.Connection, schema: str | None, revision: str, *, moved: bool
) -> None:
    old = _version_table(schema)
    connection.execute(old.delete().where(old.c.version_num == revision))
    if moved:
        connection.execute(old.insert().values(version_num=MOVED))
        return
    left = connection.execute(sa.select(sa.func.count()).select_from(old)).scalar_one()
    if left == 0:  # it was ghostwatch's alone: nothing of anyone's is lost with it
        old.drop(connection)


def _version_table(schema: str | None) -> sa.Table:
    return sa.Table(
        namespace.SHARED_VERSION_TABLE,
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), primary_key=True),
        schema=schema,
    )
