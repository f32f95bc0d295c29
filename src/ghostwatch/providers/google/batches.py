"""Gmail calls in batches: up to BATCH_SIZE calls per HTTP request, paced, refused parts again.

Gmail charges each part of a batch as its own call (docs/providers.md, Batch), so a
batch saves round trips, not quota: each batch first draws the sum of its parts' units
from the user's budget (`providers/budget.py`). A part can fail alone inside a batch
that answered 200:

- refused for rate (429, a rate-limit 403): it was never carried out, so it is sent
  again, after the wait Gmail asked for, with the budget shrunk. This repeats for as
  long as Gmail keeps answering; what bounds it is the retry policy's patience, never a
  count (a big mailbox's first sync used to fail here after five rounds);
- failed on Gmail's side (5xx, a broken part): sent again, up to the policy's attempts;
- gone (404: deleted since it was listed): skipped;
- anything else raises, because a message silently missing could read as silence.

References: https://developers.google.com/gmail/api/guides/batch. The client's batch
path ignores `api_endpoint` (docs/providers.md), so the batch URI is passed explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ghostwatch.providers.budget import Budget
from ghostwatch.providers.google.api import GoogleApiError, MalformedAnswer, google_advice
from ghostwatch.providers.google.quota import request_units
from ghostwatch.providers.retry import RetryPolicy

BATCH_SIZE = 50
"""Parts per batch: Google's advice for Gmail (the hard limit is 100; bigger batches are
answered with more rate-limit refusals, https://developers.google.com/gmail/api/guides/batch)."""

Request = Callable[[str], Any]
"""id → the client's request for it (`messages.get`, `threads.get`, ...)."""
Execute = Callable[[Any, int], Any]
"""(a batch, its units) → run it under the retry policy and the budget."""


class Batches:
    """Runs one kind of call for many ids, BATCH_SIZE to an HTTP request."""

    def __init__(
        self,
        execute: Execute,
        retry: RetryPolicy,
        batch_uri: str | None,
        error: type[GoogleApiError],
        budget: Budget | None = None,
    ) -> None:
        self.execute = execute
        self.retry = retry
        self.batch_uri = batch_uri
        self.error = error
        self.budget = budget

    def run(self, ids: Sequence[str], request: Request) -> dict[str, Any]:
        """id → answer, for every id Gmail still has."""
        found: dict[str, Any] = {}
        pending, failures, waited = list(ids), 0, 0.0
        while pending:
            failed = self._round(pending, request, found)
            again = {i: e for i, e in failed.items() if google_advice(e) is not None}
            fatal = [e for i, e in failed.items() if i not in again and _status(e) != 404]
            if fatal:
                first = fatal[0]
                raise self.error(f"{len(fatal)} batched calls failed: {first}", _status(first))
            asked = max((self._asked(e) for e in again.values()), default=0.0)
            if again and all(_refused(e) for e in again.values()):
                waited = self._wait_out_refusal(waited, asked)
            elif again:
                failures += 1
                if failures >= self.retry.attempts:
                    raise self.error(f"{len(again)} batched calls still failing after retries")
                self.retry.pause(failures - 1, asked)
            pending = list(again)
        return found

    def _wait_out_refusal(self, waited: float, asked: float) -> float:
        """Rate, not failure: wait what Gmail asked (at least a second) and shrink the
        budget; `TooLongToWait` once the policy's patience is spent."""
        pause = max(1.0, asked)
        self.retry.refused(waited, pause)
        if self.budget is not None:
            self.budget.refused(asked)
        self.retry.pause(0, pause)
        return waited + pause

    def _asked(self, error: Exception) -> float:
        found = google_advice(error, self.retry.now)
        return found.after if found is not None else 0.0

    def _round(
        self, ids: Sequence[str], request: Request, found: dict[str, Any]
    ) -> dict[str, Exception]:
        failed: dict[str, Exception] = {}

        def keep(request_id: str, response: Any, error: Exception | None) -> None:
            if error is not None:
                failed[request_id] = error
            elif isinstance(response, str):
                # A part whose JSON did not parse comes back as text (as `execute` does).
                failed[request_id] = MalformedAnswer(f"not JSON: {response[:40]!r}")
            else:
                found[request_id] = response

        calls = [(i, request(i)) for i in ids]
        for chunk, units in self._chunks(calls):
            batch = BatchHttpRequest(callback=keep, batch_uri=self.batch_uri)
            for item_id, call in chunk:
                batch.add(call, request_id=item_id)
            self.execute(batch, units)
        return failed

    def _chunks(self, calls: list[tuple[str, Any]]) -> Iterator[tuple[list[tuple[str, Any]], int]]:
        """BATCH_SIZE calls a batch, fewer when their units would not fit the budget's
        room (a batch is charged whole: parts beyond the room would be refused)."""
        room = self.budget.room() if self.budget is not None else None
        chunk: list[tuple[str, Any]] = []
        units = 0
        for item in calls:
            cost = request_units(str(item[1].methodId))
            full = len(chunk) >= BATCH_SIZE or (room is not None and units + cost > room)
            if chunk and full:
                yield chunk, units
                chunk, units = [], 0
            chunk.append(item)
            units += cost
        if chunk:
            yield chunk, units


def _status(error: Exception) -> int:
    return int(error.resp.status) if isinstance(error, HttpError) else 0


def _refused(error: Exception) -> bool:
    found = google_advice(error)
    return found is not None and found.certain
