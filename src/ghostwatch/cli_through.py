"""`--through gmail|outlook`: the same Maildir served by a sandbox, read over real HTTP.

Kept apart from cli.py so a plain Maildir scan never imports the sandboxes or the
Google and Microsoft client stacks.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ghostwatch.providers.gmail import GmailSource, gmail_service
from ghostwatch.providers.google_calendar import GoogleCalendar, calendar_service, meet_service
from ghostwatch.providers.port import MailSource
from ghostwatch.sandbox import GmailSandbox
from ghostwatch.sandbox.graph import GraphSandbox


def sandbox_source(
    stack: contextlib.ExitStack[bool | None], maildir: Path, through: str, address: str
) -> MailSource:
    """A source reading `maildir`'s mail from a sandbox that lives as long as `stack`."""
    if through == "outlook":
        return stack.enter_context(GraphSandbox.serve(seed=maildir, user=address)).outlook_source()
    sandbox = stack.enter_context(GmailSandbox.serve(seed=maildir, user=address))
    credentials = sandbox.credentials()
    service = gmail_service(sandbox.url, credentials)
    calendar = GoogleCalendar(
        calendar_service(f"{sandbox.url}/calendar/v3/", credentials),
        meet_service(sandbox.url, credentials),
    )
    return GmailSource(service, batch_uri=sandbox.batch_uri, calendar=calendar)
