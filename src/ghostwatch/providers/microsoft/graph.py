"""Microsoft Graph v1.0 over httpx: requests, JSON batches, and errors at the edge.

The Outlook provider's one door to Graph. A bearer token comes from a callable (helper
"auth" owns msal; this module never sees a refresh token), every request prefers
immutable ids (https://learn.microsoft.com/en-us/graph/outlook-immutable-id), and
every error becomes an `OutlookError` here, with Graph's own code and message
(https://learn.microsoft.com/en-us/graph/errors). `batch` sends up to 20 requests per
HTTP request (https://learn.microsoft.com/en-us/graph/json-batching) and gives the
answers back by id, since Graph may answer them in any order.

Every request draws from the mailbox's quota budget when given one (`budget.py`): one
unit a request, and a batch as many as it holds, since Outlook counts each request
inside a batch against the mailbox's 10,000 in 10 minutes; a batch also holds up to
four of the mailbox's four concurrent slots, as Graph dispatches four of its parts at
once (docs/providers.md, Throttling). Retries follow the shared policy (`retry.py`):
429 and 5xx answers and broken transfers are retried after what `Retry-After` says. A
batch resends only its parts that were refused: a read throttled or failed on the server
side (reads repeat harmlessly), a write only when Graph refused it before acting (429).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ghostwatch.errors import CursorExpired, ProviderError
from ghostwatch.providers.budget import Budget
from ghostwatch.providers.retry import Retry, RetryPolicy, advice_for_status, retry_after

GRAPH_URL = "https://graph.microsoft.com/v1.0"
BATCH_LIMIT = 20
IMMUTABLE_IDS = 'IdType="ImmutableId"'
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_POLICY = RetryPolicy()
_READS = frozenset({"GET"})


class OutlookError(ProviderError):
    """Graph answered with an error ghostwatch cannot work around."""

    def __init__(
        self, message: str, status: int | None = None, code: str = "", wait: float = 0.0
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.wait = wait
        """Seconds Graph asked to wait (Retry-After), 0 when it did not say."""


class GraphUnreachable(OutlookError):
    """A transport failure (no answer, or one cut short): the request may or may not
    have been carried out."""


def graph_advice(error: BaseException) -> Retry | None:
    """The retry policy's reading of an `OutlookError`."""
    if isinstance(error, GraphUnreachable):
        return Retry()
    if isinstance(error, OutlookError) and error.status is not None:
        return advice_for_status(error.status, error.wait)
    return None


@dataclass(frozen=True, slots=True)
class Part:
    """One request of a JSON batch; `url` relative to the version root."""

    id: str
    url: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        headers = dict(self.headers)
        # Preferences go in one header, comma-separated (RFC 7240 §2).
        headers["Prefer"] = ", ".join(filter(None, [IMMUTABLE_IDS, headers.get("Prefer")]))
        found: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        if self.body is not None:
            found["body"] = self.body
            headers["Content-Type"] = "application/json"
        found["headers"] = headers
        return found


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    def content(self) -> bytes:
        """A non-JSON body, by its own Content-Type. Graph base64-encodes one inside a
        batch (community-observed; the json-batching page shows only JSON), while OData
        JSON Format v4.01 §19.2 lets a text/* body travel as a plain string and any other
        as base64url. A plain string of MIME always holds ':' and spaces, which no base64
        text does, so a text/* body that is not strict base64 is the text itself."""
        if not isinstance(self.body, str):
            return b""
        kind = {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")
        if kind.lower().startswith("text/"):
            try:
                return base64.b64decode(self.body, validate=True)
            except ValueError:
                return self.body.encode("utf-8")
        padded = self.body + "=" * (-len(self.body) % 4)
        return base64.b64decode(padded, altchars=b"-_") if "-" in padded or "_" in padded \
            else base64.b64decode(padded)  # fmt: skip


def error_of(
    status: int, body: Any, what: str, headers: dict[str, str] | None = None
) -> ProviderError:
    """Graph's `{"error": {"code", "message"}}` as an `OutlookError`, or `CursorExpired`
    for an expired delta link (`expired`)."""
    code, message = _detail(body)
    text = f"Microsoft Graph answered {status} {code or ''} to {what}: {message}".rstrip(": ")
    if expired(status, body):
        return CursorExpired(text)
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return OutlookError(text, status, code, retry_after(lowered.get("retry-after"), _now))


def _detail(body: Any) -> tuple[str, str]:
    detail = body.get("error", {}) if isinstance(body, dict) else {}
    if not isinstance(detail, dict):
        return "", ""
    return str(detail.get("code", "")), str(detail.get("message", ""))


_EXPIRED = re.compile(r"^(syncstate|resync)", re.IGNORECASE)


def expired(status: int, body: Any) -> bool:
    """A delta link Graph no longer honours: 410, or any 4xx whose code starts
    `syncState…` / `resync…` in any case. delta-query-overview: "a 40X-series error with
    error codes such as `syncStateNotFound`" — a 404 among them, so this is asked before
    a 404 is read as a folder that vanished."""
    code, _ = _detail(body)
    return status == 410 or (400 <= status < 500 and bool(_EXPIRED.match(code)))


def _now() -> datetime:
    return datetime.now(UTC)


class GraphClient:
    """One mailbox on Graph: `/me` (delegated token) or `/users/{id}` (app-only)."""

    def __init__(
        self,
        token: Callable[[], str],
        user: str | None = None,
        base_url: str = GRAPH_URL,
        http: httpx.Client | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        budget: Budget | None = None,
    ) -> None:
        self.token = token
        self.retry = retry
        self.budget = budget
        """The mailbox's quota budget every request draws from (None: unpaced)."""
        self.base_url = base_url.rstrip("/")
        self.mailbox = f"/users/{user}" if user else "/me"
        self.http = http or httpx.Client(timeout=TIMEOUT)

    def close(self) -> None:
        self.http.close()

    def relative(self, url: str) -> str:
        """A link Graph gave (absolute) as a path under the version root."""
        if url.startswith(self.base_url):
            return url[len(self.base_url) :]
        _, _, rest = url.partition("/v1.0")
        return rest or url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """One call under the retry policy; an error raises `OutlookError`. Reads are
        retried on any server failure, writes only when refused before acting, unless
        the caller knows doing it twice is the same as once (`idempotent`)."""
        run = functools.partial(self._once, method, path, params, json)
        again = method in _READS if idempotent is None else idempotent
        return self.retry.call(run, graph_advice, idempotent=again, budget=self.budget)

    def _once(self, method: str, path: str, params: dict[str, str] | None, json: Any) -> Answer:
        headers = {"Authorization": f"Bearer {self.token()}", "Prefer": IMMUTABLE_IDS}
        url = f"{self.base_url}{self.relative(path)}"
        try:
            response = self.http.request(method, url, params=params, json=json, headers=headers)
        except httpx.HTTPError as error:
            text = f"Microsoft Graph unreachable ({type(error).__name__})"
            raise GraphUnreachable(text) from error
        return self._answer(response, f"{method} {path.split('?')[0]}")

    def _answer(self, response: httpx.Response, what: str) -> Answer:
        kind = response.headers.get("content-type", "")
        try:
            body: Any = response.json() if kind.startswith("application/json") else None
        except ValueError as error:
            # A body cut short on the way (a proxy, a reset) is a transfer that failed:
            # a read is tried again, a write is left to the cycle's ledger.
            raise GraphUnreachable(f"Microsoft Graph sent a broken answer to {what}") from error
        if response.status_code >= 400:
            raise error_of(response.status_code, body, what, dict(response.headers))
        if body is None:
            body = base64.b64encode(response.content).decode("ascii")
        return Answer(response.status_code, body, dict(response.headers))

    def batch(self, requests: Iterable[Part]) -> dict[str, Answer]:
        """Every part answered, by id, in as few HTTP requests as the limit of 20 allows."""
        parts = list(requests)
        answers: dict[str, Answer] = {}
        for chunk in _chunks(parts, BATCH_LIMIT):
            answers.update(self._chunk(chunk))
        missing = [p.id for p in parts if p.id not in answers]
        if missing:
            raise OutlookError(f"Microsoft Graph left {len(missing)} batched requests unanswered")
        return answers

    def _chunk(self, chunk: list[Part]) -> dict[str, Answer]:
        """One batch under the retry policy. A retry resends only the parts that were
        refused (json-batching: each request in a batch is evaluated, and throttled,
        on its own); the others keep their answers, so a 429 on one part never makes
        Graph do the other nineteen again."""
        reads = all(p.method in _READS for p in chunk)
        done: dict[str, Answer] = {}

        def left() -> int:
            return max(1, len(chunk) - len(done))

        run = functools.partial(self._batch_once, chunk, reads, done)
        return self.retry.call(
            run, graph_advice, idempotent=reads, budget=self.budget, units=left, slots=left
        )

    def _batch_once(
        self, chunk: list[Part], reads: bool, done: dict[str, Answer]
    ) -> dict[str, Answer]:
        pending = [p for p in chunk if p.id not in done]
        found = self._once("POST", "/$batch", None, {"requests": [p.payload() for p in pending]})
        refused: OutlookError | None = None
        for item in found.json().get("responses", []):
            answer = Answer(int(item["status"]), item.get("body"), dict(item.get("headers") or {}))
            error = _retryable(str(item["id"]), answer, reads)
            if error is None:
                done[str(item["id"])] = answer
            else:
                refused = _longer(refused, error)
        if refused is not None:
            raise refused
        return done


def _retryable(part_id: str, answer: Answer, reads: bool) -> OutlookError | None:
    """A part to send again: throttled, or (a read) failed on Graph's side; a write only
    when Graph refused it before acting (429), as a single write is retried."""
    if answer.status < 400:
        return None
    error = error_of(answer.status, answer.body, f"batched request {part_id}", answer.headers)
    advice = graph_advice(error)
    if not isinstance(error, OutlookError) or advice is None or not (reads or advice.certain):
        return None
    return error


def _longer(first: OutlookError | None, second: OutlookError) -> OutlookError:
    """Of two refusals, the one that asks to wait longer (Retry-After is per part)."""
    return second if first is None or second.wait > first.wait else first


def _chunks(items: list[Part], size: int) -> Iterator[list[Part]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def checked(answer: Answer, what: str) -> Answer:
    """A batch part's answer, or its error raised as `OutlookError`."""
    if not answer.ok():
        raise error_of(answer.status, answer.body, what)
    return answer
