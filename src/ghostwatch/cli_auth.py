"""`ghostwatch auth …`: make a key, sign accounts in, check what the vault holds.

This module is an entry point: it alone reads the key's environment variables and
hands the resolved key to the vault (see auth/keys.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ghostwatch.auth.keys import KEY_ENV, KEY_FILE_ENV, new_key, resolve_key
from ghostwatch.auth.vault import TokenVault
from ghostwatch.errors import UserError

DATA_DIR_ENV = "GHOSTWATCH_DATA_DIR"
DEFAULT_DATA_DIR = "~/.local/share/ghostwatch"


def open_vault(data_dir: Path) -> TokenVault:
    """The vault under DATA_DIR/tokens, with the key from the environment or its file."""
    key_file = os.environ.get(KEY_FILE_ENV)
    key = resolve_key(os.environ.get(KEY_ENV), Path(key_file) if key_file else None)
    return TokenVault(data_dir.expanduser() / "tokens", key)


class AuthProblem(click.ClickException):
    """A user mistake: "Error: ..." on one line, exit code 2 (no usage text: not a typo)."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except UserError as error:
        raise AuthProblem(str(error)) from error


@click.group()
def auth() -> None:
    """Sign accounts in; their tokens are kept encrypted under the data directory."""


@auth.command()
def key() -> None:
    """Print a new random encryption key for GHOSTWATCH_SECRET_KEY."""
    click.echo(new_key())
    click.echo(
        f"Keep it secret and keep it safe: put it in {KEY_ENV} or in a file named by "
        f"{KEY_FILE_ENV}. Tokens encrypted with it cannot be read without it.",
        err=True,
    )
