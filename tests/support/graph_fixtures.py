"""Fixtures for driving the Graph sandbox with httpx over real HTTP.

A test module defines its own `seed_dir` (the Maildir the sandbox is seeded from) and
imports these by name: `from tests.support.graph_fixtures import graph, http`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ghostwatch_sandbox.microsoft import GraphSandbox
from tests.support.builder import ME


@pytest.fixture
def graph(seed_dir: Path) -> Iterator[GraphSandbox]:
    with GraphSandbox.serve(seed=seed_dir, user=ME) as running:
        yield running


@pytest.fixture
def http(graph: GraphSandbox) -> Iterator[httpx.Client]:
    """A client holding the sandbox's bearer token, at its base URL."""
    headers = {"Authorization": f"Bearer {graph.token}"}
    with httpx.Client(base_url=graph.base_url, headers=headers) as client:
        yield client
