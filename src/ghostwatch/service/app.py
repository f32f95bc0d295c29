"""Putting the service together from `Settings`: the store (upgraded on start), the
provider registry metered for /metrics, the daemon, the health server, the signals.

`ghostwatch run` calls `run`; so does the demo, with the Gmail sandbox's credentials.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import structlog

from ghostwatch import private
from ghostwatch.clock import utc_now
from ghostwatch.config import AccountConfig, Settings
from ghostwatch.errors import UserError
from ghostwatch.service import health
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.metrics import Metrics
from ghostwatch.service.runner import Progress
from ghostwatch.service.signins import (
    google_credentials_from,
    imap_passwords_from,
    microsoft_tokens_from,
)
from ghostwatch.service.wiring import (
    GoogleCredentials,
    ImapPasswords,
    MicrosoftTokens,
    default_registry,
    no_google_credentials,
    no_imap_password,
    no_microsoft_tokens,
)
from ghostwatch.store import Store
from ghostwatch.store.vault_rows import database_vault
from ghostwatch.vault.keys import SecretKey, resolve_key
from ghostwatch.vault.tokens import TokenVault, vault_in

log = structlog.get_logger(__name__)


def open_store(settings: Settings) -> Store:
    """The configured database, migrated to this version's schema (safe on every start)."""
    if settings.database_url is None:
        try:
            private.make_folder(settings.data_dir)  # 0700: the database and the vault
        except OSError as error:
            raise UserError(
                f"cannot create data_dir {settings.data_dir}: {error.strerror}; "
                "set data_dir (env GHOSTWATCH_DATA_DIR) to a writable folder"
            ) from error
    # Half a lease: a replica paused mid-transaction loses its locks before its leases
    # expire, so the others can take them on time (store/connect.py).
    store = Store.open(settings.database(), idle_limit=settings.replicas.lease_seconds / 2)
    try:
        store.upgrade()
    except Exception:
        store.close()
        raise
    return store


@dataclass(frozen=True, slots=True)
class SignIns:
    """How the daemon gets each account's credentials (default: the encrypted vault)."""

    google: GoogleCredentials = no_google_credentials
    microsoft: MicrosoftTokens = no_microsoft_tokens
    imap: ImapPasswords = no_imap_password


def vault_sign_ins(settings: Settings, store: Store | None = None) -> SignIns:
    """Credentials from the token vault `ghostwatch auth` fills (DATA_DIR/tokens, or the
    shared PostgreSQL `store`'s table), with the key from settings (GHOSTWATCH_SECRET_KEY
    or a mounted `ghostwatch_secret_key`). A missing key fails only the accounts that
    need one, saying how to make it."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None

    def vault() -> TokenVault:
        return vault_for(settings, resolve_key(secret, None), store)

    def google(account: AccountConfig) -> Any:
        return google_credentials_from(vault())(account)

    def microsoft(account: AccountConfig) -> Callable[[], str]:
        return microsoft_tokens_from(vault())(account)

    def imap(account: AccountConfig) -> str:
        return imap_passwords_from(vault())(account)

    return SignIns(google, microsoft, imap)


def settings_vault(settings: Settings, store: Store | None = None) -> TokenVault | None:
    """The vault, if the settings hold its key (None: no key configured)."""
    if settings.secret_key is None:
        return None
    key = resolve_key(settings.secret_key.get_secret_value(), None)
    return vault_for(settings, key, store)


def vault_for(settings: Settings, key: SecretKey, store: Store | None) -> TokenVault:
    """`vault: database` keeps it in the PostgreSQL database (replicas share no volume:
    migration 0008, `ghostwatch db import-vault`); `files` under DATA_DIR/tokens."""
    if settings.vault == "database":
        if store is None or not store.shared:
            raise UserError("vault: database needs the PostgreSQL database it is kept in")
        return database_vault(store.engine, settings.data_dir, key)
    return vault_in(settings.data_dir, key)


def build_daemon(
    settings: Settings,
    store: Store,
    sign_ins: SignIns | None = None,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress | None = None,
) -> Daemon:
    metrics = Metrics()
    signs = sign_ins or vault_sign_ins(settings, store)
    registry = default_registry(
        signs.google, signs.microsoft, signs.imap, clock=clock,
        requestBuilder=metrics.request_builder("gmail"),
    )  # fmt: skip
    return Daemon(
        settings,
        store,
        registry.open,
        clock=clock,
        metrics=metrics,
        progress=progress,
        shared_budgets=registry.shared,
    )


def run_once(
    settings: Settings,
    sign_ins: SignIns | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, CycleReport | None]:
    """Every enabled account once; None for an account whose cycle failed."""
    with open_store(settings) as store:
        clock = (lambda: now) if now is not None else utc_now
        daemon = build_daemon(settings, store, sign_ins, clock, progress)
        daemon.refuse_wrong_mailboxes()
        try:
            return daemon.run_once()
        finally:
            daemon.release_leases()  # for the replicas, or the next run, at once


def run_forever(
    settings: Settings,
    sign_ins: SignIns | None = None,
    signals: list[int] | None = None,
    announce: Callable[[Daemon], None] | None = None,
) -> bool:
    """Until SIGTERM/SIGINT; True if every cycle in flight finished before exiting.
    `signals` gets the numbers of the signals that stopped it (the command line exits
    130 after a Ctrl-C, 0 after SIGTERM, an orchestrator's normal stop); `announce` is
    shown the daemon before its schedule starts (the command line prints its plan)."""
    with open_store(settings) as store:
        daemon = build_daemon(settings, store, sign_ins)
        daemon.refuse_wrong_mailboxes()
        _on_signals(daemon.stop, signals if signals is not None else [])
        if announce is not None:
            announce(daemon)
        if not settings.health.enabled:
            return daemon.serve()
        host, port = settings.health.host_port()
        with health.serve(host, port, daemon.health, daemon.metrics):
            return daemon.serve()


def _on_signals(stop: Callable[[], None], received: list[int]) -> None:
    def handle(number: int, frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(number).name)
        received.append(number)
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
