"""What every family of `Tx` methods is built on: the transaction's session and clock,
and the two statements they all write with.

`Tx` (store/tx.py) is one class to its callers, made of families that live in modules
of their own (the action ledger: store/ledger.py); each family inherits this base, so
none repeats how an insert that may race another replica is written. An insert is
INSERT ... ON CONFLICT: the loser of a race learns it lost (no row written) instead of
getting an error, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

# Rows per multi-row INSERT: well under SQLite's limit of 32,766 bound parameters.
SNAPSHOT_CHUNK = 500


class Statements:
    """The base of `Tx`: one session, one clock, an upsert and an update."""

    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def _upsert(
        self,
        table: type[SQLModel],
        rows: list[dict[str, Any]],
        keys: Iterable[str],
        update: Iterable[str] = (),
    ) -> int:
        """INSERT ... ON CONFLICT (keys) DO UPDATE (update) or DO NOTHING; how many rows
        were written. Both dialects wait for a racing transaction's row, then see it."""
        dialect = sqlite if self._session.get_bind().dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(rows)
        columns = list(update)
        if columns:
            fresh = {name: statement.excluded[name] for name in columns}
            statement = statement.on_conflict_do_update(index_elements=list(keys), set_=fresh)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys))
        # Counted through RETURNING: psycopg reports no rowcount for these INSERTs.
        written = self._session.exec(statement.returning(sa.literal_column("1")))
        return len(written.all())

    def _update(self, table: type[SQLModel], *where: Any, **values: Any) -> int:
        statement = sa.update(table).where(*where).values(**values)
        return int(self._session.exec(statement).rowcount)
