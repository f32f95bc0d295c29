"""Real Dovecot and Radicale servers for the IMAP provider's tests (`ghostwatch_sandbox`).

Without Dovecot on the machine every test that needs it is skipped from one line here
(`pytest -ra` then prints one line saying how to install it), never silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ghostwatch.providers.imap.calendar import CalDavCalendar
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch_sandbox.dovecot import INSTALL_HINT, Dovecot, dovecot_binary
from ghostwatch_sandbox.radicale import Radicale, radicale_available


def need_servers() -> None:
    """Skip (one reason for every test) when Dovecot or Radicale is missing."""
    if dovecot_binary() is None:
        pytest.skip(f"IMAP tests need a Dovecot server: {INSTALL_HINT}")
    if not radicale_available():
        pytest.skip("IMAP calendar tests need Radicale: pip install -e '.[dev]'")


@dataclass
class ImapAccount:
    """A mailbox on a real Dovecot, with its calendar on a real Radicale."""

    dovecot: Dovecot
    radicale: Radicale

    def login(self, port: int | None = None, **options: Any) -> ImapLogin:
        """Dovecot's own port, or another that leads to it (a test's proxy)."""
        server = self.dovecot
        return ImapLogin(server.host, server.user, server.password,
                         port=port or server.port, tls="none", **options)  # fmt: skip

    def session(self, retry: RetryPolicy | None = None, **options: Any) -> ImapSession:
        return ImapSession(self.login(**options), retry)

    def calendar(self) -> CalDavCalendar:
        return CalDavCalendar(self.radicale.url, self.radicale.user, self.radicale.password)

    def source(self, retry: RetryPolicy | None = None) -> ImapSource:
        return ImapSource(self.session(retry), self.calendar())


@contextmanager
def imap_account(seed: Path | None, **dovecot: Any) -> Iterator[ImapAccount]:
    """A Dovecot holding a copy of the Maildir `seed`, and a Radicale its calendar.ics."""
    need_servers()
    calendar = seed / "calendar.ics" if seed is not None else None
    ics = calendar.read_bytes() if calendar is not None and calendar.is_file() else None
    with ExitStack() as stack:
        server = stack.enter_context(Dovecot.serve(seed, **dovecot))
        dav = stack.enter_context(Radicale.serve(ics, user=server.user, password=server.password))
        yield ImapAccount(server, dav)
