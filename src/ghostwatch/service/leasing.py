"""A replica's share of the accounts, on a shared PostgreSQL (store/leases.py).

The `Leaser` runs one claim round at start (so a replica that starts or restarts takes
free and expired leases at once, not a round later) and then every third of a lease, in
a thread of its own: a pool busy with cycles never delays a renewal. What it holds is
believed only until the lease could have run out by the replica's own monotonic clock,
counted from before the round's transaction began and less a margin: a process paused
or cut off from the database stops acting before the server lets another replica take
the account. The database check in each transaction (`Store.fenced`) catches the rest.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from ghostwatch.errors import StoreError
from ghostwatch.store import Store, connect, leases

log = structlog.get_logger(__name__)

SURPLUS_PATIENCE = 1.0
"""Lease times a surplus over the fair share must last before it is given up. A replica
killed is still counted alive until its leases expire, and a replica restarting counts
as soon as it says so, long before it polls: giving its share at once to a newcomer that
is still starting, while the dead one's accounts wait for expiry, would move accounts
twice and leave them unpolled in between. A surplus that outlives a lease is real (a
replica joined for good), and is handed over then."""

MAX_MARGIN = 5.0
"""Seconds a held lease is given up before it could expire (a tenth of it if shorter):
room for a write under way to reach the provider before anyone else may start."""


def new_holder() -> str:
    """This process's name among the replicas: host (the pod's name), pid and a random
    part, so a restarted replica never mistakes its predecessor's leases for its own."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Change:
    gained: frozenset[str]
    lost: frozenset[str]
    """Held before, not held (or held at another generation) now, not by choice."""
    released: frozenset[str]
    """Given up on purpose: a surplus over the fair share."""
    replicas: int = 0
    """Live replicas the round counted, this one included (0: the round failed)."""


class Leaser:
    def __init__(
        self,
        store: Store,
        accounts: list[str],
        lease_seconds: float,
        *,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._engine = store.side_engine()
        self.accounts = sorted(accounts)
        self.lease_seconds = lease_seconds
        self.holder = holder or new_holder()
        self._monotonic = monotonic
        self._margin = min(MAX_MARGIN, lease_seconds / 10)
        self._held: dict[str, int] = {}
        self._until = 0.0
        self._last: leases.Round | None = None
        self._last_at: float | None = None
        self._surplus_since: float | None = None
        self._lock = threading.Lock()

    def claim(self) -> Change:
        """One round: renew, give up a surplus, take up to the fair share."""
        started = self._monotonic()
        since = self._surplus_since
        give_up = since is not None and started - since >= SURPLUS_PATIENCE * self.lease_seconds
        try:
            with (
                connect.translated(self._engine.url, "cannot renew leases in"),
                self._engine.begin() as connection,
            ):
                found = leases.claim_round(
                    connection, self.holder, self.accounts, self.lease_seconds, give_up=give_up
                )
        except StoreError as error:
            # What is held stays believed until its deadline, then lapses by itself.
            log.warning("lease_round_failed", error=str(error))
            return Change(frozenset(), frozenset(), frozenset())
        with self._lock:
            before = self._held  # lapsed by the clock or not: what it last held
            self._held, self._last, self._last_at = dict(found.held), found, started
            self._until = started + self.lease_seconds - self._margin
        if len(found.held) <= found.share:
            self._surplus_since = None
        elif self._surplus_since is None:
            self._surplus_since = started
        return _change(before, found)

    def generation(self, account: str) -> int | None:
        """The generation this replica holds `account` at, if it still may act for it."""
        with self._lock:
            if self._monotonic() >= self._until:
                return None
            return self._held.get(account)

    def fence(self, account: str) -> leases.Fence | None:
        generation = self.generation(account)
        if generation is None:
            return None
        return leases.Fence(account, self.holder, generation)

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held) if self._monotonic() < self._until else []

    def ready(self) -> tuple[bool, dict[str, int]]:
        """Ready when a recent round left it holding its fair share, or nothing was left
        to take; the counts say so on /readyz (no account names)."""
        with self._lock:
            last, fresh = self._last, self._monotonic() < self._until
        if last is None or not fresh:
            return False, {"held": 0, "share": 0, "free": 0, "replicas": 0}
        held = len(last.held)
        counts = {"held": held, "share": last.share, "free": last.free, "replicas": last.replicas}
        return held >= last.share or last.free == 0, counts

    def release(self) -> None:
        """A clean stop: every lease handed back at once."""
        with self._lock:
            self._held, self._until = {}, 0.0
        try:
            with (
                connect.translated(self._engine.url, "cannot release leases in"),
                self._engine.begin() as connection,
            ):
                leases.release_all(connection, self.holder)
        except StoreError as error:
            log.warning("lease_release_failed", error=str(error))  # they expire instead
        else:
            log.info("leases_released", holder=self.holder)
        finally:
            self._engine.dispose()


def _change(before: dict[str, int], found: leases.Round) -> Change:
    now = found.held
    gained = frozenset(name for name, gen in now.items() if before.get(name) != gen)
    gone = frozenset(name for name, gen in before.items() if now.get(name) != gen)
    released = gone & found.released
    return Change(gained, gone - released, released, found.replicas)
