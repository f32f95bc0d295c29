"""Health and metrics on one small HTTP server: /healthz, /readyz, /metrics.

/healthz answers 200 while the process serves (liveness: restart me if not). /readyz
answers 200 only if the database answers and every enabled account was checked recently
without an error (readiness, Kubernetes probe semantics:
https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/).
/metrics is the Prometheus text exposition. Bodies name accounts, never addresses; a
database that does not answer is named by its URL without the password.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from ghostwatch.errors import StoreError, UserError
from ghostwatch.service.metrics import Metrics
from ghostwatch.store import Store

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class AccountHealth:
    checked_at: datetime | None = None
    """The last poll that ran a cycle or decided none was needed (outside hours)."""
    succeeded_at: datetime | None = None
    error: str | None = None
    """The kind of the last failure (None: the last check went well)."""


class HealthState:
    """What /readyz reports; written by the account runners, read by the server."""

    def __init__(
        self,
        accounts: list[str],
        stale_after: timedelta,
        clock: Callable[[], datetime],
        database_error: Callable[[], str | None],
    ) -> None:
        self.accounts = {name: AccountHealth() for name in accounts}
        self.stale_after = stale_after
        self.clock = clock
        self.database_error = database_error
        """None when the database answers, else why not, in one line (no password)."""
        self._lock = threading.Lock()

    def checked(self, account: str, at: datetime, error: str | None = None) -> None:
        with self._lock:
            health = self.accounts.setdefault(account, AccountHealth())
            health.checked_at, health.error = at, error
            if error is None:
                health.succeeded_at = at

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body saying why)."""
        now = self.clock()
        with self._lock:
            accounts = {name: self._account(h, now) for name, h in self.accounts.items()}
        failed = self.database_error()
        ready = failed is None and all(a["ready"] for a in accounts.values())
        body = {"ready": ready, "database": failed is None, "accounts": accounts}
        if failed is not None:
            body["database_error"] = failed
        return ready, body

    def _account(self, health: AccountHealth, now: datetime) -> dict[str, Any]:
        fresh = health.checked_at is not None and now - health.checked_at <= self.stale_after
        return {
            "ready": fresh and health.error is None,
            "checked_at": health.checked_at.isoformat() if health.checked_at else None,
            "succeeded_at": health.succeeded_at.isoformat() if health.succeeded_at else None,
            "error": health.error,
        }


def database_probe(store: Store) -> Callable[[], str | None]:
    """A probe for /readyz: None when the database answers, else the store's one-line
    reason. It names the database by its URL without the password, as the log does: the
    health server is for whoever runs the daemon (it listens on loopback by default)."""

    def ping() -> str | None:
        try:
            store.ping()
        except StoreError as error:
            log.warning("database_unreachable", error=str(error))
            return str(error)
        return None

    return ping


def _handler(state: HealthState, metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/healthz":
                self._send(200, "application/json", b'{"alive": true}')
            elif path == "/readyz":
                ready, body = state.report()
                self._send(200 if ready else 503, "application/json", json.dumps(body).encode())
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics.exposition())
            else:
                self._send(404, "application/json", b'{"error": "not found"}')

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds would drown the cycle lines

    return Handler


@contextmanager
def serve(host: str, port: int, state: HealthState, metrics: Metrics) -> Iterator[str]:
    """Serve in a background thread until the block ends; yields the base URL."""
    try:
        server = ThreadingHTTPServer((host, port), _handler(state, metrics))
    except OSError as error:
        raise UserError(
            f"cannot serve health on {host}:{port}: {error.strerror}; "
            "set health.address (env GHOSTWATCH_HEALTH__ADDRESS) to a free port"
        ) from error
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="health", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    log.info("health_serving", port=bound_port)
    try:
        yield f"http://{_url_host(str(bound_host))}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url_host(host: str) -> str:
    # A comparison that maps a bind-all address to loopback for the URL; it binds nothing.
    if host in ("0.0.0.0", ""):  # nosec B104
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
