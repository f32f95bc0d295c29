"""ghostwatch's real providers, pointed at a sandbox: what `scan --through`, the demo, the
benchmarks and the tests read and write through."""

from __future__ import annotations

from ghostwatch.providers.budget import gmail_user, graph_mailbox
from ghostwatch.providers.google.calendar import GoogleCalendar, calendar_service, meet_service
from ghostwatch.providers.google.gmail import GmailSource, gmail_service
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.graph import DEFAULT_POLICY, GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft import GraphSandbox


def gmail_source(sandbox: GmailSandbox) -> GmailSource:
    """The Gmail provider reading this sandbox, Calendar and Meet attendance included,
    paced by a per-user budget as a deployed one is."""
    credentials = sandbox.credentials()
    calendar = GoogleCalendar(
        calendar_service(f"{sandbox.url}/calendar/v3/", credentials),
        meet_service(sandbox.url, credentials),
    )
    service = gmail_service(sandbox.url, credentials)
    budget = gmail_user(sandbox.user)
    return GmailSource(service, batch_uri=sandbox.batch_uri, calendar=calendar, budget=budget)


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


def outlook_source(sandbox: GraphSandbox, retry: RetryPolicy | None = None) -> OutlookSource:
    """The Outlook provider reading this sandbox, meetings and attendance included."""
    client = graph_client(sandbox, retry=retry)
    return OutlookSource(client, OutlookCalendar(client, sandbox.user))
