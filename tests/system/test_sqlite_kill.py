"""The SQLite file survives a SIGKILL in the middle of writing (issue 7).

Writers (tests/support/sqlite_writer.py) commit cycle-shaped transactions through the store's
own API and say so after each commit returns; each is killed at a random instant. Then
the file must pass SQLite's integrity check, open and upgrade, hold every commit a writer
reported (durability) and nothing of the one it was killed in (atomicity).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostwatch.store import Store
from tests.support import sqlite_writer as writer
from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

TRIALS = 20
SEED = 7


def test_a_writer_killed_at_random_instants_loses_no_commit_and_leaves_no_half(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template.db"
    with Store.open(f"sqlite:///{template}") as store:
        store.upgrade()
    paths = [tmp_path / f"trial-{n:02d}.db" for n in range(TRIALS)]
    for path in paths:
        shutil.copy(template, path)
    chance = random.Random(SEED)  # nosec B311 - when to kill, not a secret
    # Kill after 1-3 reported commits, up to about two transactions' time later: the
    # instant lands anywhere in a transaction, its commit included.
    plan = [(chance.randint(1, 2), chance.uniform(0.0, 0.1)) for _ in paths]
    reported = _kill_writers(paths, plan)
    for path, last in zip(paths, reported, strict=True):
        _assert_whole(path, last)


def _kill_writers(paths: list[Path], plan: list[tuple[int, float]]) -> list[int]:
    """Run one writer per file, kill each as planned; the last commit each reported."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.sqlite_writer", *map(str, paths)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = iter(process.stdout.readline, "")
    reported: list[int] = []
    try:
        for commits, delay in plan:
            # A killed writer may have printed more commits before it died: they come
            # before the next writer's first line, and count as reported.
            late, pid = _until_next_writer(lines)
            if reported:
                reported[-1] = max(reported[-1], *late)
            seen = _commits([next(lines) for _ in range(commits)])
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            reported.append(max(seen))
        reported[-1] = max(reported[-1], *_commits(list(lines)))
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return reported


def _until_next_writer(lines: Iterator[str]) -> tuple[list[int], int]:
    """The commits printed before the next writer's `pid N` line, and N."""
    commits: list[str] = []
    for line in lines:
        if line.startswith("pid "):
            return _commits(commits), int(line.split()[1])
        commits.append(line)
    raise AssertionError(f"the writers stopped early; last lines {commits[-3:]}")


def _commits(lines: list[str]) -> list[int]:
    """The commit numbers among a writer's lines ([-1]: none)."""
    return [int(line.split()[1]) for line in lines if line.startswith("commit ")] or [-1]


def _assert_whole(path: Path, reported: int) -> None:
    with sqlite3.connect(path) as raw:  # what any later process sees first
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path.name
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        assert store.revision() == Store.head()
        with store.transaction() as tx:
            [account] = [a.id for a in tx.accounts() if a.name == writer.ACCOUNT]
            cursor = tx.cursor(account, writer.CURSOR)
            intents = {entry.key for entry in tx.pending(account)}
            attempts = [s.attempt for s in tx.snapshots(account).values()]
    assert cursor is not None, f"{path.name}: commit {reported} was reported, none is there"
    last = int(cursor)
    # Durability: every commit the writer was told of is there; at most one more, the
    # one whose "commit" line the kill came before.
    assert reported <= last <= reported + 1, (path.name, reported, last)
    # Atomicity: the ledger, the snapshots and the cursor all end at the same commit.
    expected = {key for marker in range(last + 1) for key in writer.intent_keys(marker)}
    assert intents == expected, path.name
    assert attempts == [last] * writer.CONVERSATIONS, path.name
