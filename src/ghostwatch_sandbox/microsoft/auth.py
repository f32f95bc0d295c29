"""Bearer tokens for the Graph emulator: a fixed test token, and a pluggable check.

The sandbox accepts the tokens it was told about (`register`, e.g. `issue()` for tests),
and any token one of its verifiers vouches for: the identity-platform fake (helper
"auth", `sandbox/identity.py`) registers a verifier for the tokens it mints. A token is
delegated (`user` set: `/me` is that user) or app-only (`user` None: only `/users/{id}`
routes). A call without a valid token answers 401 InvalidAuthenticationToken.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ghostwatch_sandbox.microsoft.errors import unauthorized
from ghostwatch_sandbox.server import Request


@dataclass(frozen=True, slots=True)
class Principal:
    user: str | None
    """The signed-in user's UPN for a delegated token; None for an app-only token."""


Verifier = Callable[[str], Principal | None]


@dataclass
class GraphTokens:
    tokens: dict[str, Principal] = field(default_factory=dict)
    verifiers: list[Verifier] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, token: str, principal: Principal) -> str:
        with self._lock:
            self.tokens[token] = principal
        return token

    def issue(self, user: str | None) -> str:
        """A new token for `user` (None: app-only), as a test double hands out."""
        return self.register(
            f"eyJ0eXAiOiJKV1Qi.sandbox.{secrets.token_urlsafe(24)}", Principal(user)
        )

    def revoke(self, token: str) -> None:
        with self._lock:
            self.tokens.pop(token, None)

    def add_verifier(self, verifier: Verifier) -> None:
        with self._lock:
            self.verifiers.append(verifier)

    def principal_of(self, request: Request) -> Principal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized()
        with self._lock:
            known = self.tokens.get(token)
            verifiers = list(self.verifiers)
        for verify in verifiers:
            known = known or verify(token)
        if known is None:
            raise unauthorized("Lifetime validation failed, the token is expired.")
        return known
