"""Turn a database URL into a configured SQLAlchemy engine, or a fix-it message.

SQLite is the single-process default; PostgreSQL is for several replicas. Both are set
up so that a committed step survives a crash and concurrent writers wait, not fail.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    InternalError,
    NotSupportedError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool

from ghostwatch import private
from ghostwatch.errors import StoreError, UserError
from ghostwatch.store import namespace

EXAMPLES = "sqlite:///path/to/ghostwatch.db or postgresql+psycopg://user:password@host:5432/db"

# How long a writer waits for another writer's lock before giving up. Cycles are short,
# so half a minute only runs out when something is truly stuck.
BUSY_TIMEOUT_MS = 30_000

# What to check when a database does not answer or its file cannot be used, by backend.
HINTS = {
    "sqlite": "check that the path names a SQLite file in a folder that exists and is writable",
    "postgresql": "check that the server is running and reachable, and the URL's user, "
    "password and database",
}
# Errors of one statement (a bug, or a schema another program changed): no setting to check.
STATEMENT_ERRORS = (IntegrityError, DataError, ProgrammingError, NotSupportedError, InternalError)
# How SQLAlchemy's own errors end: a link to its error catalogue, not for the user.
BACKGROUND = "(Background on this error at:"
# Query parameters libpq reads as a password; never shown (the URL's own is masked).
SECRET_QUERY = frozenset({"password", "sslpassword"})
_USERINFO = re.compile(r"(?P<head>://[^:/@?#\s]*:).*@", re.DOTALL)
_BARE_USERINFO = re.compile(r"(?P<head>^[^:/@?#\s]*:).*@", re.DOTALL)  # no scheme given
_QUERY_SECRET = re.compile(r"(?P<key>[?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)


def parse_url(text: str) -> URL:
    """Check the URL names a backend ghostwatch supports; refuse anything else clearly."""
    try:
        url = sa.make_url(text.strip())
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise UserError(
            f"{masked(text.strip())!r} is not a database URL: write e.g. {EXAMPLES}"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        # psycopg 3 is the driver ghostwatch installs; the bare scheme would ask for psycopg2.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not url.database or url.database == ":memory:":
            raise UserError(
                f"{url.render_as_string()!r} is an in-memory database, which forgets every "
                "step on restart: give a file, e.g. sqlite:///ghostwatch.db"
            )
        return url
    raise UserError(f"unsupported database {url.drivername!r}: use {EXAMPLES}")


def create_engine(url: URL, *, idle_limit: float | None = None, **pool: Any) -> Engine:
    """`pool`: the PostgreSQL pool's own settings (a replica's lease engine keeps one).
    `idle_limit`: seconds PostgreSQL lets a session sit idle inside a transaction before
    it ends the session (`_session_options`); SQLite has one process and ignores it."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if idle_limit is not None:
        connect_args["options"] = _session_options(url, idle_limit)
    # pre-ping: a long-running daemon outlives server restarts and idle-connection reapers.
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)
    namespace.use_own_schema(engine)  # its own schema, in a database it may share
    return engine


def _session_options(url: URL, idle_limit: float) -> str:
    """libpq's `options` with `idle_in_transaction_session_timeout` added to any the URL
    gives. A replica stopped (SIGSTOP, a VM pause) or cut off in the middle of a
    transaction keeps its row locks, and the lease row it checked stays locked FOR SHARE:
    every other replica's `FOR UPDATE SKIP LOCKED` would skip that account for as long as
    the pause lasts. PostgreSQL ends such a session after the timeout and its locks go
    with it (PostgreSQL docs, "Client Connection Defaults")."""
    given = url.query.get("options", "")
    own = f"-c idle_in_transaction_session_timeout={max(1, round(idle_limit * 1000))}"
    return " ".join(part for part in (*_strings(given), own) if part)


def _strings(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def _sqlite_engine(url: URL) -> Engine:
    folder = Path(url.database or "").expanduser().resolve().parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise UserError(
            f"cannot create the database file: {folder} {problem}; "
            "create the folder or give another path"
        )
    _create_private(Path(url.database or "").expanduser())
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_private(path: Path) -> None:
    """Create the database file 0600 whatever the umask (it holds other people's
    addresses); SQLite gives its -wal and -shm files the database file's mode (os_unix.c,
    findCreateFileMode). An existing file keeps the mode its owner chose."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.FILE_MODE)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite says why in its own words, with the fix (StoreUnavailable)
    os.close(fd)
    private.keep_private(path)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never block the writer. synchronous=FULL: a commit is on disk when
        # it returns, so a confirmed ledger entry survives a power cut, not just a crash.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # Take the write lock up front. A deferred transaction that reads, then writes after
    # another process committed, fails at once with SQLITE_BUSY instead of waiting; with
    # IMMEDIATE, concurrent cycles queue on busy_timeout and each sees the other's rows.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def probe_engine(engine: Engine) -> Engine:
    """The engine a readiness probe asks. PostgreSQL: the store's own (pre-ping replaces
    dead connections, so a probe reaches the server). SQLite: a new connection per probe
    that may not create the file. A pooled SQLite connection keeps answering, and taking
    writes, from a file whose folder was deleted or moved: writes lost at the next start."""
    if engine.url.get_backend_name() != "sqlite":
        return engine
    path = Path(engine.url.database or "").expanduser().resolve()
    address = f"file:{quote(str(path))}?mode=rw"  # rw, not rwc: never create it

    def existing() -> sqlite3.Connection:
        return sqlite3.connect(address, uri=True, timeout=5)

    return sa.create_engine("sqlite://", creator=existing, poolclass=NullPool)


def masked(text: str) -> str:
    """A URL that did not parse, its password hidden all the same: everything between the
    user's name and the last `@` (a password may hold `@`, `/` or `:`), and any
    `password=` in the query (RFC 3986 section 3.2.1: userinfo ends at the last `@`
    before the host; libpq also reads a password from the query)."""
    userinfo = _USERINFO if "://" in text else _BARE_USERINFO
    text = userinfo.sub(r"\g<head>***@", text)
    return _QUERY_SECRET.sub(r"\g<key>***", text)


def describe(url: URL) -> str:
    """The URL for messages and logs, without its password."""
    shown = url.set(query={k: v for k, v in url.query.items() if k not in SECRET_QUERY})
    return shown.render_as_string(hide_password=True)


@contextmanager
def translated(url: URL, doing: str, error: type[StoreError] = StoreError) -> Iterator[None]:
    """The store's edge: a driver error leaves as `error`, in one line that says `doing`
    what to which database, why, and what to check. The original stays as its cause."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as failure:  # PoolTimeout: every connection busy
        raise error(explain(url, doing, failure)) from failure


def explain(url: URL, doing: str, failure: SQLAlchemyError) -> str:
    message = f"{doing} database {describe(url)}: {_reason(url, failure)}"
    hint = HINTS.get(url.get_backend_name())
    if hint is None or isinstance(failure, STATEMENT_ERRORS):
        return message
    return f"{message}; {hint}"


def _reason(url: URL, failure: SQLAlchemyError) -> str:
    """The driver's own first line: SQLAlchemy's text adds the statement, its parameters
    (which may hold mail headers) and a link, none of it for the person reading."""
    driver = getattr(failure, "orig", None) or failure
    text = str(driver).split(BACKGROUND)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = " ".join(lines[0].split()) if lines else type(driver).__name__
    for secret in _secrets(url):
        reason = reason.replace(secret, "***")
    return reason


def _secrets(url: URL) -> list[str]:
    given = [url.password, *(url.query.get(key) for key in SECRET_QUERY)]
    values = [v for value in given for v in (value if isinstance(value, tuple) else (value,))]
    return [str(value) for value in values if value]
