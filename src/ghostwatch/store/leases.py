"""Leases on a shared PostgreSQL: each account polled by one replica at a time.

Every replica runs `claim_round` every third of a lease (service/leasing.py), in one
transaction: it says it is alive (`lease_holders`), renews the leases it holds, works
out its fair share — at most ceil(accounts / live replicas) — and gives up its surplus
or takes free and expired leases up to that share. Taking uses `SELECT … FOR UPDATE
SKIP LOCKED` (PostgreSQL's SELECT reference, "The Locking Clause"): two replicas
claiming at once each get rows the other did not lock, never a wait or a deadlock.
Every time is the server's `now()`, so replicas' clocks need not agree.

A lease changing hands bumps its `generation`. The replica's every transaction checks
(`check`) that it still holds the account at the generation it was given, locking the
row `FOR SHARE` until it commits: a taker's UPDATE waits for that transaction, and a
transaction after the take finds another holder and is refused (`LeaseLost`). So the
write of a replica paused past its lease — the fencing token of "How to do distributed
locking" (Kleppmann, 2016) — never lands after another replica's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ghostwatch.errors import LeaseLost
from ghostwatch.store.tables import LeaseHolderRow, LeaseRow

_LEASES = cast(sa.Table, LeaseRow.__table__)  # type: ignore[attr-defined]
_HOLDERS = cast(sa.Table, LeaseHolderRow.__table__)  # type: ignore[attr-defined]
# A replica gone this long is forgotten (its row only counted it while it was alive).
_FORGET_AFTER = sa.text("interval '1 day'")


@dataclass(frozen=True, slots=True)
class Round:
    """What one round left: the leases held (account → generation), how many replicas
    are alive, the fair share, and how many accounts nobody holds."""

    held: dict[str, int]
    replicas: int
    share: int
    free: int
    released: frozenset[str] = frozenset()
    """Given up this round: the surplus over the fair share."""


def _until(seconds: float) -> sa.ColumnElement[datetime]:
    return sa.func.now() + sa.cast(f"{seconds:.3f} seconds", postgresql.INTERVAL)


def claim_round(
    connection: sa.Connection,
    holder: str,
    accounts: Sequence[str],
    lease_seconds: float,
    *,
    give_up: bool = True,
) -> Round:
    """One round for `holder` over `accounts` (every replica configures the same ones).
    `give_up=False`: a surplus over the fair share is kept this round (the caller waits
    to see that it lasts: service/leasing.py)."""
    names = sorted(set(accounts))
    known = postgresql.insert(_LEASES).values([{"account": name} for name in names])
    connection.execute(known.on_conflict_do_nothing(index_elements=["account"]))
    alive = postgresql.insert(_HOLDERS).values(holder=holder, expires_at=_until(lease_seconds))
    alive = alive.on_conflict_do_update(
        index_elements=["holder"], set_={"expires_at": alive.excluded.expires_at}
    )
    connection.execute(alive)
    connection.execute(
        sa.delete(_HOLDERS).where(_HOLDERS.c.expires_at < sa.func.now() - _FORGET_AFTER)
    )
    replicas = connection.execute(
        sa.select(sa.func.count()).where(_HOLDERS.c.expires_at > sa.func.now())
    ).scalar_one()
    share = math.ceil(len(names) / max(1, replicas))
    mine = sa.and_(
        _LEASES.c.holder == holder,
        _LEASES.c.expires_at > sa.func.now(),
        _LEASES.c.account.in_(names),
    )
    renewed = connection.execute(
        sa.update(_LEASES)
        .where(mine)
        .values(expires_at=_until(lease_seconds))
        .returning(_LEASES.c.account, _LEASES.c.generation)
    )
    held: dict[str, int] = {row[0]: row[1] for row in renewed}
    surplus = sorted(held)[share:] if give_up else []
    if surplus:
        _release(connection, holder, surplus)
        held = {name: held[name] for name in sorted(held)[:share]}
    if len(held) < share:
        held |= _take(connection, holder, names, share - len(held), lease_seconds)
    return Round(held, replicas, share, _free(connection, names), frozenset(surplus))


def _take(
    connection: sa.Connection, holder: str, names: list[str], wanted: int, lease_seconds: float
) -> dict[str, int]:
    """Up to `wanted` free or expired leases, skipping rows another replica is taking
    (or an action transaction holds FOR SHARE); in random order, so replicas starting
    together do not all queue for the same first rows."""
    free = (
        sa.select(_LEASES.c.account)
        .where(_LEASES.c.account.in_(names), _unheld())
        .order_by(sa.func.random())
        .limit(wanted)
        .with_for_update(skip_locked=True)
    )
    chosen = list(connection.execute(free).scalars())
    if not chosen:
        return {}
    taken = connection.execute(
        sa.update(_LEASES)
        .where(_LEASES.c.account.in_(chosen))
        .values(
            holder=holder,
            generation=_LEASES.c.generation + 1,
            expires_at=_until(lease_seconds),
        )
        .returning(_LEASES.c.account, _LEASES.c.generation)
    )
    return {row[0]: row[1] for row in taken}


def _unheld() -> sa.ColumnElement[bool]:
    return sa.or_(_LEASES.c.holder.is_(None), _LEASES.c.expires_at <= sa.func.now())


def _free(connection: sa.Connection, names: list[str]) -> int:
    query = sa.select(sa.func.count()).where(_LEASES.c.account.in_(names), _unheld())
    return int(connection.execute(query).scalar_one())


def _release(connection: sa.Connection, holder: str, accounts: Sequence[str]) -> None:
    connection.execute(
        sa.update(_LEASES)
        .where(_LEASES.c.holder == holder, _LEASES.c.account.in_(list(accounts)))
        .values(holder=None, expires_at=None)
    )


def release_all(connection: sa.Connection, holder: str) -> None:
    """A clean stop: every lease free at once, for the others' next round."""
    connection.execute(
        sa.update(_LEASES).where(_LEASES.c.holder == holder).values(holder=None, expires_at=None)
    )
    connection.execute(sa.delete(_HOLDERS).where(_HOLDERS.c.holder == holder))


@dataclass(frozen=True, slots=True)
class Fence:
    """The lease a cycle acts under: `check` refuses a transaction once it is not held."""

    account: str
    holder: str
    generation: int


def check(connection: sa.Connection, fence: Fence) -> None:
    """`LeaseLost` unless `fence` still holds its account at its generation, now; the
    row stays locked FOR SHARE until the calling transaction ends."""
    query = (
        sa.select(_LEASES.c.generation)
        .where(
            _LEASES.c.account == fence.account,
            _LEASES.c.holder == fence.holder,
            _LEASES.c.generation == fence.generation,
            _LEASES.c.expires_at > sa.func.now(),
        )
        .with_for_update(read=True)
    )
    if connection.execute(query).first() is None:
        raise LeaseLost(
            f"account {fence.account}: this replica's lease (generation {fence.generation}) "
            "expired or went to another replica; it no longer acts for it"
        )
