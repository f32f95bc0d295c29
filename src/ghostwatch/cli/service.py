"""The service's commands: `init`, `config check|schema`, `run` and `db`; what an admin
asks of the store about accounts and conversations is in cli/accounts.py.

Registered in cli/main.py one line each. Settings are built here, at the entry point, and
handed down as one typed object; nothing deeper reads the environment.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from ghostwatch import config, logs
from ghostwatch.cli import place, progress, terminal
from ghostwatch.cli.errors import user_errors
from ghostwatch.cli.interrupt import interrupted
from ghostwatch.cli.place import config_option
from ghostwatch.clock import utc_now
from ghostwatch.errors import UserError


def settings_options(command: Callable[..., None]) -> Callable[..., None]:
    """--config, --secrets-dir and --secret-key-file → a validated `config.Settings` as
    the first argument."""
    return _settings_options(command, preflight=False)


def checked_settings_options(command: Callable[..., None]) -> Callable[..., None]:
    """As `settings_options`, and everything that would stop the first poll too
    (service/preflight.py), reported with the schema's problems, all at once."""
    return _settings_options(command, preflight=True)


def _settings_options(command: Callable[..., None], *, preflight: bool) -> Callable[..., None]:
    @click.option(
        "--config",
        "config_path",
        envvar="GHOSTWATCH_CONFIG",
        default=str(config.DEFAULT_PATH),
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The YAML configuration (env GHOSTWATCH_CONFIG).",
    )
    @click.option(
        "--secrets-dir",
        envvar="GHOSTWATCH_SECRETS_DIR",
        default=None,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="A folder of mounted secrets, one file per setting, e.g. /run/secrets "
        "(env GHOSTWATCH_SECRETS_DIR).",
    )
    @click.option(
        "--secret-key-file",
        envvar="GHOSTWATCH_SECRET_KEY_FILE",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A file holding the token vault's key (env GHOSTWATCH_SECRET_KEY_FILE).",
    )
    @functools.wraps(command)
    def wrapper(
        config_path: Path, secrets_dir: Path | None, secret_key_file: Path | None, **rest: Any
    ) -> None:
        with user_errors():
            checked = config.check(config_path, secrets_dir, secret_key_file, os.environ)
            settings = checked.settings_or_raise(_preflight(checked) if preflight else [])
        command(settings, **rest)

    return wrapper


def _preflight(checked: config.Checked) -> list[str]:
    """Checked on what the schema accepted (`partial`: the accounts and keys without a
    problem of their own), so a bad time zone does not hide a missing sign-in."""
    if checked.partial is None:
        return []
    from ghostwatch.service import preflight  # loads the store and providers: only here

    return preflight.problems(checked.partial, checked.origins, sign_ins=checked.key_read)


@click.group(name="config")
def config_group() -> None:
    """Check the configuration file, or print its JSON schema."""


@config_group.command(name="schema")
def config_schema() -> None:
    """Print the configuration's JSON schema (for editors and CI checks)."""
    click.echo(json.dumps(config.schema(), indent=2))


@config_group.command(name="check")
@checked_settings_options
def config_check(settings: config.Settings) -> None:
    """Validate the configuration (file + environment + secrets), the vault key, each
    account's sign-in and the database setting, and summarise it; every problem at once."""
    click.echo(f"configuration is valid: {len(settings.accounts)} account(s)")
    for account in settings.accounts:
        state = "enabled" if account.enabled else "disabled"
        dry = ", dry run" if account.dry_run else ""
        own = f", templates from {account.templates}" if account.templates else ""
        terminal.echo(f"  {account.name}: {account.provider} {account.address} ({state}{dry}{own})")
    database = "configured" if settings.database_url else settings.database()
    click.echo(f"  database: {database}")
    health = settings.health.address if settings.health.enabled else "off"
    click.echo(f"  health: {health}")


def template() -> str:
    """The commented configuration `init` writes (config/template.yaml)."""
    return resources.files("ghostwatch.config").joinpath("template.yaml").read_text("utf-8")


@click.command(name="init")
@click.option(
    "--path",
    "path",
    default=str(config.DEFAULT_PATH),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the configuration.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented configuration to start from."""
    with user_errors():
        if path.exists() and not force:
            raise UserError(f"{path} exists: edit it, or pass --force to overwrite it")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template(), encoding="utf-8")
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror}") from error
    click.echo(f"wrote {path}: set your address and provider, then `ghostwatch config check`")


@click.command(name="run")
@checked_settings_options
@click.option("--once", is_flag=True, help="Run every enabled account once, then exit (cron, CI).")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="With --once: decide as of this ISO 8601 time instead of now (demos, tests).",
)
def run(settings: config.Settings, once: bool, now_text: str | None) -> None:
    """Watch every enabled account on its schedule, with health and metrics (the service).

    SIGTERM or SIGINT lets the cycles in flight finish, then exits."""
    # Imported here: the scheduler, SQLAlchemy and the Google client load slowly, and only
    # this command needs them.
    from ghostwatch.cli import summary
    from ghostwatch.service import app

    logs.configure(settings.log_level, fmt=settings.log_format)
    now = _when(now_text, once)
    with user_errors():
        if not settings.enabled_accounts():
            # A daemon watching nothing would run for ever, healthy, and do nothing; a
            # cron job would succeed every time: either way the mistake goes unseen.
            raise UserError(NO_ACCOUNT)
        if once:
            with progress.counter() as counter:
                reports = app.run_once(settings, now=now, progress=counter)
            for line in summary.once_lines(settings, reports):
                terminal.echo(line)
            trouble = once_trouble(reports)
            if trouble:
                # Exit 1: cron and CI see that something the run was meant to do did not
                # happen, though every other account and action went on.
                raise click.ClickException(f"{trouble}: see the log")
            return

        def announce(daemon: Any) -> None:
            for line in summary.start_lines(daemon, utc_now()):
                click.echo(line)

        signals: list[int] = []
        finished = app.run_forever(settings, signals=signals, announce=announce)
    if not finished:
        # A cycle did not finish in time: leave without waiting for its thread. The
        # action ledger makes this safe (the next start settles pending intents).
        sys.stderr.flush()
        os._exit(3)
    if signal.SIGINT in signals:  # Ctrl-C: 130, as for every command (cli/interrupt.py)
        raise interrupted()


NO_ACCOUNT = (
    "no enabled account in the configuration: sign one in (`ghostwatch auth ...`), "
    "then set `enabled: true` on it (`ghostwatch config check` lists them)"
)


def once_trouble(reports: dict[str, Any]) -> str:
    """One line naming every account whose cycle failed or one of whose actions failed
    ('' when all went well). An item skipped as poison does not count: what a stranger
    wrote must not decide the exit code; the digest lists it instead."""
    parts: list[str] = []
    for name in sorted(reports):
        report = reports[name]
        if report is None:
            parts.append(f"{name}: cycle failed")
        elif report.errors:
            actions = Counter(error.partition(":")[0] for error in report.errors)
            what = ", ".join(f"{action} x{count}" for action, count in sorted(actions.items()))
            parts.append(f"{name}: {len(report.errors)} action(s) failed ({what})")
    return "; ".join(parts)


def _when(value: str | None, once: bool) -> datetime | None:
    if value is None:
        return None
    if not once:
        raise click.BadParameter(
            "only with --once: the daemon runs on the real clock", param_hint="--now"
        )
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time: write e.g. 2026-11-20T15:00:00+00:00",
            param_hint="--now",
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter("give the time zone offset, e.g. +00:00", param_hint="--now")
    return when


@click.group()
def db() -> None:
    """The state database: accounts, the action ledger, conversation snapshots."""


@db.command(name="upgrade")
@config_option
@click.option(
    "--database-url",
    envvar="GHOSTWATCH_DATABASE_URL",
    default=None,
    help="sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB (env "
    "GHOSTWATCH_DATABASE_URL); default: the configuration's, as `ghostwatch run` uses it.",
)
def db_upgrade(config_path: Path | None, database_url: str | None) -> None:
    """Create or migrate the database's tables to this version's schema."""
    # Imported here: SQLAlchemy and Alembic take a while to load and only these commands need them.
    from ghostwatch.store import Store

    with user_errors():
        url = database_url or place.database_url(place.find_place(config_path))
        with Store.open(url) as store:
            store.upgrade()
            click.echo(f"database at revision {store.revision()} (head)")


@db.command(name="import-vault")
@config_option
@click.option(
    "--database-url",
    envvar="GHOSTWATCH_DATABASE_URL",
    default=None,
    help="The PostgreSQL database (env GHOSTWATCH_DATABASE_URL); default: the "
    "configuration's, as `ghostwatch run` uses it.",
)
def db_import_vault(config_path: Path | None, database_url: str | None) -> None:
    """Copy the token vault's files (DATA_DIR/tokens) into the PostgreSQL database, where
    replicas read it: they then need only the database URL and the key. Entries stay
    encrypted as they are (no key needed); one already in the database is kept. Safe to
    run again."""
    from ghostwatch.store import Store
    from ghostwatch.store.vault_rows import import_files

    with user_errors():
        found = place.find_place(config_path, key=False)
        url = database_url or place.database_url(found)
        with Store.open(url) as store:
            if not store.shared:
                raise UserError(
                    "the vault moves into a PostgreSQL database only (SQLite keeps it under "
                    "DATA_DIR/tokens): set database_url, or pass --database-url"
                )
            store.upgrade()
            folder = found.data_dir.expanduser() / "tokens"
            copied, kept = import_files(store.engine, folder)
    click.echo(
        f"copied {len(copied)} vault entries from {folder} into the database"
        + (f"; kept {len(kept)} already there" if kept else "")
    )
    if copied or kept:
        click.echo(
            "replicas now read the vault from the database; delete the files once "
            "`ghostwatch accounts` shows every sign-in"
        )
