"""One IMAP connection, opened on demand, counted, and its failures named ghostwatch's way.

IMAPClient (https://imapclient.readthedocs.io) speaks the protocol over imaplib. The
session adds what the provider needs around it:

- **TLS required** (RFC 8314): IMAPS, or STARTTLS before the password is sent. Plain
  IMAP is refused except to a loopback address, where no network can read it.
- **Reconnection**: a dropped connection (a server restart, a timeout, a NAT dropping an
  idle flow) is closed and the next call opens a new one. Reads run through the shared
  retry policy (`providers/retry.py`) and are retried after a drop; writes are not
  (`idempotent=False`): an APPEND whose answer was lost may have happened, and the
  cycle's ledger asks the mailbox before making it again.
- **Counting** (`Wire`): tagged commands, and round trips — the times the client waited
  for the server after sending — so the benchmark and the tests can hold an idle poll
  to one round trip without trusting a timer.
- **Errors** leave as `ImapError` (a `ProviderError`), `ImapUnreachable` for a
  connection that failed, or `TokenRevoked` for a refused password.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from ghostwatch.errors import ProviderError, TokenRevoked, UserError
from ghostwatch.providers.retry import Retry, RetryPolicy

log = structlog.get_logger(__name__)
T = TypeVar("T")

TLS_MODES = ("imaps", "starttls", "none")
DEFAULT_TIMEOUT = 60.0


class ImapError(ProviderError):
    """The IMAP server refused a command (NO, BAD) or answered what we cannot read."""


class ImapUnreachable(ImapError):
    """No connection, or one cut short: the next call (or cycle) opens a new one."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ImapLogin:
    """Where and as whom to sign in; the password comes from the vault."""

    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    tls: str = "imaps"
    ca_file: str | None = None
    """A certificate authority to trust besides the system's (a self-hosted server)."""
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise UserError(f"IMAP tls must be one of {', '.join(TLS_MODES)}, not {self.tls!r}")
        if self.tls == "none" and not is_loopback(self.host):
            raise UserError(
                f"refusing to send the password for {self.host} without TLS: use tls: imaps "
                "(port 993) or tls: starttls (port 143); plain IMAP is allowed on loopback only"
            )


@dataclass(slots=True)
class Wire:
    """What the client sent: tagged commands and round trips (waits for an answer)."""

    commands: int = 0
    round_trips: int = 0
    _sent: bool = False

    def attach(self, imap: Any) -> None:
        """Count on imaplib's own calls (instance attributes shadow its methods)."""
        send, readline, new_tag = imap.send, imap.readline, imap._new_tag

        def counted_send(data: bytes) -> None:
            self._sent = True
            send(data)

        def counted_readline() -> bytes:
            if self._sent:
                self.round_trips += 1
                self._sent = False
            line: bytes = readline()
            return line

        def counted_tag() -> bytes:
            self.commands += 1
            tag: bytes = new_tag()
            return tag

        imap.send, imap.readline, imap._new_tag = counted_send, counted_readline, counted_tag

    def snapshot(self) -> tuple[int, int]:
        return self.commands, self.round_trips


def _advice(error: BaseException) -> Retry | None:
    """A dropped connection is worth a new one; a refusal (NO, BAD) is not."""
    return Retry() if isinstance(error, ImapUnreachable) else None


class ImapSession:
    """A lazily opened, self-healing IMAP connection (see the module's docstring)."""

    def __init__(self, login: ImapLogin, retry: RetryPolicy | None = None) -> None:
        self.login = login
        self.retry = retry or RetryPolicy(attempts=3, base=0.5, cap=5.0)
        self.wire = Wire()
        self._client: IMAPClient | None = None
        self.capabilities: frozenset[str] = frozenset()

    # --- running commands -----------------------------------------------------------------

    def call(self, work: Callable[[IMAPClient], T], *, idempotent: bool = True) -> T:
        """`work` on a live connection; after a drop, again on a new one — unless it is
        a write that is not `idempotent`: an APPEND whose answer was lost may have
        happened, and the cycle's ledger asks the mailbox before making it again."""
        return self.retry.call(lambda: self._run(work), _advice, idempotent=idempotent)

    def _run(self, work: Callable[[IMAPClient], T]) -> T:
        try:
            return work(self.client())
        except (IMAPClientAbortError, OSError, EOFError) as error:
            self.drop()
            raise ImapUnreachable(f"IMAP connection to {self.login.host} lost: {error}") from error
        except LoginError as error:
            raise self._refused(error) from error
        except IMAPClientError as error:
            raise ImapError(f"IMAP server {self.login.host}: {_one_line(error)}") from error

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # --- the connection -------------------------------------------------------------------

    def client(self) -> IMAPClient:
        if self._client is None:
            self._client = self._open()
        return self._client

    def _open(self) -> IMAPClient:
        login = self.login
        context = self._tls_context()
        try:
            client = IMAPClient(login.host, port=login.port, ssl=login.tls == "imaps",
                                ssl_context=context, timeout=login.timeout)  # fmt: skip
            self.wire.attach(client._imap)
            if login.tls == "starttls":
                client.starttls(context)
            client.login(login.username, login.password)
        except LoginError as error:
            raise self._refused(error) from error
        except (IMAPClientError, OSError, EOFError) as error:
            raise ImapUnreachable(
                f"cannot reach IMAP at {login.host}:{login.port}: {error}"
            ) from error
        self.capabilities = frozenset(c.decode().upper() for c in client.capabilities())
        if self.has("QRESYNC"):
            # Once per connection, before any EXAMINE (RFC 7162 §3.2.3): expunges are
            # then told as UID sets (VANISHED), which a poll can read back later.
            client.enable("QRESYNC")
        log.info("imap_connected", host=login.host, tls=login.tls)
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.login.tls == "none":
            return None
        return ssl.create_default_context(cafile=self.login.ca_file)

    def _refused(self, error: BaseException) -> TokenRevoked:
        return TokenRevoked(
            f"the IMAP server {self.login.host} refused the password for "
            f"{self.login.username} ({_one_line(error)}): store a new one with "
            "`ghostwatch auth imap`"
        )

    def drop(self) -> None:
        """Forget the connection (closing it quietly if it still answers)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError, IMAPClientError, socket.error):
                client.shutdown()

    def close(self) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(OSError, IMAPClientError, EOFError):
                client.logout()
        self.drop()


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]
