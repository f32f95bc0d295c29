"""Microsoft sign-in through msal: device code for a person, client credentials for a tenant.

One vault entry per account, `microsoft.<account>`, holds the app registration's ids,
the client secret when there is one, and msal's SerializableTokenCache (refresh token
and access tokens) — all encrypted with the vault's key. `graph_token(vault, account)`
gives the Outlook provider a `Callable[[], str]` that answers a live bearer token,
refreshing through msal and writing the changed cache back.

Permissions (least privilege; README "Microsoft 365 / Entra setup"): Mail.ReadWrite
(read, drafts, moving replies out of Junk), Calendars.Read, and
OnlineMeetingArtifact.Read.All only when Teams attendance is enabled. Delegated for a
person's sign-in; application permissions (`.default`) for the tenant-wide setup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msal
import requests
import structlog

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

AUTHORITY_HOST = "https://login.microsoftonline.com"
APP_SCOPES = ["https://graph.microsoft.com/.default"]
ATTENDANCE = "OnlineMeetingArtifact.Read.All"
# RFC 6749 §5.2 codes that mean "this grant or secret is dead": sign in again.
_DEAD_GRANT = ("invalid_grant", "interaction_required")
_BAD_CLIENT = ("invalid_client", "unauthorized_client")


def graph_scopes(*, attendance: bool) -> list[str]:
    """Delegated permissions a person consents to; the attendance one only when enabled."""
    return ["Mail.ReadWrite", "Calendars.Read", *([ATTENDANCE] if attendance else [])]


def entry_name(account: str) -> str:
    return f"microsoft.{account}"


@dataclass(frozen=True)
class EntraApp:
    """An Entra app registration, as `ghostwatch auth microsoft` is told about it."""

    client_id: str
    tenant: str = "organizations"
    """A tenant id or domain; "organizations" lets any work account sign in (device code)."""
    authority_host: str = AUTHORITY_HOST


def device_code_login(
    vault: TokenVault,
    account: str,
    app: EntraApp,
    scopes: Sequence[str],
    show: Callable[[str], None],
    *,
    http_client: Any = None,
    timeout: float = 900,
) -> str:
    """A person signs in on any device with the code shown; returns their username."""
    entry = {"kind": "device", **_app_fields(app), "scopes": list(scopes)}
    cache = msal.SerializableTokenCache()
    client = _application(entry, cache, http_client)
    flow = _call(lambda: client.initiate_device_flow(scopes=list(scopes)))
    if "user_code" not in flow:
        raise SignInFailed(f"Microsoft refused to start a sign-in: {_description(flow)}")
    show(flow["message"])
    flow["expires_at"] = min(flow["expires_at"], time.time() + timeout)
    result = _call(lambda: client.acquire_token_by_device_flow(flow))
    _raise_for(result, account, entry)
    entry["username"] = result.get("id_token_claims", {}).get("preferred_username", "")
    _store(vault, account, entry, cache)
    return str(entry["username"])


def client_credentials_login(
    vault: TokenVault, account: str, app: EntraApp, client_secret: str, *, http_client: Any = None
) -> None:
    """Keep an app's secret (encrypted) after proving Entra accepts it for the tenant."""
    if app.tenant in ("common", "organizations"):
        raise UserError("client credentials need the tenant's id or domain: give --tenant")
    entry = {"kind": "app", **_app_fields(app), "client_secret": client_secret}
    cache = msal.SerializableTokenCache()
    client = _application(entry, cache, http_client)
    _raise_for(_call(lambda: client.acquire_token_for_client(scopes=APP_SCOPES)), account, entry)
    _store(vault, account, entry, cache)


def graph_token(
    vault: TokenVault, account: str, *, attendance: bool = False, http_client: Any = None
) -> Callable[[], str]:
    """A bearer-token callable for the Outlook provider (`Authorization: Bearer …`).

    Raises NotSignedIn without a vault entry and ConsentMissing when a person's grant
    lacks OnlineMeetingArtifact.Read.All while attendance is enabled. Each call may
    raise TokenRevoked (sign in again) or IdentityUnavailable (retry later).
    """
    silence_token_loggers()
    entry = _entry(vault, account)
    if attendance and entry["kind"] == "device" and ATTENDANCE not in entry["scopes"]:
        raise ConsentMissing(
            f"account {account!r} was signed in without {ATTENDANCE}: run "
            f"`ghostwatch auth microsoft --account {account} --attendance` again"
        )
    return GraphToken(vault, account, entry, http_client)


class GraphToken:
    """A token source: msal's cache first, the identity platform when it must."""

    def __init__(
        self, vault: TokenVault, account: str, entry: dict[str, Any], http_client: Any
    ) -> None:
        self._vault, self._account, self._entry = vault, account, entry
        self._cache = msal.SerializableTokenCache()
        self._cache.deserialize(entry["cache"])
        self._client = _application(entry, self._cache, http_client)
        self._lock = threading.Lock()  # one refresh at a time; the cache is shared

    @property
    def app_only(self) -> bool:
        """Client credentials: Graph's `/me` means nothing; read `/users/{address}`."""
        return bool(self._entry["kind"] == "app")

    def __call__(self) -> str:
        with self._lock:
            result = _call(self._acquire)
            _raise_for(result, self._account, self._entry)
            if self._cache.has_state_changed:
                _store(self._vault, self._account, self._entry, self._cache)
                log.info("auth.microsoft.refreshed", account=self._account)
        return str(result["access_token"])

    def _acquire(self) -> dict[str, Any] | None:
        if self._entry["kind"] == "app":
            return self._client.acquire_token_for_client(scopes=APP_SCOPES)  # type: ignore[no-any-return]
        accounts = self._client.get_accounts(username=self._entry.get("username") or None)
        if not accounts:
            return None
        return self._client.acquire_token_silent_with_error(  # type: ignore[no-any-return]
            self._entry["scopes"], account=accounts[0]
        )

    def __repr__(self) -> str:
        return f"GraphToken({self._account!r})"


def check_microsoft(vault: TokenVault, account: str, *, http_client: Any = None) -> str:
    """Get a token now (proves the grant still works); a one-line description."""
    entry = _entry(vault, account)
    graph_token(vault, account, http_client=http_client)()
    if entry["kind"] == "app":
        return f"microsoft (application, tenant {entry['tenant']})"
    return f"microsoft (device code, {entry.get('username') or 'signed in'})"


def _app_fields(app: EntraApp) -> dict[str, str]:
    return {"client_id": app.client_id, "tenant": app.tenant, "authority": app.authority_host}


def _entry(vault: TokenVault, account: str) -> dict[str, Any]:
    entry = vault.get_json(entry_name(account))
    if entry is None:
        raise NotSignedIn(
            f"account {account!r} has no Microsoft sign-in: run "
            f"`ghostwatch auth microsoft --account {account} --client-id ID`"
        )
    return entry


def _store(
    vault: TokenVault, account: str, entry: dict[str, Any], cache: msal.SerializableTokenCache
) -> None:
    entry["cache"] = cache.serialize()
    vault.put_json(entry_name(account), entry)
    cache.has_state_changed = False


def _application(
    entry: dict[str, Any], cache: msal.SerializableTokenCache, http_client: Any
) -> Any:
    """msal's client; `http_client` only in tests (None: msal's own, as in production)."""
    silence_token_loggers()
    options: dict[str, Any] = {
        "authority": f"{entry['authority']}/{entry['tenant']}",
        "token_cache": cache,
    }
    if http_client is not None:
        options["http_client"] = http_client
    if entry["kind"] == "app":
        return _call(
            lambda: msal.ConfidentialClientApplication(
                entry["client_id"], client_credential=entry["client_secret"], **options
            )
        )
    return _call(lambda: msal.PublicClientApplication(entry["client_id"], **options))


def _call(work: Callable[[], Any]) -> Any:
    """Run an msal call; transport failures and unknown tenants become our errors."""
    try:
        return work()
    except requests.RequestException as error:
        raise IdentityUnavailable(
            f"cannot reach Microsoft's identity platform ({unreachable(error)}): check this "
            "machine's network connection (and proxy), then run the command again"
        ) from error
    except ValueError as error:  # msal: "Unable to get authority configuration for ..."
        raise UserError(f"Microsoft sign-in is misconfigured: {error}") from None


def _raise_for(result: dict[str, Any] | None, account: str, entry: dict[str, Any]) -> None:
    again = f"`ghostwatch auth microsoft --account {account}` again"
    if result is None:
        raise NotSignedIn(f"account {account!r} has no usable Microsoft sign-in: run {again}")
    error = result.get("error")
    if error is None:
        return
    if error in _DEAD_GRANT:
        raise TokenRevoked(
            f"Microsoft refused account {account!r}'s sign-in ({error}: revoked, expired "
            f"or consent withdrawn): run {again}"
        )
    if error in _BAD_CLIENT:
        raise SignInFailed(
            f"Microsoft refused app {entry['client_id']} ({_description(result)}): check the "
            "client id and secret in Entra → App registrations, then run " + again
        )
    if error in ("authorization_declined", "expired_token", "authorization_pending"):
        raise SignInFailed(f"the sign-in was not completed ({error}): run {again}")
    raise IdentityUnavailable(f"Microsoft's identity platform failed: {_description(result)}")


def _description(result: dict[str, Any]) -> str:
    # The first line of AADSTS descriptions names the problem; the rest is trace ids.
    text = str(result.get("error_description") or result.get("error") or "no answer")
    return text.splitlines()[0]
