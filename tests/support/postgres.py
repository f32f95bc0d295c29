"""The machine's PostgreSQL for tests (trust auth at 127.0.0.1:5432, as `.ci/run` starts
it): a throwaway database or schema made for a test and dropped after it, and the URL a
store opens it by. One place, so every PostgreSQL test skips the same way when the server
is down and cleans up the same way when it is up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "test"
"""The database the machine starts with; schemas made for a test live in it."""


def admin(sql: str, database: str = DATABASE) -> None:
    """One statement, autocommitted (CREATE/DROP DATABASE refuse a transaction)."""
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def store_url(database: str = DATABASE, search_path: str | None = None, **query: str) -> str:
    """A store's URL; `search_path` confines every connection to one schema."""
    options = {"options": f"-csearch_path%3D{search_path}"} if search_path else {}
    pairs = "&".join(f"{key}={value}" for key, value in {**options, **query}.items())
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    return f"{url}?{pairs}" if pairs else url


@contextmanager
def throwaway(kind: str, prefix: str, within: str = DATABASE) -> Iterator[str]:
    """A new, empty DATABASE or SCHEMA named `prefix` + a random suffix, dropped at the
    end; the test skips when the server cannot be reached."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    home = "postgres" if kind == "DATABASE" else within
    try:
        admin(f"CREATE {kind} {name}", home)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable ({error}); `.ci/run` starts it")
    drop = "WITH (FORCE)" if kind == "DATABASE" else "CASCADE"
    try:
        yield name
    finally:
        admin(f"DROP {kind} {name} {drop}", home)
