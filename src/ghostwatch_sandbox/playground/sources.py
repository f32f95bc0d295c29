"""ghostwatch's real providers, pointed at a sandbox: what `scan --through`, the demo, the
benchmarks and the tests read and write through."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

from ghostwatch.errors import UserError
from ghostwatch.providers.budget import gmail_user, graph_mailbox
from ghostwatch.providers.google.calendar import GoogleCalendar, calendar_service, meet_service
from ghostwatch.providers.google.gmail import GmailSource, gmail_service
from ghostwatch.providers.imap.calendar import CalDavCalendar
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.graph import DEFAULT_POLICY, GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch_sandbox.dovecot import INSTALL_HINT, Dovecot, dovecot_binary
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.radicale import Radicale, radicale_available


def gmail_source(sandbox: GmailSandbox, since: datetime | None = None) -> GmailSource:
    """The Gmail provider reading this sandbox, Calendar and Meet attendance included,
    paced by a per-user budget as a deployed one is; a first sync reads from `since`."""
    credentials = sandbox.credentials()
    calendar = GoogleCalendar(
        calendar_service(f"{sandbox.url}/calendar/v3/", credentials),
        meet_service(sandbox.url, credentials),
    )
    service = gmail_service(sandbox.url, credentials)
    budget = gmail_user(sandbox.user)
    return GmailSource(service, batch_uri=sandbox.batch_uri, calendar=calendar, budget=budget,
                       since=since)  # fmt: skip


def graph_client(
    sandbox: GraphSandbox, app_only: bool = False, retry: RetryPolicy | None = None
) -> GraphClient:
    """The Outlook provider's Graph client for this sandbox: delegated (`/me`) with the
    sandbox's token, or app-only (`/users/{upn}`), paced by the mailbox's budget."""
    token = sandbox.app_token if app_only else sandbox.token
    user = sandbox.user if app_only else None
    return GraphClient(
        lambda: token, user=user, base_url=sandbox.base_url, retry=retry or DEFAULT_POLICY,
        budget=graph_mailbox(sandbox.user),
    )  # fmt: skip


def outlook_source(
    sandbox: GraphSandbox, retry: RetryPolicy | None = None, since: datetime | None = None
) -> OutlookSource:
    """The Outlook provider reading this sandbox, meetings and attendance included; its
    first sync from `since` on (the look-back), as the daemon's, when given."""
    client = graph_client(sandbox, retry=retry)
    return OutlookSource(client, OutlookCalendar(client, sandbox.user), since=since)


def imap_source(stack: contextlib.ExitStack[bool | None], maildir: Path) -> ImapSource:
    """The IMAP provider reading `maildir` loaded into a real Dovecot, and its calendar.ics
    into a real Radicale (when it has one), both on 127.0.0.1 for as long as `stack`."""
    if dovecot_binary() is None:
        raise UserError(f"--through imap runs a real IMAP server: {INSTALL_HINT}")
    server = stack.enter_context(Dovecot.serve(maildir))
    login = ImapLogin(server.host, server.user, server.password, port=server.port, tls="none")
    session = ImapSession(login)
    stack.callback(session.close)
    ics = maildir / "calendar.ics"
    if not ics.is_file():
        return ImapSource(session)
    if not radicale_available():
        raise UserError("--through imap serves calendar.ics from Radicale: pip install radicale")
    dav = stack.enter_context(Radicale.serve(ics.read_bytes(), user=server.user,
                                             password=server.password))  # fmt: skip
    return ImapSource(session, CalDavCalendar(dav.url, dav.user, dav.password))
