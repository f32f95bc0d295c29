"""Health and metrics on one small HTTP server: /healthz, /readyz, /metrics.

/healthz answers 200 while the process serves (liveness: restart me if not). /readyz
answers 200 only if the database answers and every enabled account was checked recently
without an error (readiness, Kubernetes probe semantics:
https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/).
/metrics is the Prometheus text exposition.

Whoever can reach the port can read these (in Kubernetes, every pod the NetworkPolicy
lets in), so /readyz says why it is not ready in counts only: how many accounts failed
and with which kind of error, how many are stale, whether the database answers. Which
account, and the database's own message, are in the log (`database_unreachable`,
`cycle_failed`) and in `ghostwatch accounts`. The server is http_server.py's: a bounded
pool, a share per client and deadlines, so no client can tie it up.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from ghostwatch.errors import StoreError, UserError
from ghostwatch.service.http_server import BoundedHTTPServer, TimeoutHandler
from ghostwatch.service.metrics import Metrics
from ghostwatch.store import Store

log = structlog.get_logger(__name__)


class Leases(Protocol):
    """What /readyz asks a replica's leaser (service/leasing.py)."""

    def ready(self) -> tuple[bool, dict[str, int]]: ...

    def held(self) -> list[str]: ...


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
        leases: Leases | None = None,
    ) -> None:
        self.accounts = {name: AccountHealth() for name in accounts}
        self.leases = leases
        """A replica on a shared database: it answers for the accounts it holds, and is
        ready only once it holds its fair share (or none is left to take)."""
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
        """(ready, the JSON body saying why, in counts: no account name, no database URL)."""
        now = self.clock()
        leased, lease_counts = True, None
        mine: set[str] | None = None
        if self.leases is not None:
            leased, lease_counts = self.leases.ready()
            mine = set(self.leases.held())
        with self._lock:
            states = [
                self._state(health, now)
                for name, health in self.accounts.items()
                if mine is None or name in mine
            ]
        database = self.database_error() is None
        counts = Counter(state for state, _ in states)
        failing = Counter(kind for state, kind in states if state == "failing")
        ready = database and leased and counts["ready"] == len(states)
        why = _why(database, counts, self.stale_after)
        body: dict[str, Any] = {
            "ready": ready,
            "database": database,
            "accounts": {"enabled": len(states), **{s: counts[s] for s in ACCOUNT_STATES}},
            "failing_by_kind": dict(sorted(failing.items())),
            "why": why,
        }
        if lease_counts is not None:
            body["leases"] = lease_counts
            if not leased:
                why.append(
                    f"holds {lease_counts['held']} leases of its share of "
                    f"{lease_counts['share']}, {lease_counts['free']} free"
                )
        return ready, body

    def _state(self, health: AccountHealth, now: datetime) -> tuple[str, str | None]:
        if health.checked_at is None:
            return "not_checked_yet", None
        if now - health.checked_at > self.stale_after:
            return "stale", None
        if health.error is not None:
            return "failing", health.error
        return "ready", None


ACCOUNT_STATES = ("ready", "failing", "stale", "not_checked_yet")


def _why(database: bool, counts: Counter[str], stale_after: timedelta) -> list[str]:
    """Each reason it is not ready, in words and counts."""
    total = sum(counts.values())
    minutes = int(stale_after.total_seconds() // 60)
    reasons = [] if database else ["the database does not answer"]
    said = {
        "failing": "failed at its last check",
        "stale": f"not checked in the last {minutes} minutes",
        "not_checked_yet": "not checked yet since the start",
    }
    for state, words in said.items():
        if counts[state]:
            reasons.append(f"{counts[state]} of {total} accounts {words}")
    return reasons


def database_probe(store: Store) -> Callable[[], str | None]:
    """A probe for /readyz: None when the database answers, else the store's one-line
    reason, which is logged (the database without its password) and not served."""

    def ping() -> str | None:
        try:
            store.ping()
        except StoreError as error:
            log.warning("database_unreachable", error=str(error))
            return str(error)
        return None

    return ping


def _handler(state: HealthState, metrics: Metrics) -> type[TimeoutHandler]:
    class Handler(TimeoutHandler):
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

    return Handler


@contextmanager
def serve(host: str, port: int, state: HealthState, metrics: Metrics) -> Iterator[str]:
    """Serve in a background thread until the block ends; yields the base URL."""
    try:
        server = BoundedHTTPServer((host, port), _handler(state, metrics))
    except OSError as error:
        raise UserError(
            f"cannot serve health on {host}:{port}: {error.strerror}; "
            "set health.address (env GHOSTWATCH_HEALTH__ADDRESS) to a free port"
        ) from error
    # poll_interval: how often the deadlines are enforced (BoundedHTTPServer.service_actions).
    thread = threading.Thread(target=server.serve_forever, args=(0.5,), name="health", daemon=True)
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
