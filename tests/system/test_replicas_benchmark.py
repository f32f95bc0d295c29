"""`benchmarks/replicas.py`, short: two real replicas on a real PostgreSQL over six
Gmail sandboxes, SIGKILLed twice while follow-ups fall due (issue 18's proof, small).
The full run (3 replicas, 1,000 mailboxes, 20 kills) is quoted in docs/scaling.md."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

LEASE, POLL = 4.0, 3.0


def test_replicas_killed_at_random_never_poll_together_and_lose_no_follow_up() -> None:
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable ({error}); `.ci/run` starts it")
    command = [
        sys.executable, str(REPO / "benchmarks" / "replicas.py"),
        "--replicas", "2", "--mailboxes", "6", "--kills", "2", "--lease", str(LEASE),
        "--poll", str(POLL), "--kill-every", "5", "--hosts", "1",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kills"] == 2
    assert result["polls"] > 0
    assert result["double_polls"] == 0
    assert result["duplicates"] == 0
    assert result["follow_ups_due"] > 0
    assert result["missing"] == 0
    assert result["send_attempts"] == 0
    # One lease time and one poll interval, doubled: the suite shares two cores with
    # other tests, and a restarted replica must start Python before it can poll.
    assert result["takeover_seconds_max"] <= 2 * (LEASE + POLL), result
