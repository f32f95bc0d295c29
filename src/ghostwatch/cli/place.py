"""Where a command works: the configuration (`--config`, env GHOSTWATCH_CONFIG) and its
`data_dir`, for the commands that need no valid account list to run (`auth …`,
`db upgrade`): one place for the vault and the database, the one `ghostwatch run` uses.
`--data-dir` (env GHOSTWATCH_DATA_DIR) overrides the file's; with no file at the default
path, the service's defaults apply (data_dir `data`). A command about one account
(`auth … --account NAME`) needs only that account valid: another's mistake is a warning
on stderr, not a stop (config/load.py, `Checked.for_account`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ghostwatch import config
from ghostwatch.cli import terminal
from ghostwatch.cli.errors import user_errors
from ghostwatch.errors import UserError
from ghostwatch.vault.keys import KEY_FILE_ENV

DATA_DIR_ENV = "GHOSTWATCH_DATA_DIR"
SECRETS_DIR_ENV = "GHOSTWATCH_SECRETS_DIR"
DEFAULT_DATA_DIR = Path("data")  # the service's default data_dir (config/model.py)


@dataclass(frozen=True)
class Place:
    """Where a command works: the settings (None: no file at the default path) and the
    data directory, whose tokens/ is the vault and, without database_url, holds the
    SQLite file."""

    config_path: Path
    settings: config.Settings | None
    data_dir: Path


def find_place(
    config_path: Path | None,
    data_dir: Path | None = None,
    *,
    key: bool = True,
    account: str | None = None,
) -> Place:
    """The configuration at `config_path` (or the default path, if a file is there), with
    the environment's overrides and mounted secrets as `run` reads them, and the data
    directory: `data_dir` if given, else its. `key=False`: the vault key's file is not
    read (the health check needs no secret). `account`: the one account the command is
    about; other accounts' problems are only warned of."""
    path = config_path or config.DEFAULT_PATH
    settings = None
    if config_path is not None or path.exists():
        key_file = os.environ.get(KEY_FILE_ENV) if key else None
        secrets = os.environ.get(SECRETS_DIR_ENV)
        checked = config.check(
            path,
            Path(secrets) if secrets else None,
            Path(key_file) if key_file else None,
            os.environ,
        )
        if account is None:
            settings = checked.settings_or_raise()
        else:
            settings, others = checked.for_account(account)
            for problem in others:
                terminal.echo(
                    f"Warning: {path}: {problem} (not needed for account {account}; "
                    "`ghostwatch run` refuses the file until it is fixed)",
                    err=True,
                )
    if data_dir is None:
        fallback = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
        data_dir = settings.data_dir if settings is not None else fallback
    return Place(path, settings, data_dir)


config_option = click.option(
    "--config",
    "config_path",
    envvar="GHOSTWATCH_CONFIG",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The configuration whose data_dir and key are used (env GHOSTWATCH_CONFIG; "
    f"default {config.DEFAULT_PATH}, if it exists).",
)


def place_options(command: Callable[..., None]) -> Callable[..., None]:
    """--config and --data-dir → `place` (a `Place`), read before the command runs."""

    @config_option
    @click.option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        default=None,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Instead of the configuration's data_dir: tokens go in its tokens/ "
        f"(env {DATA_DIR_ENV}).",
    )
    @functools.wraps(command)
    def wrapper(config_path: Path | None, data_dir: Path | None, **rest: Any) -> None:
        with user_errors():
            # A command about one account (`--account`) needs only that one valid.
            place = find_place(config_path, data_dir, account=rest.get("account"))
        command(place=place, **rest)

    return wrapper


def database_url(place: Place) -> str:
    """The database `ghostwatch run` would use with this configuration."""
    if place.settings is not None and place.settings.database_url is not None:
        return place.settings.database()
    try:  # a SQLite file's folder must exist (store/connect.py refuses to guess)
        place.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create data_dir {place.data_dir}: {error.strerror}; set data_dir "
            f"(env {DATA_DIR_ENV}) to a writable folder"
        ) from error
    return f"sqlite:///{place.data_dir / 'ghostwatch.db'}"
