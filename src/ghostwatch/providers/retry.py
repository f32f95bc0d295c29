"""One retry policy for every provider: backoff with full jitter that honours Retry-After.

Gmail's client retries with `random() * 2**n` sleeps and ignores Retry-After
(docs/providers.md); Graph asks clients to wait exactly what Retry-After says
(https://learn.microsoft.com/graph/throttling). So providers call `policy.call(...)`
instead of the clients' own retry loops, each passing an `Advice` function that reads
its library's exception: `None` means "do not retry", a `Retry` says how long the
server asked us to wait (0 when it did not say).

Writes are the dangerous case. A request rejected for rate (429, a rate-limit 403) was
never carried out, so retrying it cannot duplicate anything; a 5xx or a dropped
connection may have happened *after* the server acted. `Retry.certain` marks the first
kind, and `call(..., idempotent=False)` retries only those — a lost draft create is left
to the cycle's ledger, which asks the mailbox before making it again.

Rate limits are not failures. A refusal for rate says the provider is up and the call
is fine, only early: it is retried for as long as the provider keeps answering, and
never counts against `attempts` (which are for the server's own failures: 5xx, a
dropped connection). What bounds it is time: a single wait longer than `longest_wait`
(Gmail's daily limit answers in hours) or `patience` spent waiting in one call ends the
call with `TooLongToWait`, the cycle stops cleanly, and the next one carries on from
where it stopped. With a `Budget` (budget.py), each attempt first draws its cost, and a
refusal shrinks the budget, so every other call of that user slows down too instead of
running into the same wall.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import structlog
import tenacity

from ghostwatch.errors import ProviderError
from ghostwatch.providers.budget import Budget

log = structlog.get_logger(__name__)
T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Gmail's rate-limit 403s (docs/providers.md); other 403s are permission errors, never retried.
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded"})


@dataclass(frozen=True, slots=True)
class Retry:
    """The server's advice for one failure."""

    after: float = 0.0
    """Seconds the server asked for (Retry-After), 0 when it gave none."""
    certain: bool = False
    """The request was refused before it was carried out (rate limiting)."""


Advice = Callable[[BaseException], Retry | None]


def retry_after(value: str | None, now: Callable[[], datetime]) -> float:
    """Seconds from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return 0.0
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 0.0
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return max(0.0, (aware - now()).total_seconds())


def advice_for_status(status: int, retry_after_seconds: float, reason: str = "") -> Retry | None:
    """The shared reading of an HTTP failure (provider adapters extract the fields)."""
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        return Retry(retry_after_seconds, certain=True)
    if status in RETRYABLE_STATUS:
        return Retry(retry_after_seconds)
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait; `sleep` and `now` are injectable for tests."""

    attempts: int = 5
    base: float = 1.0
    """The first backoff step in seconds (then doubled, capped at `cap`)."""
    cap: float = 60.0
    longest_wait: float = 300.0
    """A Retry-After longer than this is not waited out: the call fails, the cycle
    ends cleanly and the next poll tries again."""
    patience: float = 1800.0
    """Seconds one call may spend waiting out rate-limit refusals before it ends (the
    cycle then stops cleanly and the next one carries on)."""
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def call(
        self,
        run: Callable[[], T],
        advice: Advice,
        *,
        idempotent: bool = True,
        budget: Budget | None = None,
        units: int | Callable[[], int] = 1,
        slots: int | Callable[[], int] = 1,
    ) -> T:
        """`run()`, retried while `advice` says so; the last error is re-raised as is.
        With a `budget`, each attempt first draws `units` (and `slots`) from it — counted
        anew before each attempt when given as callables (a batch resends only the parts
        still unanswered)."""
        tally = _Tally()

        def retryable(error: BaseException) -> bool:
            found = advice(error)
            return found is not None and (idempotent or found.certain)

        def attempt() -> T:
            if budget is None:
                return run()
            with budget.draw(_count(units), _count(slots)):
                return run()

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(retryable),
            wait=self._wait(advice, tally, budget),
            stop=self._stop(advice, tally),
            sleep=self.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(attempt)

    def pause(self, attempt: int, asked: float) -> None:
        """Wait before retry number `attempt + 1` of work that is not one call (the
        failed parts of a batch): what the server asked, or jittered backoff."""
        if asked > self.longest_wait:
            raise TooLongToWait(asked)
        step = min(self.cap, self.base * 2**attempt)
        # Jitter spreads retries out; it guards nothing, so a non-cryptographic PRNG is right.
        self.sleep(max(asked, random.uniform(0, step)))  # nosec B311

    def refused(self, waited: float, asked: float) -> None:
        """Before waiting out another refusal for rate, having waited `waited` seconds
        for earlier ones: `TooLongToWait` once patience is spent."""
        if waited + asked > self.patience:
            raise TooLongToWait(waited + asked)

    def _stop(self, advice: Advice, tally: _Tally) -> Callable[[tenacity.RetryCallState], bool]:
        def stop(state: tenacity.RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome is not None else None
            found = advice(error) if error is not None else None
            if found is not None and found.certain:
                return tally.waited >= self.patience  # rate: patience, never attempts
            tally.failures += 1
            return tally.failures >= self.attempts

        return stop

    def _wait(
        self, advice: Advice, tally: _Tally, budget: Budget | None
    ) -> Callable[[tenacity.RetryCallState], float]:
        jitter = tenacity.wait_random_exponential(multiplier=self.base, max=self.cap)

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            found = advice(error) if error is not None else None
            asked = found.after if found is not None else 0.0
            if asked > self.longest_wait:
                raise TooLongToWait(asked) from error
            # Never earlier than the server asked; jitter spreads replicas apart.
            pause = max(asked, jitter(state))
            if found is not None and found.certain:
                self.refused(tally.waited, pause)
                tally.waited += pause
                if budget is not None:
                    budget.refused(asked)
            return pause

        return wait


def _count(value: int | Callable[[], int]) -> int:
    return value() if callable(value) else value


@dataclass(slots=True)
class _Tally:
    """One call's count of failures (rate refusals apart) and seconds waited on refusals."""

    failures: int = 0
    waited: float = 0.0


class TooLongToWait(ProviderError):
    """The server asked for a wait longer than `RetryPolicy.longest_wait`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the server asked to wait {seconds:.0f} s; trying again next cycle")
        self.seconds = seconds


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info(
        "provider_retry",
        attempt=state.attempt_number,
        wait_seconds=round(wait, 2),
        error=type(error).__name__,
    )


NO_RETRY = RetryPolicy(attempts=1, patience=0.0)
