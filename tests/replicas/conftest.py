"""A throwaway PostgreSQL database for the replica tests (trust auth at 127.0.0.1:5432,
as `.ci/run` starts it): made once per test session, dropped at its end. Each test takes
a schema of its own in it, so tests never see each other's leases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.postgres import admin, store_url, throwaway


@pytest.fixture(scope="session")
def replica_database() -> Iterator[str]:
    with throwaway("DATABASE", "gw_replicas") as name:
        yield name


@pytest.fixture
def pg_url(replica_database: str) -> str:
    """The session's database, in a schema of this test's own."""
    schema = f"gw_{uuid.uuid4().hex[:12]}"
    admin(f"CREATE SCHEMA {schema}", replica_database)
    return store_url(replica_database, search_path=schema)
