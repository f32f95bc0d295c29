"""Sign-in for the Google sandbox: the consent redirect, the code exchange, delegation.

- GET /o/oauth2/auth (Google's `auth_uri`): the signed-in user consents at once and is
  redirected to the loopback `redirect_uri` with `code` and `state` (RFC 6749 §4.1.2),
  or with `error=access_denied` when the test says the person refuses.
- grant_type=authorization_code: one use, same redirect_uri, PKCE S256 (RFC 7636 §4.6),
  answered with a refresh token and exactly the scopes consented to.
- grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523): an RS256 JWT from
  a trusted service account, checked like Google does (signature, `aud` = Google's token URI,
  at most an hour long), minting an access token for the `sub` mailbox when the admin
  delegated the scopes (else 401 unauthorized_client, as Google answers).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ghostwatch_sandbox.server import Request, Response

# The OAuth client the sandbox knows (an installed app's id and secret, as a downloaded
# client_secrets.json carries them). The sandbox's fixed values guard nothing real.
CLIENT_ID = "ghostwatch-sandbox.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-secret"  # nosec B105


class TokenIssuer(Protocol):
    """What consent and the JWT grant ask of the token endpoint (auth.TokenIssuer): its
    people, codes and service accounts, and minting a token for a user."""

    signed_in: str
    refuse_consent: bool
    withheld: frozenset[str]

    @property
    def clock(self) -> Callable[[], float]: ...

    consents: dict[str, Consent]
    grants: dict[str, Any]
    service_accounts: dict[str, ServiceAccount]

    def grant(
        self, user: str, refresh_token: str | None = None, scopes: tuple[str, ...] = ...
    ) -> str: ...

    def token_response(self, grant: Any, *, with_refresh: bool = False) -> Response: ...


AUTHORIZE_PATH = "/o/oauth2/auth"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CODE_LIFETIME = 600
# An endpoint address, not a credential.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # nosec B105
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Consent:
    """An authorization code not yet exchanged."""

    user: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str
    expires: float


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    client_id: str
    public_key_pem: bytes
    delegated_scopes: frozenset[str] | None = None
    """What a Workspace admin delegated to `client_id`; None: no delegation at all."""


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


def authorize(issuer: TokenIssuer, request: Request) -> Response:
    redirect = request.param("redirect_uri") or ""
    if request.param("client_id") != CLIENT_ID:
        return oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if urlsplit(redirect).scheme != "http" or urlsplit(redirect).hostname not in _LOOPBACK:
        return oauth_error("invalid_request", "redirect_uri must be a loopback address.")
    state = request.param("state") or ""
    if issuer.refuse_consent:
        return _redirect(redirect, {"error": "access_denied", "state": state})
    if request.param("code_challenge_method") != "S256" or not request.param("code_challenge"):
        return oauth_error("invalid_request", "PKCE with S256 is required for this client.")
    asked = (request.param("scope") or "").split()
    scopes = tuple(scope for scope in asked if scope not in issuer.withheld)
    code = f"4/sandbox-{secrets.token_urlsafe(24)}"
    issuer.consents[code] = Consent(
        issuer.signed_in,
        redirect,
        scopes,
        request.param("code_challenge") or "",
        issuer.clock() + CODE_LIFETIME,
    )
    return _redirect(redirect, {"state": state, "code": code, "scope": " ".join(scopes)})


def _redirect(redirect_uri: str, query: dict[str, str]) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return Response(302, headers={"Location": f"{redirect_uri}{separator}{urlencode(query)}"})


def exchange_code(issuer: TokenIssuer, form: dict[str, str]) -> Response:
    consent = issuer.consents.pop(form.get("code", ""), None)
    if consent is None or consent.expires <= issuer.clock():
        return oauth_error("invalid_grant", "Malformed auth code.")
    if form.get("redirect_uri") != consent.redirect_uri:
        return oauth_error("redirect_uri_mismatch", "Bad Request")
    if _s256(form.get("code_verifier", "")) != consent.challenge:
        return oauth_error("invalid_grant", "Invalid code verifier.")
    token = issuer.grant(consent.user, scopes=consent.scopes)
    return issuer.token_response(issuer.grants[token], with_refresh=True)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwt_bearer(issuer: TokenIssuer, request: Request, form: dict[str, str]) -> Response:
    claims = _verified_claims(issuer, request, form.get("assertion", ""))
    if isinstance(claims, Response):
        return claims
    account = issuer.service_accounts[claims["iss"]]
    scopes = tuple(str(claims.get("scope", "")).split())
    if claims.get("sub") and not _delegated(account, scopes):
        return oauth_error(
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client "
            "not authorized for any of the scopes requested.",
            401,
        )
    token = issuer.grant(str(claims.get("sub") or account.email), scopes=scopes)
    return issuer.token_response(issuer.grants[token])


def _delegated(account: ServiceAccount, scopes: tuple[str, ...]) -> bool:
    allowed = account.delegated_scopes
    return allowed is not None and bool(scopes) and set(scopes) <= allowed


def _verified_claims(
    issuer: TokenIssuer, request: Request, assertion: str
) -> dict[str, Any] | Response:
    parts = assertion.split(".")
    if len(parts) != 3:
        return oauth_error("invalid_grant", "Invalid JWT: malformed assertion.")
    try:
        header, claims = (json.loads(_unb64(part)) for part in parts[:2])
    except ValueError:
        return oauth_error("invalid_grant", "Invalid JWT: malformed assertion.")
    account = issuer.service_accounts.get(str(claims.get("iss")))
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    if account is None or header.get("alg") != "RS256":
        return oauth_error("invalid_grant", "Invalid JWT Signature.")
    if not _signature_ok(account, signed, _unb64(parts[2])):
        return oauth_error("invalid_grant", "Invalid JWT Signature.")
    return _timely(issuer, request, claims)


def _timely(
    issuer: TokenIssuer, request: Request, claims: dict[str, Any]
) -> dict[str, Any] | Response:
    # google-auth signs for Google's token URI whatever token_uri it posts to.
    audiences = (GOOGLE_TOKEN_URI, f"http://{request.headers.get('host', '')}{request.path}")
    if claims.get("aud") not in audiences:
        return oauth_error("invalid_grant", "Invalid JWT: audience is not the token URI.")
    now, issued, expires = issuer.clock(), claims.get("iat", 0), claims.get("exp", 0)
    if not (issued - 300 <= now < expires) or expires - issued > 3600:
        return oauth_error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
            "reasonable timeframe. Check your iat and exp values in the JWT claim.",
        )
    return claims


def _signature_ok(account: ServiceAccount, signed: bytes, signature: bytes) -> bool:
    key = serialization.load_pem_public_key(account.public_key_pem)
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
