"""The Gmail provider against the Gmail sandbox, over real HTTP with the real client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostwatch.providers.google.calendar import GoogleCalendar, calendar_service, meet_service
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.port import MailSource
from ghostwatch_sandbox.google import GmailSandbox
from tests.contracts.contract_mail_source import MailSourceContract
from tests.support.builder import ME
from tests.support.sandbox_fixtures import client


class TestGmailContract(MailSourceContract):
    """The Gmail provider presents the seeded Maildir through the sandbox."""

    partial_bodies = False  # format=raw has no partial read: over the limit, headers only

    states_my_answer = True

    @pytest.fixture(autouse=True)
    def _stop_sandboxes(self) -> Iterator[None]:
        self.running: list[object] = []
        yield
        for context in self.running:
            context.__exit__(None, None, None)  # type: ignore[attr-defined]

    def open_source(self, maildir: Path) -> MailSource:
        context = GmailSandbox.serve(seed=maildir, user=ME)
        sandbox = context.__enter__()
        self.running.append(context)
        calendar = GoogleCalendar(
            calendar_service(f"{sandbox.url}/calendar/v3/", sandbox.credentials()),
            meet_service(sandbox.url, sandbox.credentials()),
        )
        return GmailSource(client(sandbox), batch_uri=sandbox.batch_uri, calendar=calendar)
