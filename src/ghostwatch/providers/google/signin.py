"""Google credentials: installed-app OAuth for a person, domain-wide delegation for a team.

Both kinds live in the vault under `google.<account>`:
- a person signs in once through the installed-app flow (RFC 8252, loopback redirect,
  PKCE; https://developers.google.com/identity/protocols/oauth2/native-app). The
  refresh token, the client id and secret are kept; every refreshed access token is
  written back, so a restart does not spend a refresh.
- a Workspace admin imports a service account key; each access token is then minted
  with the JWT-bearer grant (RFC 7523) for the mailbox's address as `sub`
  (https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority).

`google_credentials(vault, account)` gives google-auth credentials for either kind; the
Google API clients refresh them themselves.
"""

from __future__ import annotations

import json
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import structlog
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from google_auth_oauthlib.flow import InstalledAppFlow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from ghostwatch.errors import (
    ConsentMissing,
    IdentityUnavailable,
    NotSignedIn,
    SignInFailed,
    TokenRevoked,
    UserError,
    unreachable,
)
from ghostwatch.logs import silence_token_loggers
from ghostwatch.vault.tokens import TokenVault

log = structlog.get_logger(__name__)

_SCOPE = "https://www.googleapis.com/auth/"
# Least privilege (README "Google setup" says why each one is there).
READ = _SCOPE + "gmail.readonly"
DRAFTS = _SCOPE + "gmail.compose"
DIGEST = _SCOPE + "gmail.insert"
RESCUE = _SCOPE + "gmail.modify"
CALENDAR = _SCOPE + "calendar.readonly"
MEET = _SCOPE + "meetings.space.readonly"
# A headless machine has no browser to catch the redirect: the person's browser fails
# to load this loopback address and they paste the address bar back to us.
PASTE_REDIRECT = "http://localhost:1/"


def google_scopes(*, junk_rescue: bool) -> list[str]:
    """The scopes an account needs; gmail.modify only when junk rescue is on."""
    return [READ, DRAFTS, DIGEST, *([RESCUE] if junk_rescue else []), CALENDAR, MEET]


def entry_name(account: str) -> str:
    return f"google.{account}"


@dataclass(frozen=True)
class LoginPrompt:
    """How to reach the person: a browser on this machine, or printed URL + pasted answer."""

    show: Callable[[str], None]
    ask: Callable[[str], str]
    headless: bool = False
    browser: str | None = None
    """A `webbrowser` name (e.g. "firefox"); None: the system's default browser."""


def installed_app_login(
    client_secrets: Path, scopes: Sequence[str], prompt: LoginPrompt
) -> user_credentials.Credentials:
    """A person consents in a browser; the credentials carry a refresh token."""
    silence_token_loggers()
    flow = _flow(client_secrets, scopes)
    try:
        if prompt.headless:
            credentials = _pasted_login(flow, prompt)
        else:
            credentials = flow.run_local_server(
                port=0,
                open_browser=True,
                browser=prompt.browser,
                authorization_prompt_message="Sign in to Google in your browser: {url}",
                access_type="offline",
                prompt="consent",  # a refresh token every time, also on a second sign-in
            )
    except Warning:  # oauthlib raises a Warning when the granted scopes differ
        raise ConsentMissing(
            "Google granted fewer permissions than ghostwatch needs (a box was unticked on "
            "the consent screen): sign in again and leave every permission ticked"
        ) from None
    except webbrowser.Error:
        raise UserError(
            "no web browser can be opened here: add --headless to sign in from another machine"
        ) from None
    except OAuth2Error as error:  # RFC 6749 §5.2 answers: invalid_grant, invalid_client ...
        raise SignInFailed(f"Google sign-in failed: {error}") from None
    except requests.RequestException as error:  # the code exchange never got an answer
        raise _no_answer(error) from error
    if not credentials.refresh_token:
        raise SignInFailed("Google sent no refresh token: sign in again (consent screen)")
    return credentials  # type: ignore[no-any-return]


def _flow(client_secrets: Path, scopes: Sequence[str]) -> InstalledAppFlow:
    try:
        return InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=scopes)
    except FileNotFoundError:
        raise UserError(
            f"no OAuth client file at {client_secrets}: download it from Google Cloud "
            "console → APIs & Services → Credentials (OAuth client, type Desktop app)"
        ) from None
    except (ValueError, KeyError, json.JSONDecodeError):
        raise UserError(
            f"{client_secrets} is not an OAuth client file for an installed (Desktop) app: "
            "download the JSON of a Desktop app client from Google Cloud console"
        ) from None


def _pasted_login(flow: InstalledAppFlow, prompt: LoginPrompt) -> Any:
    flow.redirect_uri = PASTE_REDIRECT
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    prompt.show(
        "Open this address in a browser on any machine and sign in:\n"
        f"{url}\n"
        "The browser then fails to load a localhost page: that is expected."
    )
    answer = prompt.ask("Paste the address it ended on (or just the code)")
    flow.fetch_token(code=_code_from(answer.strip(), state))
    return flow.credentials


def _code_from(answer: str, state: str) -> str:
    """The authorization code in a pasted redirect address (RFC 6749 §4.1.2) or alone."""
    if "://" not in answer:
        if not answer:
            raise SignInFailed("nothing was pasted: run the command again")
        return answer
    query = parse_qs(urlsplit(answer).query)
    if "error" in query:
        raise SignInFailed(f"Google sign-in was refused: {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise SignInFailed("the pasted address belongs to another sign-in: run it again")
    if "code" not in query:
        raise SignInFailed("the pasted address has no code: paste the whole address")
    return query["code"][0]


def store_user_login(
    vault: TokenVault, account: str, credentials: user_credentials.Credentials
) -> None:
    vault.put_json(
        entry_name(account),
        {"kind": "installed", "authorized_user": json.loads(credentials.to_json())},  # type: ignore[no-untyped-call]
    )
    log.info("auth.google.stored", account=account, kind="installed")


def import_service_account(
    vault: TokenVault, account: str, key_file: Path, subject: str, scopes: Sequence[str]
) -> None:
    """Keep a service account key (encrypted) to act as `subject` with `scopes`."""
    try:
        info = json.loads(key_file.read_text(encoding="utf-8"))
        service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]
    except FileNotFoundError:
        raise UserError(f"no service account key at {key_file}") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(
            f"{key_file} is not a service account key: create a JSON key in Google Cloud "
            "console → IAM & Admin → Service accounts → Keys"
        ) from None
    entry = {"kind": "service_account", "key": info, "subject": subject, "scopes": list(scopes)}
    vault.put_json(entry_name(account), entry)
    log.info("auth.google.stored", account=account, kind="service_account")


def google_credentials(vault: TokenVault, account: str, *, junk_rescue: bool = False) -> Any:
    """google-auth credentials for `account`; refreshed tokens go back into the vault.

    Raises NotSignedIn without a vault entry, ConsentMissing when the stored grant lacks
    a scope the settings need (gmail.modify for junk rescue).
    """
    silence_token_loggers()
    entry = vault.get_json(entry_name(account))
    if entry is None:
        raise NotSignedIn(
            f"account {account!r} has no Google sign-in: run "
            f"`ghostwatch auth google --account {account}`"
        )
    credentials = _from_entry(vault, account, entry)
    _check_scopes(account, list(credentials.scopes or ()), junk_rescue)
    return credentials


def _from_entry(vault: TokenVault, account: str, entry: dict[str, Any]) -> Any:
    if entry.get("kind") == "service_account":
        delegated = DelegatedCredentials.from_service_account_info(  # type: ignore[no-untyped-call]
            entry["key"], scopes=entry["scopes"]
        )
        acting = delegated.with_subject(entry["subject"])
        acting.admin_client_id = str(entry["key"].get("client_id", ""))  # the admin console's id
        return acting
    stored = _user_credentials(entry["authorized_user"])
    stored.keep_in(vault, account)
    return stored


def _user_credentials(info: dict[str, Any]) -> VaultedCredentials:
    """Credentials from `to_json()` output, keeping its token_uri.

    google-auth's `from_authorized_user_info` always resets token_uri to Google's; ours
    came from the OAuth client file the person downloaded (the sandbox's in tests).
    """
    expiry = info.get("expiry")
    return VaultedCredentials(  # type: ignore[no-untyped-call]
        token=info.get("token"),
        refresh_token=info["refresh_token"],
        token_uri=info["token_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=info.get("scopes"),
        # to_json() writes a naive UTC time as ISO 8601 with a Z; google-auth wants naive UTC.
        expiry=datetime.fromisoformat(expiry.removesuffix("Z")) if expiry else None,
    )


def _check_scopes(account: str, granted: list[str], junk_rescue: bool) -> None:
    missing = [scope for scope in google_scopes(junk_rescue=junk_rescue) if scope not in granted]
    if missing:
        names = ", ".join(scope.removeprefix(_SCOPE) for scope in missing)
        flag = " --junk-rescue" if junk_rescue else ""
        raise ConsentMissing(
            f"account {account!r} was signed in without {names}: run "
            f"`ghostwatch auth google --account {account}{flag}` again"
        )


class VaultedCredentials(user_credentials.Credentials):
    """A person's credentials that write every refreshed access token back to the vault."""

    _vault: TokenVault | None = None
    _account = ""

    def keep_in(self, vault: TokenVault, account: str) -> None:
        self._vault, self._account = vault, account

    def refresh(self, request: GoogleRequest) -> None:
        try:
            super().refresh(request)  # type: ignore[no-untyped-call]
        except RefreshError as error:
            raise _translated(error, self._account, "google") from error
        except TransportError as error:  # google-auth's word for "no answer at all"
            raise _no_answer(error) from error
        if self._vault is not None:
            store_user_login(self._vault, self._account, self)
            log.info("auth.google.refreshed", account=self._account)


class DelegatedCredentials(service_account.Credentials):
    """A service account acting for one mailbox; refusals say what the admin must do."""

    admin_client_id = ""

    def refresh(self, request: GoogleRequest) -> None:
        try:
            super().refresh(request)  # type: ignore[no-untyped-call]
        except RefreshError as error:
            raise _delegation_error(error, self._subject, self.admin_client_id) from error
        except TransportError as error:
            raise _no_answer(error) from error


def _no_answer(error: Exception) -> IdentityUnavailable:
    return IdentityUnavailable(
        f"cannot reach Google's sign-in service ({unreachable(error)}): check this "
        "machine's network connection (and proxy), then run the command again"
    )


def _oauth_error(error: RefreshError) -> str:
    """The RFC 6749 §5.2 error code google-auth kept from the token endpoint's answer."""
    body = error.args[1] if len(error.args) > 1 else None
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _translated(error: RefreshError, account: str, command: str) -> Exception:
    if _oauth_error(error) in ("invalid_grant", "invalid_client", "unauthorized_client"):
        return TokenRevoked(
            f"Google refused account {account!r}'s sign-in ({_oauth_error(error)}: revoked, "
            f"expired or the password changed): run `ghostwatch auth {command} "
            f"--account {account}` again"
        )
    return IdentityUnavailable(f"Google's token endpoint failed: {error.args[0]}")


def _delegation_error(error: RefreshError, subject: str | None, client_id: str | None) -> Exception:
    code = _oauth_error(error)
    if code == "unauthorized_client":
        return SignInFailed(
            f"the service account (client id {client_id}) may not act for {subject}: a "
            "Workspace admin must add this client id with ghostwatch's scopes under Security "
            "→ Access and data control → API controls → Domain-wide delegation"
        )
    if code in ("invalid_grant", "invalid_client"):
        return TokenRevoked(
            f"Google refused the service account key for {subject} ({code}): the key was "
            "deleted or the address is not in the domain; import a current key"
        )
    return IdentityUnavailable(f"Google's token endpoint failed: {error.args[0]}")


def check_google(vault: TokenVault, account: str) -> str:
    """Refresh now (proves the grant still works); a one-line description of the sign-in."""
    credentials = google_credentials(vault, account)
    # A session closed here, not by the garbage collector at exit (where requests fails
    # with "sys.meta_path is None" after the command has already printed its answer).
    with requests.Session() as session:
        credentials.refresh(GoogleRequest(session))
    return f"google ({'service account' if _is_delegated(credentials) else 'installed app'})"


def _is_delegated(credentials: Any) -> bool:
    return isinstance(credentials, DelegatedCredentials)
