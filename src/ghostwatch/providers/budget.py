"""One quota budget per user (and per app) that every provider call draws from: pace, never fail.

Providers publish their limits (docs/providers.md, "Quota" and "Throttling"): Gmail
charges units per method, 15,000 per user per minute; Graph allows 10,000 requests per
mailbox in 10 minutes and 4 at once. A client that ignores them runs into the wall and
is refused (429, or Gmail's rate-limit 403), which costs a round trip for nothing, and
in a Gmail batch means re-sending the refused parts; a first sync of a big mailbox
that only retries runs out of attempts and fails, as the issue that asked for this
module saw three times in four. So each call first *draws* its cost from a budget that
mirrors the provider's own limits, and waits when the budget is spent: ghostwatch slows
down to the limit instead of hitting it.

The choices, and why:

- **Sliding windows.** A `Window` is "at most `limit` units in any `seconds`", kept as a
  log of what was spent. It is the strictest reading of "per minute": traffic that never
  puts more than the limit in *any* minute also fits a fixed minute and a token bucket
  of the same size, whichever of those the provider really counts with.
- **A share below the limit** (`share`, 0.9 by default): the clocks of ghostwatch and the
  provider do not agree to the millisecond, and other apps of the same user or project may
  spend from the same quota. Aiming at 90% costs a tenth of the speed and keeps the
  refusals for the cases nobody could see coming.
- **A refusal shrinks the budget, then it grows back** (additive increase, multiplicative
  decrease, the rule TCP uses for the same problem: RFC 5681 §3.1). A 429 means the real
  room is smaller than the budget thought (another client, a stricter limit than
  published): the budget halves and every caller waits what the provider asked
  (`Retry-After`) before drawing again; each unit then spent without refusal gives back
  a little, so a full window later the budget is whole again.
- **Concurrency** (`concurrency`): Graph runs at most 4 requests for one mailbox at a time,
  and a JSON batch counts as up to 4 of them, since Graph dispatches four of its parts at
  once. `draw(..., slots=n)` holds n slots for as long as the request takes.
- **One budget per user, and a parent per app or project** (`parents`): a draw takes from
  the account's budget and from each parent (Gmail's per-project limit, shared by every
  account of the process), and waits for the one with the least room.
- **A project's limit divided among the replicas** (`share_with`): every replica holds
  its own copy of the project's budget, so each aims at its part of the limit
  (see `Budget.resize` for why the part is one over the live replicas).

The clock and the sleep are injectable, so a test can run a long paced sync in virtual
time against a sandbox that reads the same clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

SHARE = 0.9
"""The part of each published limit ghostwatch aims at (see the module's reasons)."""
SMALLEST = 0.05
"""The budget never shrinks below this part of the limit: a trickle still makes progress."""


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` units in any `seconds`."""

    limit: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Spent:
    """What a budget has seen, for logs, metrics and benchmarks."""

    units: int
    throttled: int
    """Rate-limit refusals the provider answered."""
    waited: float
    """Seconds callers spent waiting for room (pacing and refusals)."""


class _Log:
    """One window's spending: (when, units), oldest first, and their running total."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.entries: deque[tuple[float, int]] = deque()
        self.total = 0

    def prune(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.window.seconds:
            self.total -= self.entries.popleft()[1]

    def wait_for(self, units: int, scale: float, now: float) -> float:
        """Seconds until `units` more fit (0: now). A draw bigger than the whole window
        waits for an empty window, then goes alone, or it could never go at all."""
        room = max(1.0, self.window.limit * scale)
        if self.total + units <= room or not self.entries:
            return 0.0
        spent = self.total
        for when, amount in self.entries:
            spent -= amount
            if spent + units <= room:
                return max(0.0, when + self.window.seconds - now)
        return max(0.0, self.entries[-1][0] + self.window.seconds - now)

    def add(self, units: int, now: float) -> None:
        self.entries.append((now, units))
        self.total += units


class Budget:
    """A quota budget (see the module's docstring); thread-safe."""

    def __init__(
        self,
        name: str,
        windows: Sequence[Window],
        *,
        concurrency: int | None = None,
        share: float = SHARE,
        parents: Sequence[Budget] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.concurrency = concurrency
        self.share = share
        self.parents = tuple(parents)
        self.clock = clock
        self.sleep = sleep
        self._logs = [_Log(w) for w in windows]
        self._scale = 1.0  # AIMD: what refusals left of this process's part
        self._part = 1.0  # this process's part of the limit (`resize`)
        self._held_until = 0.0
        self._busy = 0
        self._lock = threading.Condition()
        self._units = self._throttled = 0
        self._waited = 0.0

    # --- drawing -------------------------------------------------------------------------

    @contextmanager
    def draw(self, units: int, slots: int = 1) -> Iterator[None]:
        """Wait until `units` fit this budget and its parents, spend them, and hold
        `slots` concurrent slots until the block ends (the request's lifetime)."""
        for budget in (*self.parents, self):
            budget.reserve(units)
        taken = self._take_slots(slots)
        try:
            yield
        finally:
            self._give_slots(taken)

    def reserve(self, units: int) -> None:
        """Spend `units`, after waiting for room."""
        while True:
            with self._lock:
                now = self.clock()
                wait = self._wait_for(units, now)
                if wait <= 0:
                    for entry in self._logs:
                        entry.add(units, now)
                    self._units += units
                    self._regrow(units)
                    return
                self._waited += wait
            self.sleep(wait)

    def _wait_for(self, units: int, now: float) -> float:
        held = max(0.0, self._held_until - now)
        scale = self._aim()
        for entry in self._logs:
            entry.prune(now)
        return max([held, *(entry.wait_for(units, scale, now) for entry in self._logs)])

    def _aim(self) -> float:
        """The part of each window's limit aimed at now (the caller holds the lock)."""
        return self.share * self._part * self._scale

    def _regrow(self, units: int) -> None:
        """Additive increase: a full window's worth spent without refusal restores it, a
        window of this process's part (a replica at a tenth of the project regrows in one
        of its windows, as a whole one does, not in ten)."""
        if self._scale < 1.0 and self._logs:
            limit = min(entry.window.limit for entry in self._logs) * self._part
            self._scale = min(1.0, self._scale + units / limit)

    def _take_slots(self, wanted: int) -> int:
        if self.concurrency is None:
            return 0
        slots = max(1, min(wanted, self.concurrency))
        with self._lock:
            while self._busy + slots > self.concurrency:
                self._lock.wait()
            self._busy += slots
        return slots

    def _give_slots(self, slots: int) -> None:
        if slots:
            with self._lock:
                self._busy -= slots
                self._lock.notify_all()

    # --- refusals ------------------------------------------------------------------------

    def refused(self, retry_after: float) -> None:
        """The provider refused a call for rate: shrink, and hold every caller until the
        wait it asked for is over (at least one second: it gave none, or zero)."""
        with self._lock:
            now = self.clock()
            self._throttled += 1
            self._scale = max(SMALLEST, self._scale / 2)
            self._held_until = max(self._held_until, now + max(1.0, retry_after))
            scale = self._scale
        log.info("quota_refused", budget=self.name, retry_after=retry_after, share=scale)

    def room(self) -> int:
        """The most units one draw should take: the smallest window at the current
        scale (a batch bigger than that would be refused in part however it waits)."""
        with self._lock:
            scale = self._aim()
            sizes = [int(entry.window.limit * scale) for entry in self._logs]
        mine = max(1, min(sizes, default=1 << 30))
        return min([mine, *(parent.room() for parent in self.parents)])

    # --- sharing the limit among replicas -------------------------------------------------

    def share_with(self, replicas: int) -> None:
        """Aim at one `replicas`-th of the limit: `replicas` processes each hold a copy
        of this budget (a Gmail project's, shared by every replica)."""
        self.resize(1.0 / max(1, replicas))

    def resize(self, part: float) -> None:
        """Aim at `part` (0 < part ≤ 1) of every window from the next draw on.

        Why one over the live replicas: Google counts a project's units across every
        process of the project, and each replica holds its own budget. The leases give a
        replica at most ceil(accounts / live replicas) accounts (store/leases.py), so its
        demand is about 1/N of the whole, and N budgets of 1/N together aim at the limit.
        The count errs low: a replica killed is counted until its lease runs out (it then
        spends nothing), and the others count one that joins at their next round, a
        lease before they hand it any of theirs (service/leasing.py). A process that
        knows no count (SQLite, one process, a lease round that failed) keeps what it
        had, the whole limit at first. Units already in a window stay (the provider still
        counts them), so a shrunk budget waits for them to age out; refusals halve and
        regrow within the part (`refused`, `_regrow`)."""
        if not 0.0 < part <= 1.0:
            raise ValueError(f"a budget's part must be in (0, 1], not {part}")
        with self._lock:
            before, self._part = self._part, part
        if before != part:
            log.info("budget_resized", budget=self.name, part=round(part, 4))

    @property
    def spent(self) -> Spent:
        with self._lock:
            return Spent(self._units, self._throttled, round(self._waited, 3))


def gmail_user(
    name: str,
    parents: Sequence[Budget] = (),
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Budget:
    """Gmail's per-user limit: 15,000 units a minute (docs/providers.md, Quota), also
    as 2,500 in any 10 seconds, so a minute's budget is not spent in its first second
    (Gmail's older table said 250 a second, as a moving average)."""
    windows = (Window(15_000, 60.0), Window(2_500, 10.0))
    return Budget(name, windows, parents=parents, clock=clock, sleep=sleep)


def gmail_project(
    *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> Budget:
    """Gmail's per-project limit, shared by every account of the process: 1,200,000
    units a minute."""
    return Budget("gmail-project", (Window(1_200_000, 60.0),), clock=clock, sleep=sleep)


def graph_mailbox(
    name: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Budget:
    """Outlook's per-app, per-mailbox limits (docs/providers.md, Throttling): 10,000
    requests in 10 minutes, and 4 at once."""
    windows = (Window(10_000, 600.0),)
    return Budget(name, windows, concurrency=4, clock=clock, sleep=sleep)
