"""OAuth 2.0 for the emulators: a token endpoint and bearer-token checks.

The token endpoint answers a refresh-token grant as Google's does
(https://developers.google.com/identity/protocols/oauth2/web-server#offline):
`{"access_token", "expires_in", "scope", "token_type": "Bearer"}`; a revoked or unknown
refresh token gets 400 `{"error": "invalid_grant", ...}`, which google-auth raises as
`RefreshError`. API calls without a live access token get 401 UNAUTHENTICATED with a
`WWW-Authenticate` header, which makes google-auth refresh and retry.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from ghostwatch.sandbox.server import ApiError, Request, Response

SCOPE = "https://www.googleapis.com/auth/gmail.modify"
CLIENT_ID = "ghostwatch-sandbox.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-secret"  # a test double's fixed value
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


@dataclass
class TokenIssuer:
    """Refresh tokens (one per grant) and the short-lived access tokens they mint."""

    lifetime: int = 3600
    clock: Callable[[], float] = time.time
    grants: dict[str, Grant] = field(default_factory=dict)
    _access: dict[str, tuple[Grant, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def grant(self, user: str, refresh_token: str | None = None) -> str:
        """A refresh token for `user` (as the consent screen would hand out)."""
        token = refresh_token or f"1//sandbox-{secrets.token_urlsafe(24)}"
        with self._lock:
            self.grants[token] = Grant(token, user)
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

    def token_endpoint(self, request: Request) -> Response:
        """POST /token, application/x-www-form-urlencoded (RFC 6749 §6)."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
        with self._lock:
            grant = self.grants.get(form.get("refresh_token", ""))
        if grant is None or grant.revoked:
            return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        token = self.access_token(grant.refresh_token)
        return Response.json(
            200,
            {
                "access_token": token,
                "expires_in": self.lifetime,
                "scope": SCOPE,
                "token_type": "Bearer",
            },
            {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"},
        )


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json(status, {"error": error, "error_description": description})
