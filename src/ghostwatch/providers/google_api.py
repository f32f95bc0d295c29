"""Google API clients from the discovery documents bundled with google-api-python-client.

`static_discovery=True` never fetches a document over the network; `api_endpoint`
points a client at Google or at the local sandbox (API-NOTES.md: Gmail and Meet take the
bare root, Calendar needs `URL/calendar/v3/`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ghostwatch.errors import GhostwatchError
from ghostwatch.providers.retry import Retry, RetryPolicy, advice_for_status, retry_after

DEFAULT_POLICY = RetryPolicy()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def google_service(
    name: str, version: str, api_endpoint: str, credentials: Any, **options: Any
) -> Any:
    """`options` go to `build` as they are (the service passes `requestBuilder` to meter
    API calls for /metrics)."""
    return build(
        name,
        version,
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": api_endpoint},
        cache_discovery=False,
        **options,
    )


class GoogleApiError(GhostwatchError):
    """A Google API answered with an error ghostwatch cannot work around."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(Exception):
    """A 200 whose JSON body did not parse (a cut transfer through a proxy, say)."""


def _checked(answer: Any) -> Any:
    # google-api-python-client hands back the undecodable text instead of raising
    # (tests/test_sandbox_gmail.py shows it): a str where an object was due is a failure.
    if isinstance(answer, str):
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
    """`errors[0].reason` of Google's error body (API-NOTES.md), or ''."""
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
) -> Any:
    """Run a request under the retry policy; failures become `error` at this edge."""
    try:
        return policy.call(
            lambda: _checked(request.execute()), google_advice, idempotent=idempotent
        )
    except HttpError as failed:
        status = failed.resp.status
        raise error(f"Google answered {status}: {failed.reason}", status) from failed
    except (OSError, HTTPException, MalformedAnswer) as failed:
        raise error(f"could not reach Google: {type(failed).__name__}: {failed}") from failed
