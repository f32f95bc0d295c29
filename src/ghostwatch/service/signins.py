"""The vault as the service sees it: per-account credential factories and sign-in states.

The service's provider registry (service/wiring.py) takes `Account → credentials` and
`Account → bearer-token callable` factories; these build them from one vault. Only the
account's name and its feature switches are read, so any settings object with those
attributes fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ghostwatch.providers.google import signin as google
from ghostwatch.providers.imap import signin as imap
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.vault.tokens import TokenVault


class AccountSettings(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def junk_rescue(self) -> bool: ...


def google_credentials_from(vault: TokenVault) -> Callable[[AccountSettings], Any]:
    """Account → google-auth credentials (gmail.modify required when junk rescue is on)."""

    def credentials(account: AccountSettings) -> Any:
        return google.google_credentials(vault, account.name, junk_rescue=account.junk_rescue)

    return credentials


def microsoft_tokens_from(
    vault: TokenVault, *, attendance: bool = False, http_client: Any = None
) -> Callable[[AccountSettings], Callable[[], str]]:
    """Account → a Graph bearer-token callable; `.app_only` is true for a tenant's app."""

    def tokens(account: AccountSettings) -> Callable[[], str]:
        return microsoft.graph_token(
            vault, account.name, attendance=attendance, http_client=http_client
        )

    return tokens


def imap_passwords_from(vault: TokenVault) -> Callable[[AccountSettings], str]:
    """Account → its IMAP password (`ghostwatch auth imap`)."""

    def password(account: AccountSettings) -> str:
        return imap.stored_password(vault, account.name)

    return password


def sign_in_state(vault: TokenVault, account: str) -> str:
    """What the vault holds for `account`, without a network call (`ghostwatch accounts`)."""
    found = vault.get_json(google.entry_name(account))
    if found is not None:
        if found.get("kind") == "service_account":
            return f"google: service account acting as {found.get('subject')}"
        return "google: signed in (installed app)"
    found = vault.get_json(microsoft.entry_name(account))
    if found is not None:
        if found.get("kind") == "app":
            return f"microsoft: application in tenant {found.get('tenant')}"
        return f"microsoft: signed in as {found.get('username') or 'unknown'} (device code)"
    found = vault.get_json(imap.entry_name(account))
    if found is not None:
        return imap.state(found)
    return "not signed in"
