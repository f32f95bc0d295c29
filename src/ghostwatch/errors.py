"""One error tree. `UserError` means the user can fix it; its message says how."""

from __future__ import annotations


class GhostwatchError(Exception):
    """Base of every error ghostwatch raises on purpose."""


class UserError(GhostwatchError):
    """Bad input, bad configuration or a missing file: exit code 2, no traceback."""


class MailboxError(UserError):
    """A mailbox that cannot be read as asked (not a Maildir, unreadable, ...)."""
