"""One error tree. `UserError` means the user can fix it; its message says how.

    GhostwatchError                   every error ghostwatch raises on purpose
    ├── UserError                     exit code 2 and one line, never a traceback
    │   ├── MailboxError              a Maildir that cannot be read as asked
    │   ├── ConfigError               config/load.py: every problem of a settings file at once
    │   ├── MissingKey, BadKey, WrongKey          the vault's key
    │   ├── NotSignedIn, TokenRevoked, ConsentMissing, SignInFailed   a sign-in to redo
    │   ├── WrongMailbox              service/wiring.py: signed in as another address
    │   ├── ForeignEntry              vault/tokens.py: a vault entry written for another account
    │   ├── RevocationFailed          service/forget.py: the provider kept a grant
    │   ├── TemplateProblem           compose/templating.py: a template that cannot render
    │   └── StoreUnavailable          (also a StoreError) the database, at start
    ├── StoreError                    the database failed mid-run: the next cycle retries
    │   └── LeaseLost                 store/leases.py: another replica holds the account now
    ├── LedgerError                   store/ledger.py: an action ledger entry out of order
    ├── IdentityUnavailable           a sign-in service that did not answer: retry later
    ├── UnsafeItem                    mail/outgoing.py: one item that cannot be written safely
    └── ProviderError                 a mailbox or calendar API failed: the next cycle retries
        ├── CursorExpired             a sync cursor too old to continue from: read again
        ├── TooLongToWait             providers/retry.py: a wait longer than we will sleep
        ├── GoogleApiError            providers/google/api.py
        │   ├── GmailError            providers/google/gmail.py
        │   └── CalendarError         providers/google/calendar.py
        ├── OutlookError              providers/microsoft/graph.py
        │   └── GraphUnreachable      no answer, or one cut short
        ├── ImapError                 providers/imap/session.py: a command refused (NO, BAD)
        │   └── ImapUnreachable       no connection, or one cut short
        └── CalDavError               providers/imap/calendar.py

Errors are translated at the edge where a library raises them (`raise … from`), so nothing
above a provider or the store sees a library's own exception; `unreachable` words a network
failure in one line for those messages. The command line prints every `GhostwatchError` as
one line and exit code 2 (cli/errors.py), so a message here must say what to do.
"""

from __future__ import annotations

import re


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


class LeaseLost(StoreError):
    """This replica no longer holds the account's lease (it expired while the process
    was paused or cut off, or the account went to another replica): whatever it was
    about to record or do is refused, and the replica that holds it now carries on."""


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


class TemplateProblem(UserError):
    """A template in the user's templates folder names a value it is not given, or does
    not parse: the message names the file, the line and the values that template gets."""


class WrongMailbox(UserError):
    """The signed-in mailbox is not the account's configured address: reading it would
    follow up someone else's conversations and put drafts in their mailbox."""


class ForeignEntry(UserError):
    """A vault entry that was written for another account (copied or renamed on disk)."""


class IdentityUnavailable(GhostwatchError):
    """The identity provider could not be reached or answered nonsense: retry later."""


class UnsafeItem(GhostwatchError):
    """One message, meeting or draft that cannot be handled safely (an address a header
    cannot carry): the cycle skips that item, says so in the digest, and goes on."""


class ProviderError(GhostwatchError):
    """A mailbox or calendar API answered with an error ghostwatch cannot work around now."""


class CursorExpired(ProviderError):
    """A sync cursor is too old to continue from (Gmail 404 on `history.list`, Calendar 410
    on a sync token, Graph 410 or `syncStateNotFound` on a delta link): read that
    collection in full again."""


# urllib3 words a failed connection as "<urllib3.connection.HTTPSConnection object at
# 0x7f…>: Failed to resolve 'host' (…)", wrapped in a MaxRetryError wrapped in requests'
# ConnectionError: the innermost reason, without the object's repr, is the useful part.
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>: ")


def unreachable(error: BaseException) -> str:
    """The innermost reason of a network failure, one line: "Failed to resolve 'host'
    ([Errno -2] Name or service not known)", "[Errno 111] Connection refused"."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        # urllib3's MaxRetryError keeps `reason`, its ProxyError `original_error`.
        inner = getattr(error, "reason", None) or getattr(error, "original_error", None)
        if not isinstance(inner, BaseException) and error.args:
            inner = error.args[0]  # requests' ConnectionError wraps the MaxRetryError
        if not isinstance(inner, BaseException):
            break
        error = inner
    text = _OBJECT_REPR.sub("", str(error)) or type(error).__name__
    return " ".join(text.split())
