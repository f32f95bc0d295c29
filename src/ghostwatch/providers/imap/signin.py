"""An IMAP account's sign-in: a password (an app password, where the provider has them),
kept in the encrypted vault.

One vault entry per account, `imap.<account>`, holds the password with the server and
user it was proved against, so `ghostwatch auth check` can prove it again without the
configuration. `ghostwatch auth imap` signs in once with it (and to CalDAV, when the
account has a calendar) before storing it: a mistyped password is said at once, not at
the first cycle. Fastmail, iCloud, Zoho and Gmail refuse an account's own password
over IMAP when two-step sign-in is on; they issue app passwords for programs like this
one (README, "IMAP and CalDAV").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ghostwatch.errors import NotSignedIn, UserError
from ghostwatch.providers.imap.calendar import CalDavCalendar
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.retry import NO_RETRY
from ghostwatch.vault.tokens import TokenVault


def entry_name(account: str) -> str:
    return f"imap.{account}"


@dataclass(frozen=True, slots=True)
class CalDav:
    """Where the account's calendar is, when it has one."""

    url: str
    username: str
    calendar: str | None = None


def prove(login: ImapLogin, caldav: CalDav | None) -> str:
    """Sign in to IMAP (and CalDAV) once; what the server calls itself. Raises on refusal."""
    session = ImapSession(login, NO_RETRY)
    try:
        session.call(lambda client: client.noop())
        said = f"IMAP {login.username}@{login.host}"
    finally:
        session.close()
    if caldav is not None:
        calendar = CalDavCalendar(caldav.url, caldav.username, login.password,
                                  calendar=caldav.calendar)  # fmt: skip
        calendar.calendars()
        said += f", CalDAV {caldav.url}"
    return said


def store_password(vault: TokenVault, account: str, login: ImapLogin) -> None:
    vault.put_json(
        entry_name(account),
        {
            "kind": "password",
            "host": login.host,
            "port": login.port,
            "tls": login.tls,
            "username": login.username,
            "password": login.password,
        },
    )


def stored_password(vault: TokenVault, account: str) -> str:
    """The account's password, or `NotSignedIn` saying how to store one."""
    entry = vault.get_json(entry_name(account))
    if entry is None or not entry.get("password"):
        raise NotSignedIn(
            f"account {account} has no IMAP password yet: run "
            f"`ghostwatch auth imap --account {account}`"
        )
    return str(entry["password"])


def check_imap(vault: TokenVault, account: str) -> str:
    """Sign in with the stored password again (`ghostwatch auth check`)."""
    entry = vault.get_json(entry_name(account)) or {}
    login = _login_of(entry, stored_password(vault, account))
    return prove(login, None)


def _login_of(entry: dict[str, Any], password: str) -> ImapLogin:
    try:
        return ImapLogin(str(entry["host"]), str(entry["username"]), password,
                         port=int(entry["port"]), tls=str(entry["tls"]))  # fmt: skip
    except (KeyError, ValueError, TypeError):
        raise UserError(
            "the vault's IMAP entry is incomplete: run `ghostwatch auth imap` again"
        ) from None


def state(entry: dict[str, Any]) -> str:
    """What the vault holds, for `ghostwatch accounts` (no network call)."""
    return f"imap: password for {entry.get('username')} at {entry.get('host')}"
