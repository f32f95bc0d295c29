"""OAuth 2.0 for the emulators: consent, a token endpoint and bearer-token checks.

The token endpoint answers a refresh-token grant as Google's does
(https://developers.google.com/identity/protocols/oauth2/web-server#offline):
`{"access_token", "expires_in", "scope", "token_type": "Bearer"}`; a revoked or unknown
refresh token gets 400 `{"error": "invalid_grant", ...}`, which google-auth raises as
`RefreshError`. API calls without a live access token get 401 UNAUTHENTICATED with a
`WWW-Authenticate` header, which makes google-auth refresh and retry.

Sign-in, as google-auth-oauthlib's InstalledAppFlow drives it
(`ghostwatch.providers.google.signin`): the authorization endpoint consents at once for the
signed-in user and redirects with a code; the token endpoint exchanges it (PKCE S256,
RFC 7636) for a refresh token.
Domain-wide delegation: the JWT-bearer grant (RFC 7523) signed RS256 by a service
account the sandbox trusts, minting access tokens for the `sub` mailbox.

Revocation, as Google's endpoint answers it (RFC 7009;
https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke):
POST /revoke with `token` (a refresh or an access token) form-encoded (or in the query,
as Google's curl example sends it) ends the whole grant and answers 200; a token that is
unknown or already revoked gets 400 `{"error": "invalid_token"}`. No client
authentication: Google asks for none.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote_plus

from ghostwatch_sandbox.google import consent
from ghostwatch_sandbox.google.consent import (
    AUTHORIZE_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    Consent,
    ServiceAccount,
    oauth_error,
)
from ghostwatch_sandbox.server import ApiError, Request, Response

SCOPE = "https://www.googleapis.com/auth/gmail.modify"
BEARER = "Bearer"  # the token type of RFC 6750 §4
REVOKE_PATH = "/revoke"  # beside /token, as oauth2.googleapis.com has them
_INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


@dataclass
class Grant:
    refresh_token: str
    user: str
    revoked: bool = False
    scopes: tuple[str, ...] = (SCOPE,)


@dataclass
class TokenIssuer:
    """Refresh tokens (one per grant) and the short-lived access tokens they mint."""

    lifetime: int = 3600
    signed_in: str = ""
    """The person the authorization endpoint consents for."""
    refuse_consent: bool = False
    """The person clicks "Cancel" on the consent screen."""
    withheld: frozenset[str] = frozenset()
    """Scopes the person unticks on Google's granular consent screen."""
    clock: Callable[[], float] = time.time
    grants: dict[str, Grant] = field(default_factory=dict)
    _access: dict[str, tuple[Grant, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    consents: dict[str, Consent] = field(default_factory=dict)
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)

    def grant(
        self, user: str, refresh_token: str | None = None, scopes: tuple[str, ...] = (SCOPE,)
    ) -> str:
        """A refresh token for `user` (as the consent screen would hand out)."""
        token = refresh_token or f"1//sandbox-{secrets.token_urlsafe(24)}"
        with self._lock:
            self.grants[token] = Grant(token, user, scopes=scopes)
        return token

    def access_token(self, refresh_token: str) -> str:
        """Mint an access token directly (tests that do not exercise refresh)."""
        with self._lock:
            grant = self.grants[refresh_token]
            token = f"ya29.sandbox-{secrets.token_urlsafe(24)}"
            self._access[token] = (grant, self.clock() + self.lifetime)
        return token

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self.grants[refresh_token].revoked = True

    def live_grant(self, token: str) -> Grant | None:
        """The unrevoked grant a refresh token or a live access token belongs to."""
        with self._lock:
            grant = self.grants.get(token)
            if grant is None and token in self._access:
                grant, expires = self._access[token]
                grant = grant if expires > self.clock() else None
        return grant if grant is not None and not grant.revoked else None

    def expire_access_tokens(self) -> None:
        """Make every access token stale, as if an hour had passed."""
        with self._lock:
            self._access.clear()

    def user_of(self, request: Request) -> str:
        """The user a request's bearer token belongs to, or the 401 Google answers."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            entry = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[0].revoked or entry[1] <= self.clock():
            raise ApiError(
                401,
                _INVALID_CREDENTIALS,
                "authError",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                location="Authorization",
                locationType="header",
            )
        return entry[0].user

    def handle(self, request: Request) -> Response | None:
        """The sign-in routes, or None for an API call."""
        if request.path == AUTHORIZE_PATH and request.method == "GET":
            return consent.authorize(self, request)
        if request.path == "/token" and request.method == "POST":
            return self.token_endpoint(request)
        if request.path == REVOKE_PATH and request.method == "POST":
            return self.revoke_endpoint(request)
        return None

    def revoke_endpoint(self, request: Request) -> Response:
        """POST /revoke (RFC 7009 §2.1): the grant behind `token` ends, with its tokens."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        token = form.get("token") or request.param("token") or ""
        if not token:
            return oauth_error("invalid_request", "Missing required parameter: token")
        grant = self.live_grant(token)
        if grant is None:
            return oauth_error("invalid_token", "Token expired or revoked")
        self.revoke(grant.refresh_token)
        return Response.json(200, {})

    def trust(self, account: ServiceAccount) -> None:
        """Accept JWT-bearer assertions this service account signs."""
        self.service_accounts[account.email] = account

    def token_endpoint(self, request: Request) -> Response:
        """POST /token, application/x-www-form-urlencoded (RFC 6749 §6)."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        grant_type = form.get("grant_type")
        if grant_type == consent.JWT_BEARER:
            return consent.jwt_bearer(self, request, form)
        if grant_type not in ("refresh_token", "authorization_code"):
            return oauth_error("unsupported_grant_type", "Invalid grant_type.")
        if _client(request, form) != (CLIENT_ID, CLIENT_SECRET):
            return oauth_error("invalid_client", "The OAuth client was not found.", 401)
        if grant_type == "authorization_code":
            return consent.exchange_code(self, form)
        with self._lock:
            grant = self.grants.get(form.get("refresh_token", ""))
        if grant is None or grant.revoked:
            return oauth_error("invalid_grant", "Token has been expired or revoked.")
        return self.token_response(grant)

    def token_response(self, grant: Grant, *, with_refresh: bool = False) -> Response:
        """RFC 6749 §5.1: the access token, its lifetime and the granted scopes."""
        body = {
            "access_token": self.access_token(grant.refresh_token),
            "expires_in": self.lifetime,
            "scope": " ".join(grant.scopes),
            "token_type": BEARER,
        }
        if with_refresh:
            body["refresh_token"] = grant.refresh_token
        return Response.json(
            200, body, {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"}
        )


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from HTTP Basic or the form body (RFC 6749 §2.3.1 allows both)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        client_id, _, secret = pair.partition(":")
        return (unquote_plus(client_id), unquote_plus(secret))
    return (form.get("client_id", ""), form.get("client_secret", ""))
