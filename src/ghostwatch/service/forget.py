"""Forgetting an account: end its grant at the provider where one can, then delete it here.

- Google (a person's sign-in): the refresh token is revoked at Google's revocation
  endpoint (RFC 7009; https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke:
  POST https://oauth2.googleapis.com/revoke, `token` form-encoded; 200 revoked, 400
  `invalid_token` when it already was). That ends the whole grant, access tokens
  included. Only then is the vault entry deleted: a grant that could not be revoked is
  kept, so the user decides (`--local-only`) rather than losing the means to revoke it.
- Google (a service account): there is no user grant; its access is the admin's
  domain-wide delegation and the key itself, which only the admin can remove.
- Microsoft: Entra offers a public client no call to revoke one app's grant. The only
  API, `revokeSignInSessions`, signs the user out of *every* app and needs
  User.RevokeSessions.All, which ghostwatch has no business asking for
  (https://learn.microsoft.com/graph/api/user-revokesigninsessions). The entry is
  deleted and the user is told where consent is withdrawn: the My Apps portal for
  what they consented to themselves
  (https://support.microsoft.com/account-billing/edit-or-revoke-application-permissions-in-the-my-apps-portal-169be2b4-ee26-4338-aea8-d19bb2f329ee),
  an admin in Entra → Enterprise applications for the rest
  (https://learn.microsoft.com/entra/identity/enterprise-apps/manage-application-permissions).
- IMAP: a password has no protocol to revoke it; the entry is deleted and the user is
  told to revoke the app password where they made it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import structlog

from ghostwatch.errors import UserError
from ghostwatch.logs import silence_token_loggers
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.imap import signin as imap
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.vault.tokens import TokenVault

log = structlog.get_logger(__name__)

GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
GOOGLE_PERMISSIONS = "https://myaccount.google.com/permissions"
MY_APPS = "https://myapps.microsoft.com"
REVOKE_TIMEOUT = (10, 30)  # seconds to connect, to read


class RevocationFailed(UserError):
    """Google could not be asked to revoke the grant; the stored tokens were kept."""


class Revocation(Enum):
    REVOKED = "revoked"
    ALREADY_REVOKED = "already revoked"
    FAILED = "failed"


def forget_account(vault: TokenVault, account: str, *, local_only: bool = False) -> list[str]:
    """Revoke what can be revoked, delete what the vault holds; one line per entry.

    Raises RevocationFailed (and deletes nothing) when Google cannot be reached.
    """
    said = []
    google_entry = vault.get_json(google.entry_name(account))
    if google_entry is not None:
        said.append(_forget_google(vault, account, google_entry, local_only))
    microsoft_entry = vault.get_json(microsoft.entry_name(account))
    if microsoft_entry is not None:
        vault.delete(microsoft.entry_name(account))
        said.append(_microsoft_note(microsoft_entry))
    imap_entry = vault.get_json(imap.entry_name(account))
    if imap_entry is not None:
        vault.delete(imap.entry_name(account))
        said.append(
            f"IMAP password for {imap_entry.get('username')} deleted here; an app password "
            f"stays valid until you revoke it in {imap_entry.get('host')}'s account settings"
        )
    return said or ["nothing stored"]


def _forget_google(vault: TokenVault, account: str, entry: dict[str, Any], local_only: bool) -> str:
    if entry.get("kind") == "service_account":
        vault.delete(google.entry_name(account))
        return _service_account_note(entry)
    if local_only:
        vault.delete(google.entry_name(account))
        return (
            "Google tokens deleted here only; Google still honours the grant until it is "
            f"removed at {GOOGLE_PERMISSIONS}"
        )
    user = entry["authorized_user"]
    outcome, reason = revoke_google_token(user["token_uri"], user["refresh_token"])
    log.info("auth.google.revocation", account=account, outcome=outcome.value)
    if outcome is Revocation.FAILED:
        raise RevocationFailed(
            f"could not revoke account {account!r}'s Google grant ({reason}); its tokens are "
            "kept: run this again later, or add --local-only to delete them anyway and "
            f"then remove ghostwatch at {GOOGLE_PERMISSIONS}"
        )
    vault.delete(google.entry_name(account))
    if outcome is Revocation.ALREADY_REVOKED:
        return "Google grant was already revoked; tokens deleted"
    return "Google grant revoked; tokens deleted"


def _service_account_note(entry: dict[str, Any]) -> str:
    client_id = entry.get("key", {}).get("client_id", "?")
    return (
        f"service account key deleted (it acted as {entry.get('subject')}); a service account "
        "has no user grant to revoke: a Workspace admin removes client id "
        f"{client_id} under Security → API controls → Domain-wide delegation, "
        "and the key in Cloud console if nothing else uses it"
    )


def _microsoft_note(entry: dict[str, Any]) -> str:
    if entry.get("kind") == "app":
        return (
            "Microsoft client secret and tokens deleted here; the secret itself stays valid "
            f"until it is deleted in Entra → App registrations → {entry.get('client_id')} "
            "→ Certificates & secrets"
        )
    return (
        "Microsoft tokens deleted; Microsoft lets no app revoke its own grant, so remove "
        f"ghostwatch's permissions at {MY_APPS} (the app's … → Manage your application → "
        "Revoke permissions), or ask an admin (Entra → Enterprise applications → the app "
        "→ Permissions)"
    )


def revoke_uri_for(token_uri: str) -> str:
    """Google's revocation endpoint sits beside its token endpoint (…/token → …/revoke).

    Following the stored token URI keeps a legacy client file's host
    (accounts.google.com/o/oauth2/revoke) and reaches the sandbox in tests.
    """
    parts = urlsplit(token_uri)
    if not parts.path.endswith("/token"):
        return GOOGLE_REVOKE_URI
    path = parts.path.removesuffix("token") + "revoke"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def revoke_google_token(token_uri: str, token: str) -> tuple[Revocation, str]:
    """Ask Google to revoke `token`; the outcome, and why when it failed."""
    silence_token_loggers()
    uri = revoke_uri_for(token_uri)
    try:
        # In the body, never the query string: URLs end up in logs and error messages.
        answer = requests.post(
            uri,
            data={"token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=REVOKE_TIMEOUT,
        )
    except requests.RequestException as error:
        return Revocation.FAILED, f"cannot reach {urlsplit(uri).netloc}: {type(error).__name__}"
    return revocation_outcome(answer.status_code, _error_code(answer))


def revocation_outcome(status: int, error: str) -> tuple[Revocation, str]:
    """What Google's answer means: 200 revoked, 400 invalid_token already revoked."""
    if status == 200:
        return Revocation.REVOKED, ""
    if status == 400 and error == "invalid_token":
        return Revocation.ALREADY_REVOKED, ""
    return Revocation.FAILED, f"Google answered {status} {error}".rstrip()


def _error_code(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
