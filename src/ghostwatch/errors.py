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
