"""What goes wrong with credentials, named so the CLI and the daemon can say how to fix it."""

from __future__ import annotations

from ghostwatch.errors import GhostwatchError, UserError

KEY_HOWTO = (
    "make one with `ghostwatch auth key` and put it in GHOSTWATCH_SECRET_KEY, "
    "or in a file named by GHOSTWATCH_SECRET_KEY_FILE"
)


class MissingKey(UserError):
    """No encryption key: tokens are never stored in clear."""


class BadKey(UserError):
    """The key given is not a Fernet key."""


class WrongKey(UserError):
    """A vault file that the key given cannot decrypt (another key, or tampered with)."""


class NotSignedIn(UserError):
    """The vault holds no credentials for the account."""


class TokenRevoked(UserError):
    """The provider refused the stored grant (revoked, expired or password changed)."""


class ConsentMissing(UserError):
    """The stored grant lacks a scope or permission the account's settings need."""


class SignInFailed(UserError):
    """A sign-in the person or the admin can retry or fix (denied consent, bad secret...)."""


class IdentityUnavailable(GhostwatchError):
    """The identity provider could not be reached or answered nonsense: retry later."""
