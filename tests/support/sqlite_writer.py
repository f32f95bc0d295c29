"""Processes that write a SQLite store until they are killed (tests/system/test_sqlite_kill.py).

`python -m tests.support.sqlite_writer DB...` imports ghostwatch once, then for each database
file in turn forks a writer and waits for it to die. A writer prints `pid N`, then, after
each transaction's commit has returned, `commit I`. Forking from this single-threaded
process costs milliseconds where a fresh interpreter costs most of a second, so twenty
kills fit in a few seconds.

Each transaction is what a cycle commits, one marker `I` throughout: three ledger intents
`w{I}:{j}`, every conversation's snapshot with attempt `I`, the cursor `I`, the cycle's
outcome. Killed at any instant, the file must hold transactions 0..I whole and nothing
of I+1. `--pragma journal_mode=OFF` weakens the store's settings: with it, 16 kills in
240 left a corrupt file or half a transaction (without it, none).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from sqlalchemy import event

from ghostwatch.model.decisions import Action, ConversationDecision, State
from ghostwatch.store import Store

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ACCOUNT = "writer"
CURSOR = "writer"
CONVERSATIONS = 200
"""Snapshot rows per transaction: many more pages than the cache below holds."""
SMALL_CACHE = "cache_size=10"
"""Pages SQLite keeps in memory (the store leaves SQLite's default, 2 MB). A transaction
bigger than its cache spills to disk before its commit, as a first sync of a large
mailbox can: the kill then finds a transaction half on disk, not only in memory."""
INTENTS = 3


def decisions(marker: int) -> list[ConversationDecision]:
    return [
        ConversationDecision(
            id=f"conversation-{n:04d}",
            subject=f"Proposal {n}",
            contacts=(f"person{n}@example.com",),
            state=State.WAITING,
            action=Action.NONE,
            attempt=marker,
        )
        for n in range(CONVERSATIONS)
    ]


def intent_keys(marker: int) -> list[str]:
    return [f"w{marker}:{j}" for j in range(INTENTS)]


def store_account(store: Store) -> int:
    with store.transaction() as tx:
        return tx.account(ACCOUNT, "maildir", "writer@example.com")


def write(store: Store, account: int, marker: int) -> None:
    """One cycle-shaped transaction, all marked `marker`."""
    with store.transaction() as tx:
        for key in intent_keys(marker):
            tx.intend(account, key, "draft", f"conversation-{marker}", key)
        tx.save_snapshots(account, decisions(marker), NOW)
        tx.set_cursor(account, CURSOR, str(marker))
        tx.record_cycle(account, NOW, None)


def write_until_killed(path: str, pragmas: list[str], parent: int) -> None:
    store = Store.open(f"sqlite:///{path}")
    store.engine.dispose()  # forget the connection Store.open made before the pragmas
    settings = [SMALL_CACHE, *pragmas]
    event.listen(store.engine, "connect", lambda raw, _: _add_pragmas(raw, settings))
    account = store_account(store)
    print(f"pid {os.getpid()}", flush=True)
    marker = 0
    while os.getppid() == parent:  # the test, and this process's parent, still waiting
        write(store, account, marker)
        print(f"commit {marker}", flush=True)
        marker += 1


def _add_pragmas(raw: object, pragmas: list[str]) -> None:
    for pragma in pragmas:
        raw.execute(f"PRAGMA {pragma}")  # type: ignore[attr-defined]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("databases", nargs="+")
    parser.add_argument("--pragma", action="append", default=[])
    args = parser.parse_args(argv)
    for path in args.databases:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the writer: never returns to the loop
            try:
                write_until_killed(path, args.pragma, parent)
            finally:
                os._exit(1)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main(sys.argv[1:])
