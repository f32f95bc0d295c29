"""What would stop the first poll, found before it: `config check` and the start of `run`.

The settings' schema is config's to check (config/load.py); this adds what needs the
rest of the installation: the vault key and each account's sign-in in the vault, and the
database URL and its folder. Every problem is one line that names the setting, variable
or account and says how to fix it, and they are all returned at once, so a misconfigured
install refuses to start with the whole list instead of failing one poll at a time (on a
Friday evening, at Monday's).

Offline: nothing here touches the network or the database server (`run` checks the
signed-in mailboxes and opens the database right after).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ghostwatch.config import AccountConfig, Settings
from ghostwatch.errors import KEY_HOWTO, UserError
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.imap import signin as imap
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.store import connect
from ghostwatch.vault.keys import SecretKey
from ghostwatch.vault.tokens import TokenVault, vault_in

# Providers whose tokens live in the vault: the entry's name and the command that fills it.
SIGN_INS: dict[str, tuple[Callable[[str], str], str]] = {
    "gmail": (google.entry_name, "google"),
    "outlook": (microsoft.entry_name, "microsoft"),
    "imap": (imap.entry_name, "imap"),
}


def problems(
    settings: Settings, origins: Mapping[str, str] | None = None, *, sign_ins: bool = True
) -> list[str]:
    """Every problem found, one line each; empty when the first poll can start.
    `origins`: where a setting came from when not from the file (config.Checked), so its
    problem names what to fix. `sign_ins=False`: the key could not be read at all, which
    is already a problem of its own."""
    where = _Where(origins or {})
    found = _placeholders(settings) + _database(settings, where)
    return found + (_sign_ins(settings, where) if sign_ins else [])


# The address `ghostwatch init`'s file (config/template.yaml) and deploy/ghostwatch.yaml
# carry until someone writes theirs: an account with it can only ever fail (issue 16).
PLACEHOLDER_ADDRESS = "you@example.com"


def _placeholders(settings: Settings) -> list[str]:
    return [
        f"accounts.{n}.address: {PLACEHOLDER_ADDRESS} is the placeholder of the file "
        "`ghostwatch init` writes: write your mailbox's address, or set enabled: false"
        for n, account in enumerate(settings.accounts)
        if account.enabled and str(account.address).lower() == PLACEHOLDER_ADDRESS
    ]


class _Where:
    def __init__(self, origins: Mapping[str, str]) -> None:
        self._origins = origins

    def __call__(self, key: str) -> str:
        """`database_url` or `database_url (from GHOSTWATCH_DATABASE_URL)`."""
        origin = self._origins.get(key)
        return key if origin is None else f"{key} ({origin})"


# -- the database -----------------------------------------------------------------------


def _database(settings: Settings, where: _Where) -> list[str]:
    try:
        url = connect.parse_url(settings.database())  # its messages never hold a password
    except UserError as error:
        return [f"{where('database_url')}: {error}"]
    if url.get_backend_name() != "sqlite":
        return []
    if settings.database_url is None:
        return _creatable(settings.data_dir, where)  # the store makes data_dir on start
    folder = Path(url.database or "").expanduser().resolve().parent
    if folder.is_dir():
        return []
    problem = "is a file, not a folder" if folder.exists() else "does not exist"
    return [
        f"{where('database_url')}: the SQLite file's folder {folder} {problem}: "
        "create the folder or give another path"
    ]


def _creatable(folder: Path, where: _Where) -> list[str]:
    existing = next(p for p in (folder, *folder.resolve().parents) if p.exists())
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return []
    return [
        f"{where('data_dir')}: cannot create {folder} ({existing} is not a writable "
        "folder): set data_dir to a folder ghostwatch may write"
    ]


# -- the vault key and each account's sign-in -------------------------------------------


def _sign_ins(settings: Settings, where: _Where) -> list[str]:
    needing = [a for a in settings.enabled_accounts() if a.provider in SIGN_INS]
    if not needing:
        return []
    names = ("account " if len(needing) == 1 else "accounts ") + ", ".join(a.name for a in needing)
    if settings.secret_key is None or not settings.secret_key.get_secret_value().strip():
        return [
            f"{where('secret_key')}: not set; the sign-ins of {names} are kept "
            f"encrypted with it: {KEY_HOWTO}"
        ]
    try:
        key = SecretKey.parse(settings.secret_key.get_secret_value(), where("secret_key"))
    except UserError as error:
        return [f"{error} (the sign-ins of {names} are kept encrypted with it)"]
    if settings.vault == "database":
        return []  # the vault is in the database, which this offline check does not open
    vault = vault_in(settings.data_dir, key)
    return list(_each(vault, needing))


def _each(vault: TokenVault, needing: list[AccountConfig]) -> Iterable[str]:
    for account in needing:
        where = f"account {account.name}"
        entry, command = SIGN_INS[account.provider]
        try:
            found = vault.get(entry(account.name))
        except UserError as error:
            yield f"{where}: {error}"
            continue
        if found is None:
            yield (
                f"{where}: not signed in: run `ghostwatch auth {command} --account "
                f"{account.name}`, or set enabled: false until then"
            )
