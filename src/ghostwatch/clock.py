"""The wall clock, read only at the edges: the engine and compose are given `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
