"""Faults that tests switch on: rate limits, server errors, slowness, broken transfers.

`sandbox.faults.add(kind, count=1, method=None)` arms `count` occurrences of a fault for
one API method name (`"messages.get"`) or for any call. Kinds:

* ``"429"`` — 429 RESOURCE_EXHAUSTED with `Retry-After` (rateLimitExceeded);
* ``"403"`` — 403 userRateLimitExceeded (usageLimits), the per-user limit;
* ``"500"``, ``"503"`` — Google's JSON backendError bodies; ``"502"`` — the HTML page
  Google's front end serves for a bad gateway;
* ``"slow"`` — sleep `delay` seconds, then answer normally;
* ``"drop"`` — close the connection without answering;
* ``"truncate"`` — promise the whole body (Content-Length), send half, hang up;
* ``"malformed"`` — a 200 whose JSON body is cut short.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from ghostwatch_sandbox.quota import rate_limited
from ghostwatch_sandbox.server import ApiError, Response

KINDS = frozenset({"429", "403", "500", "502", "503", "slow", "drop", "truncate", "malformed"})
_BAD_GATEWAY = (
    b"<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1"
    b"</title><p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a "
    b"temporary error and could not complete your request.<p>Please try again in 30 "
    b"seconds. <ins>That's all we know.</ins></html>"
)


@dataclass
class Fault:
    kind: str
    count: int
    method: str | None
    delay: float
    retry_after: int


@dataclass
class Noise:
    """Each call fails with probability `rate`, of a kind drawn from `kinds` (no "slow":
    soak tests run on a simulated clock, and a real sleep would stall them)."""

    rate: float
    rng: random.Random
    kinds: tuple[str, ...] = ("429", "500", "502", "503", "drop", "truncate", "malformed")
    injected: int = 0

    def draw(self, method: str) -> Fault | None:
        if self.rng.random() >= self.rate:  # nosec B311 (test noise, not secrecy)
            return None
        self.injected += 1
        return Fault(self.rng.choice(self.kinds), 1, method, 0.0, 1)  # nosec B311


@dataclass
class Faults:
    armed: list[Fault] = field(default_factory=list)
    fired: list[tuple[str, str]] = field(default_factory=list)
    """(kind, method) of every fault that fired, in order."""
    noise: Noise | None = None
    """Random faults on top of the armed ones (soak tests); None: only armed faults."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        *,
        delay: float = 0.5,
        retry_after: int = 1,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(KINDS)}")
        with self._lock:
            self.armed.append(Fault(kind, count, method, delay, retry_after))

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()
            self.fired.clear()

    def take(self, method: str, *, exact: bool = False) -> Fault | None:
        """The first armed fault for `method`, used up by one; `exact` skips faults armed
        for any call (an envelope such as a JSON batch is not a call of its own)."""
        wanted = (method,) if exact else (None, method)
        with self._lock:
            for fault in self.armed:
                if fault.method in wanted and fault.count > 0:
                    fault.count -= 1
                    self.fired.append((fault.kind, method))
                    if fault.count == 0:
                        self.armed.remove(fault)
                    return fault
            if self.noise is not None and not exact:
                found = self.noise.draw(method)
                if found is not None:
                    self.fired.append((found.kind, method))
                return found
        return None


def before(fault: Fault) -> None:
    """Faults that act before the call: an error answer, or a delay."""
    if fault.kind == "slow":
        time.sleep(fault.delay)
    elif fault.kind == "429":
        raise ApiError(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "rateLimitExceeded",
            headers={"Retry-After": str(fault.retry_after)},
        )
    elif fault.kind == "403":
        raise rate_limited(403, fault.retry_after)
    elif fault.kind == "500":
        raise ApiError(500, "Backend Error", "backendError")
    elif fault.kind == "503":
        raise ApiError(503, "The service is currently unavailable.", "backendError")


def after(fault: Fault, response: Response) -> Response:
    """Faults that act on the answer: a gateway page, a broken or cut transfer."""
    if fault.kind == "502":
        return Response(502, _BAD_GATEWAY, {"Content-Type": "text/html; charset=UTF-8"})
    if fault.kind in ("drop", "truncate"):
        response.mangle = fault.kind
    elif fault.kind == "malformed":
        response.body = response.body[: max(1, len(response.body) // 2)]
    return response
