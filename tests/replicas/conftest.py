"""A throwaway PostgreSQL database for the replica tests (trust auth at 127.0.0.1:5432,
as `.ci/run` starts it): made once per test session, dropped at its end. Each test takes
a schema of its own in it, so tests never see each other's leases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"


def admin(sql: str, database: str = "postgres") -> None:
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def replica_database() -> Iterator[str]:
    name = f"gw_replicas_{uuid.uuid4().hex[:10]}"
    try:
        admin(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable ({error}); `.ci/run` starts it")
    try:
        yield name
    finally:
        admin(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def pg_url(replica_database: str) -> str:
    """The session's database, in a schema of this test's own."""
    schema = f"gw_{uuid.uuid4().hex[:12]}"
    admin(f"CREATE SCHEMA {schema}", replica_database)
    base = f"postgresql+psycopg://postgres@127.0.0.1:5432/{replica_database}"
    return f"{base}?options=-csearch_path%3D{schema}"
