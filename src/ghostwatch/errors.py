"""One error tree. `UserError` means the user can fix it; its message says how."""

from __future__ import annotations


class GhostwatchError(Exception):
    """Base of every error ghostwatch raises on purpose."""


class UserError(GhostwatchError):
    """Bad input, bad configuration or a missing file: exit code 2, no traceback."""


class MailboxError(UserError):
    """A mailbox that cannot be read as asked (not a Maildir, unreadable, ...)."""


class StoreError(GhostwatchError):
    """The database failed: it does not answer, or its file or folder cannot be used.
    The message names the database (never its password), the driver's one-line reason and
    what to check. Mid-run it is an outage: the cycle fails and the next one retries."""


class StoreUnavailable(StoreError, UserError):
    """The database cannot be opened or migrated at start: a setting to fix or a server to
    start, so the command line ends with its message and exit code 2."""


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
