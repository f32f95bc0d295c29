"""Microsoft Graph's error body and the errors the Graph emulator answers with.

Graph answers every error as `{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}`
(https://learn.microsoft.com/en-us/graph/errors). `GraphError` is an `ApiError` so the
shared server (`sandbox/server.py`) and fault plumbing carry it unchanged; only its
body differs from Google's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ghostwatch_sandbox.server import ApiError, Request, Response


class GraphError(ApiError):
    """An error answered with Graph's JSON error body."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, message, code, headers=headers)

    def body(self) -> dict[str, Any]:
        inner = {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": str(uuid.uuid4()),
            "client-request-id": str(uuid.uuid4()),
        }
        return {"error": {"code": self.reason, "message": self.message, "innerError": inner}}


def graph_error(error: ApiError) -> GraphError:
    """Any emulator error in Graph's shape (a shared helper may raise Google's)."""
    if isinstance(error, GraphError):
        return error
    return GraphError(error.code, error.reason, error.message, error.headers)


def not_found(what: str = "The specified object was not found in the store.") -> GraphError:
    return GraphError(404, "ErrorItemNotFound", what)


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def throttled(retry_after: int, code: str = "ApplicationThrottled") -> GraphError:
    """429 with Retry-After, as Outlook's per-mailbox limits answer
    (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits)."""
    message = "Application is over its MailboxConcurrency limit."
    return GraphError(429, code, message, {"Retry-After": str(retry_after)})


def unauthorized(message: str = "Access token is empty.") -> GraphError:
    headers = {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}
    return GraphError(401, "InvalidAuthenticationToken", message, headers)


def refused_send() -> GraphError:
    """The sandbox never sends: any send endpoint answers this and is logged."""
    return GraphError(403, "ErrorAccessDenied", "The ghostwatch sandbox never sends mail.")


def json_body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        value = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("Unable to read JSON request payload.", "BadRequest") from None
    if not isinstance(value, dict):
        raise bad_request("Unable to read JSON request payload.", "BadRequest")
    return value


def answer(status: int, value: object, headers: Mapping[str, str] | None = None) -> Response:
    """A Graph JSON answer (`application/json` with OData metadata minimal)."""
    response = Response.json(status, value, headers)
    response.headers["Content-Type"] = "application/json; odata.metadata=minimal; charset=utf-8"
    return response
