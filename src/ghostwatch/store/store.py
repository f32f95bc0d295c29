"""The `Store`: one database (SQLite file or PostgreSQL), its schema, its transactions."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

import sqlalchemy as sa
from sqlmodel import Session

from ghostwatch.clock import utc_now
from ghostwatch.errors import LeaseLost, StoreError, StoreUnavailable
from ghostwatch.store import connect, leases, migrate
from ghostwatch.store.tx import Tx


class Store:
    """Thread-safe: each `transaction()` takes its own connection from the pool.

    Every driver error leaves as a `StoreError` naming the database (never its password);
    at start (`open`, `upgrade`) as a `StoreUnavailable`, which is also a `UserError`."""

    def __init__(
        self,
        engine: sa.Engine,
        clock: Callable[[], datetime] = utc_now,
        idle_limit: float | None = None,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._idle_limit = idle_limit

    @classmethod
    def open(
        cls,
        url: str,
        clock: Callable[[], datetime] = utc_now,
        *,
        idle_limit: float | None = None,
    ) -> Store:
        """Connect to "sqlite:///path.db" or "postgresql+psycopg://..."; `UserError` if
        the URL is wrong or the database cannot be reached. `clock` stamps ledger times.
        `idle_limit`: PostgreSQL ends a session idle this long inside a transaction, so
        a replica paused mid-transaction cannot keep its lease rows locked
        (`connect.create_engine`)."""
        parsed = connect.parse_url(url)
        engine = connect.create_engine(parsed, idle_limit=idle_limit)
        try:
            with connect.translated(parsed, "cannot open", StoreUnavailable), engine.connect():
                pass  # fail here, with a message, rather than in the middle of a cycle
        except StoreError:
            engine.dispose()
            raise
        return cls(engine, clock, idle_limit)

    def upgrade(self) -> None:
        """Migrate to the newest schema; a no-op at head; safe for replicas starting at once."""
        with connect.translated(self.engine.url, "cannot upgrade", StoreUnavailable):
            migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: never upgraded)."""
        with connect.translated(self.engine.url, "cannot read the schema of"):
            return migrate.current(self.engine)

    @staticmethod
    def head() -> str | None:
        """The newest schema revision this ghostwatch knows."""
        return migrate.head()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with (
            connect.translated(self.engine.url, "cannot use"),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield Tx(session, self._clock)

    @functools.cached_property
    def _probe_engine(self) -> sa.Engine:
        """Made on the first ping: only the daemon's readiness probe needs it."""
        return connect.probe_engine(self.engine)

    def ping(self) -> None:
        """One round trip for a readiness probe (through `connect.probe_engine`):
        `StoreError` if the database does not answer."""
        engine = self._probe_engine
        # SQLite: read the file's header, which a vanished file cannot answer. PostgreSQL:
        # the smallest round trip.
        query = "PRAGMA schema_version" if engine.dialect.name == "sqlite" else "SELECT 1"
        with connect.translated(self.engine.url, "cannot reach"), engine.connect() as connection:
            connection.exec_driver_sql(query)

    @property
    def shared(self) -> bool:
        """PostgreSQL: several replicas may use it, and divide the accounts by leases."""
        return self.engine.dialect.name == "postgresql"

    def side_engine(self) -> sa.Engine:
        """A connection of its own to the same database, for the leases: a renewal never
        waits for a connection the cycles hold (the caller disposes of it)."""
        return connect.create_engine(
            self.engine.url, idle_limit=self._idle_limit, pool_size=1, max_overflow=1
        )

    def fenced(self, fence: leases.Fence, held: Callable[[], bool]) -> Store:
        """This store for one cycle under a lease: every transaction first asks `held`
        (the replica's own clock says the lease has not run out), then checks the lease
        in the database inside the transaction itself (store/leases.py)."""
        return FencedStore(self.engine, self._clock, fence, held, self._idle_limit)

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


class FencedStore(Store):
    """A `Store` whose transactions are refused (`LeaseLost`) once the lease is gone."""

    def __init__(
        self,
        engine: sa.Engine,
        clock: Callable[[], datetime],
        fence: leases.Fence,
        held: Callable[[], bool],
        idle_limit: float | None = None,
    ) -> None:
        super().__init__(engine, clock, idle_limit)
        self.fence = fence
        self.held = held

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if not self.held():
            raise LeaseLost(f"account {self.fence.account}: this replica's lease ran out")
        try:
            with super().transaction() as tx:
                tx.fenced(self.fence)
                yield tx
        except StoreError as error:
            if isinstance(error, LeaseLost) or self.held():
                raise
            # Paused past the lease mid-transaction: the server ended the session (its
            # idle limit) and the lease is gone by this replica's own clock too.
            raise LeaseLost(
                f"account {self.fence.account}: this replica's lease ran out during a "
                "transaction, which the database ended"
            ) from error

    def close(self) -> None:
        """The engine is the replica's, shared by every cycle: not closed here."""
