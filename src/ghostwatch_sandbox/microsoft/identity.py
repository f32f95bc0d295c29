"""A Microsoft identity platform (Entra ID v2.0) emulator for msal, over real HTTP.

Routes, as https://learn.microsoft.com/entra/identity-platform/ documents them:
- GET  /{tenant}/v2.0/.well-known/openid-configuration   (OpenID Connect discovery)
- POST /{tenant}/oauth2/v2.0/devicecode                  (RFC 8628 §3.1-3.2)
- POST /{tenant}/oauth2/v2.0/token: client_credentials (RFC 6749 §4.4, `.default`
  scope, application permissions), refresh_token (§6), and the device-code grant
  (RFC 8628 §3.4-3.5: authorization_pending until the person signs in)
- GET  /common/discovery/instance                        (the instance discovery msal
  asks for when an authority's host is not one it knows)
Errors are Entra's JSON: `{"error", "error_description": "AADSTSnnnnn: …", "error_codes"}`.

msal refuses `http://` authorities, so the fake advertises its endpoints under the real
`https://login.microsoftonline.com` host, and tests hand msal `http_client()`: a requests
session that routes that host to this server and refuses everything else. Production
keeps msal's default client. Tokens it mints are vouched for to the Graph sandbox with
`graph.tokens.add_verifier(identity.verify)`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import requests

from ghostwatch_sandbox.google.auth import BEARER
from ghostwatch_sandbox.microsoft.auth import Principal
from ghostwatch_sandbox.server import Request, Response, hosted

PUBLIC_HOST = "https://login.microsoftonline.com"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_ROUTE = re.compile(
    r"/(?P<tenant>[^/]+)/(?P<what>v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token|oauth2/v2\.0/devicecode)"
)


@dataclass
class Client:
    client_id: str
    secret: str | None
    """None: a public client (device code); set: a confidential one (client credentials)."""


@dataclass
class DeviceSignIn:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires: float
    user: str | None = None
    declined: bool = False
    polls: int = 0


@dataclass
class Session:
    """What a refresh token stands for."""

    user: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


def oauth_error(error: str, code: int, description: str, status: int = 400) -> Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return Response.json(status, body)


@dataclass
class IdentitySandbox:
    domain: str = "ghostwatch.example"
    clock: Callable[[], float] = time.time
    lifetime: int = 3600
    interval: int = 5
    """Seconds msal waits between device-code polls (Entra says 5; tests say 1)."""
    signs_in_as: str | None = None
    """The person who completes device sign-ins on their own, after `pending_polls` polls."""
    pending_polls: int = 1
    tenant_id: str = "5f2b7c1e-0d3a-4e8b-9c61-7a4f0e2d9b10"
    clients: dict[str, Client] = field(default_factory=dict)
    sign_ins: dict[str, DeviceSignIn] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    access: dict[str, tuple[Principal, float, str | None]] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)
    """What the token and discovery endpoints answered, in order ("ok" or the error)."""
    url: str = ""
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def serve(cls, **options: Any) -> AbstractContextManager[IdentitySandbox]:
        return hosted(cls(**options))

    # -- test controls ------------------------------------------------------------------
    def register(self, client_id: str, secret: str | None = None) -> None:
        self.clients[client_id] = Client(client_id, secret)

    def approve(self, user_code: str, user: str) -> None:
        """The person enters the code at the verification page and signs in."""
        with self._lock:
            self._by_user_code(user_code).user = user

    def decline(self, user_code: str) -> None:
        with self._lock:
            self._by_user_code(user_code).declined = True

    def revoke(self, user: str) -> None:
        """Revoke every session of `user` (password reset, admin "revoke sessions")."""
        with self._lock:
            for session in self.sessions.values():
                session.revoked = session.revoked or session.user == user
            self.access = {
                t: a for t, a in self.access.items() if a[2] is None or a[0].user != user
            }

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.access.clear()

    def verify(self, token: str) -> Principal | None:
        """A Graph sandbox verifier: who a live access token of ours stands for."""
        with self._lock:
            found = self.access.get(token)
        return found[0] if found is not None and found[1] > self.clock() else None

    def http_client(self) -> requests.Session:
        return RoutedSession({PUBLIC_HOST: self.url})

    def _by_user_code(self, user_code: str) -> DeviceSignIn:
        return next(s for s in self.sign_ins.values() if s.user_code == user_code)

    # -- HTTP ---------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path == "/common/discovery/instance" and request.method == "GET":
            self.answers.append("instance_discovery")
            return self._instance_discovery()
        found = _ROUTE.fullmatch(request.path)
        if found is None:
            return oauth_error("invalid_request", 900561, "The endpoint only accepts POST.", 404)
        tenant, what = found["tenant"], found["what"]
        if tenant not in (self.tenant_id, self.domain, "common", "organizations"):
            return oauth_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        if what.endswith("openid-configuration") and request.method == "GET":
            return Response.json(200, self._configuration(tenant))
        if request.method != "POST":
            return oauth_error("invalid_request", 900561, "The endpoint only accepts POST.")
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        with self._lock:
            if what.endswith("devicecode"):
                return self._device_code(form)
            answer = self._token(tenant, form)
            self.answers.append(json.loads(answer.body).get("error", "ok"))
            return answer

    def _configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{PUBLIC_HOST}/{tenant}"
        return {
            "issuer": f"{PUBLIC_HOST}/{self.tenant_id}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    def _instance_discovery(self) -> Response:
        host = PUBLIC_HOST.removeprefix("https://")
        return Response.json(
            200,
            {
                "tenant_discovery_endpoint": (
                    f"{PUBLIC_HOST}/{self.tenant_id}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            },
        )

    def _device_code(self, form: dict[str, str]) -> Response:
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            return _unknown_client(form)
        user_code = secrets.token_hex(4).upper()
        sign_in = DeviceSignIn(
            f"DAQABAAEAAAD-{secrets.token_urlsafe(32)}",
            user_code,
            client.client_id,
            tuple(form.get("scope", "").split()),
            self.clock() + 900,
        )
        self.sign_ins[sign_in.device_code] = sign_in
        verification = "https://microsoft.com/devicelogin"
        return Response.json(
            200,
            {
                "user_code": user_code,
                "device_code": sign_in.device_code,
                "verification_uri": verification,
                "expires_in": 900,
                "interval": self.interval,
                "message": f"To sign in, use a web browser to open the page {verification} "
                f"and enter the code {user_code} to authenticate.",
            },
        )

    def _token(self, tenant: str, form: dict[str, str]) -> Response:
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(tenant, form)
        if grant == "refresh_token":
            return self._refresh(form)
        if grant == DEVICE_CODE_GRANT:
            return self._device_poll(form)
        return oauth_error(
            "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )

    def _client_credentials(self, tenant: str, form: dict[str, str]) -> Response:
        client = self.clients.get(form.get("client_id", ""))
        if client is None or client.secret is None:
            return _unknown_client(form)
        if not secrets.compare_digest(form.get("client_secret", ""), client.secret):
            return oauth_error(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
                401,
            )
        if tenant in ("common", "organizations"):
            return oauth_error(
                "invalid_request", 1002012, "Use a tenant-specific endpoint for client credentials."
            )
        if not form.get("scope", "").endswith("/.default"):
            return oauth_error(
                "invalid_scope", 1002012, "The provided value for scope is not valid."
            )
        token = self._mint(Principal(None), None)
        return Response.json(
            200,
            {
                "token_type": BEARER,
                "expires_in": self.lifetime,
                "ext_expires_in": self.lifetime,
                "access_token": token,
            },
        )

    def _device_poll(self, form: dict[str, str]) -> Response:
        sign_in = self.sign_ins.get(form.get("device_code", ""))
        if sign_in is None or sign_in.client_id != form.get("client_id"):
            return oauth_error("invalid_grant", 70000, "The provided device code is not valid.")
        sign_in.polls += 1
        if sign_in.user is None and self.signs_in_as and sign_in.polls > self.pending_polls:
            sign_in.user = self.signs_in_as
        if sign_in.declined:
            return oauth_error("authorization_declined", 70019, "The end user denied the request.")
        if sign_in.expires <= self.clock():
            return oauth_error(
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is expired.",
            )
        if sign_in.user is None:
            return oauth_error(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        del self.sign_ins[sign_in.device_code]
        session = Session(sign_in.user, sign_in.client_id, _granted(sign_in.scopes))
        return self._user_tokens(session)

    def _refresh(self, form: dict[str, str]) -> Response:
        session = self.sessions.get(form.get("refresh_token", ""))
        if session is None or session.client_id != form.get("client_id"):
            return oauth_error(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if session.revoked:
            return oauth_error(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token "
                "is needed.",
            )
        asked = _granted(tuple(form.get("scope", "").split()))
        if not set(asked) <= set(session.scopes):
            return oauth_error(
                "invalid_grant",
                65001,
                "The user or administrator has not consented to use the application.",
            )
        return self._user_tokens(Session(session.user, session.client_id, session.scopes))

    def _user_tokens(self, session: Session) -> Response:
        refresh = f"0.ARsA-{secrets.token_urlsafe(48)}"
        self.sessions[refresh] = session
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, session.user))
        access = self._mint(Principal(session.user), refresh)
        return Response.json(
            200,
            {
                "token_type": BEARER,
                "scope": " ".join((*session.scopes, "openid", "profile")),
                "expires_in": self.lifetime,
                "ext_expires_in": self.lifetime,
                "access_token": access,
                "refresh_token": refresh,
                "id_token": self._id_token(session, oid),
                "client_info": _b64(json.dumps({"uid": oid, "utid": self.tenant_id})),
            },
        )

    def _mint(self, principal: Principal, refresh: str | None) -> str:
        token = f"eyJ0eXAiOiJKV1QiLCJub25jZSI6.identity.{secrets.token_urlsafe(32)}"
        self.access[token] = (principal, self.clock() + self.lifetime, refresh)
        return token

    def _id_token(self, session: Session, oid: str) -> str:
        now = int(self.clock())
        claims = {
            "aud": session.client_id,
            "iss": f"{PUBLIC_HOST}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "name": session.user.split("@")[0].title(),
            "oid": oid,
            "preferred_username": session.user,
            "sub": _b64(oid),
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        # Unsigned: msal does not validate id tokens (its own docs say the app would).
        return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{_b64(json.dumps(claims))}."


def _granted(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(scope for scope in scopes if scope not in RESERVED_SCOPES)


def _unknown_client(form: dict[str, str]) -> Response:
    return oauth_error(
        "unauthorized_client",
        700016,
        f"Application with identifier '{form.get('client_id', '')}' was not found in the "
        "directory.",
    )


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


class RoutedSession(requests.Session):
    """msal's `http_client` in tests: the public identity host goes to the local fake.

    Any other address is refused, so a test can never reach the real service.
    """

    def __init__(self, routes: dict[str, str]) -> None:
        super().__init__()
        self.routes = routes

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        return super().request(method, self._local(str(url)), *args, **kwargs)

    def _local(self, url: str) -> str:
        for public, local in self.routes.items():
            if url == public or url.startswith(public + "/"):
                return local + url[len(public) :]
        raise requests.ConnectionError(f"{url} is not routed to a sandbox")
