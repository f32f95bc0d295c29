"""Alembic's environment: always run with a connection handed over by `ghostwatch.store`.

The store opens the connection, begins the transaction and takes the migration lock
before Alembic starts, so this file only points Alembic at it (see migrate.py).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from ghostwatch.store import namespace, tables

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through ghostwatch (`ghostwatch db upgrade`), not alembic")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # ghostwatch's own, never the `alembic_version` other projects share (namespace.py).
    version_table=namespace.VERSION_TABLE,
    # SQLite alters tables by copying them; later migrations use op.batch_alter_table.
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=lambda name, kind, _parent: kind != "table" or name in tables.TABLES,
)
with context.begin_transaction():
    context.run_migrations()
