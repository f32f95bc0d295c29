"""A clock that only moves when someone sleeps: a paced sync of minutes runs in a blink.

Give `now` to a `Budget` and to a sandbox's `Quota` (and `sleep` to the budget and the
retry policy): the client waits in virtual seconds, the sandbox counts its window in the
same seconds, and the test reads how long the work "took" from `now()`.
"""

from __future__ import annotations

import threading


class VirtualTime:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self._now = start
        self.slept = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self.slept += max(0.0, seconds)
