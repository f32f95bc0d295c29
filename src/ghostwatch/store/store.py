"""The `Store`: one database (SQLite file or PostgreSQL), its schema, its transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from ghostwatch.errors import UserError
from ghostwatch.store import connect, migrate
from ghostwatch.store.tx import Tx


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Thread-safe: each `transaction()` takes its own connection from the pool."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    @classmethod
    def open(cls, url: str, clock: Callable[[], datetime] = utc_now) -> Store:
        """Connect to "sqlite:///path.db" or "postgresql+psycopg://..."; `UserError` if
        the URL is wrong or the database cannot be reached. `clock` stamps ledger times."""
        parsed = connect.parse_url(url)
        engine = connect.create_engine(parsed)
        try:
            with engine.connect():
                pass  # fail here, with a message, rather than in the middle of a cycle
        except DBAPIError as error:
            engine.dispose()
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise UserError(f"cannot open database {connect.describe(parsed)}: {reason}") from None
        return cls(engine, clock)

    def upgrade(self) -> None:
        """Migrate to the newest schema; a no-op at head; safe for replicas starting at once."""
        migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: never upgraded)."""
        return migrate.current(self.engine)

    @staticmethod
    def head() -> str | None:
        """The newest schema revision this ghostwatch knows."""
        return migrate.head()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield Tx(session, self._clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
