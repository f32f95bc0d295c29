"""Gmail quota units, the per-user moving window, concurrent slots, and the meter tests read.

Units per method are Gmail's published table
(https://developers.google.com/gmail/api/reference/quota): 15,000 units per user per
minute by default. Going over answers `userRateLimitExceeded` (usage limits,
https://developers.google.com/gmail/api/guides/handle-errors#resolve_a_403_error_user_rate_limit_exceeded).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ghostwatch_sandbox.server import ApiError


@dataclass
class Meter:
    """What the emulator served since the last `reset()`.

    `requests` counts HTTP requests to the API (a batch is one), `calls` API calls
    (each batch part is one), `units` the quota units charged for accepted calls.
    """

    requests: int = 0
    calls: int = 0
    units: int = 0
    rejected: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request(self) -> None:
        with self._lock:
            self.requests += 1

    def call(self, method: str) -> None:
        with self._lock:
            self.calls += 1
            self.methods[method] += 1

    def charge(self, cost: int) -> None:
        with self._lock:
            self.units += cost

    def reject(self) -> None:
        with self._lock:
            self.rejected += 1

    def reset(self) -> None:
        with self._lock:
            self.requests = self.calls = self.units = self.rejected = 0
            self.methods.clear()


@dataclass
class Quota:
    """A moving window of units per user: `limit` units in any `window` seconds."""

    limit: int = 15_000
    window: float = 60.0
    status: int = 429
    """Gmail answers either 429 or 403 for the per-user limit; tests choose."""
    clock: Callable[[], float] = time.monotonic
    _spent: dict[str, deque[tuple[float, int]]] = field(default_factory=dict, repr=False)
    _totals: dict[str, int] = field(default_factory=dict, repr=False)
    """Units in each user's window, kept as charges enter and leave it: summing the window
    on every call made a 100,000-call benchmark quadratic."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def used(self, user: str) -> int:
        with self._lock:
            return self._prune(user, self.clock())

    def _prune(self, user: str, now: float) -> int:
        spent = self._spent.setdefault(user, deque())
        total = self._totals.get(user, 0)
        while spent and spent[0][0] <= now - self.window:
            total -= spent.popleft()[1]
        self._totals[user] = total
        return total

    def charge(self, user: str, cost: int) -> None:
        """Record `cost` units for `user`, or raise the rate-limit error if over."""
        with self._lock:
            now = self.clock()
            used = self._prune(user, now)
            if used + cost > self.limit:
                oldest = self._spent[user][0][0] if self._spent[user] else now
                raise rate_limited(self.status, max(1, int(oldest + self.window - now) + 1))
            self._spent[user].append((now, cost))
            self._totals[user] = used + cost

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()
            self._totals.clear()


def rate_limited(status: int, retry_after: int) -> ApiError:
    """Google's per-user rate-limit error (403 or 429, reason userRateLimitExceeded)."""
    return ApiError(
        status,
        "User-rate limit exceeded.  Retry after the quota window has passed.",
        "userRateLimitExceeded",
        domain="usageLimits",
        headers={"Retry-After": str(retry_after)},
    )


class Slots:
    """At most `limit` requests of one mailbox at a time (Outlook's concurrency limit:
    https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self.peak = 0
        """The most slots ever held at once (tests read it)."""
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        """As many of `wanted` slots as are free (0: none, the request is refused)."""
        with self._lock:
            granted = max(0, min(wanted, self.limit - self.busy))
            self.busy += granted
            self.peak = max(self.peak, self.busy)
            return granted

    def give(self, slots: int) -> None:
        with self._lock:
            self.busy -= slots
