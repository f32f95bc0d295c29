"""A few trials of `benchmarks/crash_consistency.py`: SIGKILL at random instants, then the
mailboxes must hold every due draft exactly once and no action done twice.

The benchmark (200 trials) gives the figure for the issue; this keeps the property in
every `make test`.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from crash_consistency import main  # noqa: E402 (benchmarks are scripts, not a package)


def test_killed_cycles_leave_no_duplicate_and_no_missing_draft() -> None:
    result = main(["--trials", "2", "--messages", "300", "--seed", "11"])
    assert result["trials"] == 2
    assert result["kills"] >= 1
    assert (result["duplicates"], result["missing"], result["double_actions"]) == (0, 0, 0)
    assert result["unsettled"] == 0
