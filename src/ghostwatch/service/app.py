"""Putting the service together from `Settings`: the store (upgraded on start), the
provider registry metered for /metrics, the daemon, the health server, the signals.

`ghostwatch run` calls `run`; so does the demo, with the Gmail sandbox's credentials.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import datetime
from types import FrameType

import structlog

from ghostwatch.config import Settings
from ghostwatch.errors import UserError
from ghostwatch.service import health
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.metrics import Metrics
from ghostwatch.service.wiring import GoogleCredentials, default_registry, no_google_credentials
from ghostwatch.store import Store
from ghostwatch.store.store import utc_now

log = structlog.get_logger(__name__)


def open_store(settings: Settings) -> Store:
    """The configured database, migrated to this version's schema (safe on every start)."""
    if settings.database_url is None:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(
                f"cannot create data_dir {settings.data_dir}: {error.strerror}; "
                "set data_dir (env GHOSTWATCH_DATA_DIR) to a writable folder"
            ) from error
    store = Store.open(settings.database())
    try:
        store.upgrade()
    except Exception:
        store.close()
        raise
    return store


def build_daemon(
    settings: Settings,
    store: Store,
    google_credentials: GoogleCredentials = no_google_credentials,
    clock: Callable[[], datetime] = utc_now,
) -> Daemon:
    metrics = Metrics()
    registry = default_registry(google_credentials, requestBuilder=metrics.request_builder("gmail"))
    return Daemon(settings, store, registry.open, clock=clock, metrics=metrics)


def run_once(
    settings: Settings,
    google_credentials: GoogleCredentials = no_google_credentials,
    now: datetime | None = None,
) -> dict[str, CycleReport | None]:
    """Every enabled account once; None for an account whose cycle failed."""
    with open_store(settings) as store:
        clock = (lambda: now) if now is not None else utc_now
        return build_daemon(settings, store, google_credentials, clock).run_once()


def run_forever(
    settings: Settings, google_credentials: GoogleCredentials = no_google_credentials
) -> bool:
    """Until SIGTERM/SIGINT; True if every cycle in flight finished before exiting."""
    with open_store(settings) as store:
        daemon = build_daemon(settings, store, google_credentials)
        _on_signals(daemon.stop)
        if not settings.health.enabled:
            return daemon.serve()
        host, port = settings.health.host_port()
        with health.serve(host, port, daemon.health, daemon.metrics):
            return daemon.serve()


def _on_signals(stop: Callable[[], None]) -> None:
    def handle(number: int, frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(number).name)
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
