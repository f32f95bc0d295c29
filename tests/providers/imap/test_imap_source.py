"""The IMAP provider's read side against a real Dovecot (and Radicale for the calendar)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ghostwatch.providers.port import MailSource
from tests.contracts.contract_mail_source import MailSourceContract
from tests.support.imap_servers import imap_account

pytestmark = pytest.mark.server


class TestImapContract(MailSourceContract):
    """The IMAP provider presents the seeded Maildir through Dovecot and Radicale."""

    @pytest.fixture(autouse=True)
    def _servers(self) -> Iterator[None]:
        self.stack = ExitStack()
        with self.stack:
            yield

    def open_source(self, maildir: Path) -> MailSource:
        return self.stack.enter_context(imap_account(maildir)).source()
