"""Google API clients from the discovery documents bundled with google-api-python-client.

`static_discovery=True` never fetches a document over the network; `api_endpoint`
points a client at Google or at the local sandbox (docs/providers.md: Gmail and Meet take the
bare root, Calendar needs `URL/calendar/v3/`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

import httplib2
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ghostwatch.errors import ProviderError
from ghostwatch.providers.budget import Budget
from ghostwatch.providers.google.quota import request_units
from ghostwatch.providers.retry import Retry, RetryPolicy, advice_for_status, retry_after

DEFAULT_POLICY = RetryPolicy()
HTTP_TIMEOUT = 60.0
"""Seconds, as google-api-python-client's own default (DEFAULT_HTTP_TIMEOUT_SEC)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WritesOnce(httplib2.Http):  # type: ignore[misc]  # httplib2 is untyped
    """httplib2, except that a write is sent once.

    httplib2 sends a request again, POST included, when the connection drops before the
    answer's status line (it takes that for a stale keep-alive connection). Google may
    have carried the first one out: a draft made twice. Whether to try again is the
    retry policy's decision (reads, and writes refused for rate), not the transport's.
    """

    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> Any:
        if method not in _SAFE_METHODS:
            conn = _SendsOnce(conn)
        return super()._conn_request(conn, request_uri, method, body, headers)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _SendsOnce:
    """A connection that refuses to send its request a second time."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._sent = False

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self._sent:
            raise ConnectionAbortedError("the connection dropped after a write was sent")
        self._sent = True
        return self._connection.request(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def google_http(credentials: Any, timeout: float = HTTP_TIMEOUT) -> Any:
    """The authorized transport of every Google client: `WritesOnce`, as the client's own
    `build_http` sets it up (308 is not a redirect: Google uses it for uploads)."""
    http = WritesOnce(timeout=timeout)
    http.redirect_codes = http.redirect_codes - {308}
    return AuthorizedHttp(credentials, http=http) if credentials is not None else http


def google_service(
    name: str, version: str, api_endpoint: str, credentials: Any, **options: Any
) -> Any:
    """`options` go to `build` as they are (the service passes `requestBuilder` to meter
    API calls for /metrics). Built once per account and kept (service/runner.py), its
    nested resources built once too (`ResourceCache`)."""
    service = build(
        name,
        version,
        http=google_http(credentials),
        static_discovery=True,
        client_options={"api_endpoint": api_endpoint},
        cache_discovery=False,
        **options,
    )
    return ResourceCache(service)


class ResourceCache:
    """A discovery `Resource` whose nested resources are made once and kept.

    google-api-python-client makes a new `Resource` at every `service.users()` call,
    creating a closure for every method of the resource from the discovery document
    (`discovery.createMethod`, with its parameter tables): `users()` alone has dozens.
    Measured, that was a third of an idle Gmail cycle's CPU (docs/scaling.md). The
    resources hold no per-call state (a request object is made by each method call), so
    one of each serves every call; two threads racing to make one only make it twice."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource
        self._nested = frozenset(getattr(resource, "_resourceDesc", {}).get("resources", {}))
        self._made: dict[str, ResourceCache] = {}

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._resource, name)
        if name not in self._nested:
            return found
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = ResourceCache(found())
        return lambda: made


class GoogleApiError(ProviderError):
    """A Google API answered with an error ghostwatch cannot work around."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(Exception):
    """A 200 whose JSON body did not parse (a cut transfer through a proxy, say)."""


def _checked(answer: Any, empty: bool = False) -> Any:
    # google-api-python-client hands back the undecodable text instead of raising
    # (tests/test_sandbox_gmail.py shows it): a str where an object was due is a failure.
    # A method with no response body (drafts.delete: "the response body is empty") is
    # answered '' by the client, which is its success, not a cut transfer.
    if isinstance(answer, str) and not (empty and answer == ""):
        raise MalformedAnswer(f"not JSON: {answer[:40]!r}")
    return answer


def google_advice(error: BaseException, now: Callable[[], datetime] = _utcnow) -> Retry | None:
    """Whether a google-api-python-client failure is worth retrying, and after how long."""
    if isinstance(error, HttpError):
        wait = retry_after(error.resp.get("retry-after"), now)
        return advice_for_status(error.resp.status, wait, _reason(error))
    if isinstance(error, OSError | HTTPException | MalformedAnswer):
        return Retry()  # a dropped connection or a timeout: the call may or may not have run
    return None


def _reason(error: HttpError) -> str:
    """`errors[0].reason` of Google's error body (docs/providers.md), or ''."""
    try:
        body = json.loads(error.content)
        return str(body["error"]["errors"][0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def execute(
    request: Any,
    error: type[GoogleApiError],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    idempotent: bool = True,
    budget: Budget | None = None,
    units: int | None = None,
    empty: bool = False,
) -> Any:
    """Run a request under the retry policy; failures become `error` at this edge.
    With a `budget`, each attempt first draws the request's quota units (`units`, for
    a batch the sum of its parts'; else what its `methodId` costs). `empty`: the method
    answers no body (a delete), so '' is its success."""
    cost = units if units is not None else request_units(str(getattr(request, "methodId", "")))
    try:
        return policy.call(
            lambda: _checked(request.execute(), empty),
            google_advice,
            idempotent=idempotent,
            budget=budget,
            units=cost,
        )
    except HttpError as failed:
        status = failed.resp.status
        raise error(f"Google answered {status}: {failed.reason}", status) from failed
    except (OSError, HTTPException, MalformedAnswer) as failed:
        raise error(f"could not reach Google: {type(failed).__name__}: {failed}") from failed
