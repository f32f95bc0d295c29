"""A small threaded HTTP server and the request/response values the emulators share.

Every emulator is put on the network the same way: `hosted` (served on 127.0.0.1, its
`url` set) and, for the mail sandboxes, `seeded_and_hosted` (a Maildir loaded first).

Stdlib only (`http.server.ThreadingHTTPServer`), HTTP/1.1 with keep-alive so that
httplib2 (under google-api-python-client) reuses its connection as it does against
Google. Error bodies follow Google's JSON error format
(https://cloud.google.com/apis/design/errors#http_mapping):
`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

# google.rpc.Code names for the HTTP statuses the emulators answer with.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Request:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        lower = {name.lower(): value for name, value in headers.items()}
        return cls(method.upper(), parts.path, query, lower, body)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        """A repeated parameter (`labelIds=A&labelIds=B`), also comma-joined values."""
        return [v for value in self.query.get(name, []) for v in value.split(",") if v]

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() == "true"

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(400, f"Invalid JSON payload received. {error}", "parseError") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid JSON payload received.", "parseError")
        return value


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    mangle: str | None = None
    """A transport fault to apply when sending: 'drop' or 'truncate' (see faults.py)."""

    @classmethod
    def json(cls, status: int, value: object, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(value, indent=1).encode()
        all_headers = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        return cls(status, body, all_headers)

    @classmethod
    def empty(cls) -> Response:
        # DELETE answers 204 with no body (e.g. drafts.delete).
        return cls(204)


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        domain: str = "global",
        headers: Mapping[str, str] | None = None,
        **extra: str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        detail = {"message": self.message, "domain": self.domain, "reason": self.reason}
        detail.update(self.extra)
        status = STATUS_NAMES.get(self.code, "UNKNOWN")
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [detail],
                "status": status,
            }
        }

    def response(self) -> Response:
        return Response.json(self.code, self.body(), self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "notFound")


def bad_request(message: str, reason: str = "invalidArgument") -> ApiError:
    return ApiError(400, message, reason)


class App(Protocol):
    def handle(self, request: Request) -> Response: ...


class Hosted(App, Protocol):
    url: str
    """Where it is served (`http://127.0.0.1:PORT`), set once the server is bound."""


class Seedable(Hosted, Protocol):
    def seed(self, root: Path) -> int:
        """Load a Maildir (and its calendar.ics); how many messages."""
        ...


H = TypeVar("H", bound=Hosted)
S = TypeVar("S", bound=Seedable)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: App

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is routine for an
        emulator that crash tests kill clients of; anything else is still printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux) on every keep-alive
    # request. TCP_NODELAY (socketserver.StreamRequestHandler) sends both at once, as
    # Google's and Microsoft's front ends answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read the meter and the write log instead

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.build(self.command, self.path, dict(self.headers.items()), body)
        response = self.server.app.handle(request)
        if response.mangle == "drop":
            self.close_connection = True  # close the socket without a byte of response
            return
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): nothing to do

    def _send(self, response: Response) -> None:
        body = response.body
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if response.mangle == "truncate":
            # Promise the whole body, send half, hang up (an interrupted transfer).
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


@dataclass
class Running:
    """A server bound to 127.0.0.1 on an ephemeral port, serving in a thread."""

    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def serve(app: App, host: str = "127.0.0.1", port: int = 0) -> Iterator[Running]:
    server = _Server((host, port), _Handler)
    server.app = app
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="sandbox-http", daemon=True
    )
    thread.start()
    running = Running(server, thread)
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def hosted(app: H, port: int = 0) -> Iterator[H]:
    """`app` on 127.0.0.1 (`port`, or an ephemeral one) in a background thread until the
    block ends, with its `url` set to where. A port already taken raises OSError."""
    with serve(app, port=port) as running:
        app.url = running.url
        yield app


def seeded_and_hosted(sandbox: S, seed: Path | None, port: int = 0) -> AbstractContextManager[S]:
    """A mail sandbox loaded from the Maildir `seed` (when given) before it answers its
    first request, then hosted: what `GmailSandbox.serve` and `GraphSandbox.serve` do."""
    if seed is not None:
        sandbox.seed(seed)
    return hosted(sandbox, port)
