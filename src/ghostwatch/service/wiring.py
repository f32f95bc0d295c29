"""An account's configuration → its mailbox ports (MailSource, MailActions), by provider.

Each provider registers one builder. Gmail needs credentials, which the auth helper's
vault provides (`ghostwatch auth google`); until it is wired in, the entry point passes a
`GoogleCredentials` factory (tests pass the sandbox's `.credentials()`). Outlook plugs in
the same way (`outlook_builder`), given a bearer-token factory from the auth helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ghostwatch.clock import utc_now
from ghostwatch.config import AccountConfig, GmailOptions, OutlookOptions
from ghostwatch.engine.cadence import BusinessCalendar, Cadence, holiday_dates
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import UserError, WrongMailbox
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.budget import Budget, gmail_project, gmail_user, graph_mailbox
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.api import google_service
from ghostwatch.providers.google.calendar import GoogleCalendar
from ghostwatch.providers.google.drafts import DraftWatch
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.imap.actions import ImapActions
from ghostwatch.providers.imap.calendar import CalDavCalendar
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.providers.maildir.actions import MaildirActions
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.drafts import DraftWatch as OutlookDrafts
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.port import MailActions, MailSource

GoogleCredentials = Callable[[AccountConfig], Any]
"""Account → google-auth credentials (refreshing themselves), or `UserError` if none."""
MicrosoftTokens = Callable[[AccountConfig], Callable[[], str]]
"""Account → a bearer-token callable for Graph (msal, refreshing itself), or `UserError`.
A callable with a true `app_only` attribute (client credentials) reads `/users/{address}`."""
ImapPasswords = Callable[[AccountConfig], str]
"""Account → its IMAP (and CalDAV) password, or `UserError` if none is stored."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """What one account reads through and writes through."""

    source: MailSource
    actions: MailActions
    provider: str
    budget: Budget | None = None
    """The quota budget its calls draw from (what /metrics reports refusals and waits of)."""
    whoami: Callable[[], str] | None = None
    """The address the provider says this sign-in reads (None: a local folder, nothing
    signed in). `ProviderRegistry.open` compares it with the account's address."""


Builder = Callable[[AccountConfig], Mailbox]


@dataclass
class ProviderRegistry:
    builders: dict[str, Builder] = field(default_factory=dict)
    shared: list[Budget] = field(default_factory=list)
    """The budgets every account of the process draws from (Gmail's project): limits
    the replicas divide among themselves (`Budget.share_with`, service/daemon.py)."""

    def register(self, provider: str, builder: Builder) -> None:
        self.builders[provider] = builder

    def open(self, account: AccountConfig) -> Mailbox:
        builder = self.builders.get(account.provider)
        if builder is None:
            raise UserError(
                f"account {account.name}: provider {account.provider} is not available in "
                f"this ghostwatch (available: {', '.join(sorted(self.builders))}); "
                "set `enabled: false` on the account until it is"
            )
        mailbox = builder(account)
        if mailbox.whoami is not None:
            check_identity(account, mailbox.whoami())
        return mailbox


def gmail_address(account: AccountConfig, credentials: Any) -> str:
    """The address a Google sign-in reads (users.getProfile), at the account's endpoint:
    `ghostwatch auth google` asks it before it keeps the sign-in."""
    options = account.gmail or GmailOptions()
    service = google_service("gmail", "v1", options.api_endpoint, credentials)
    return GmailSource(service).signed_in_address()


def check_identity(account: AccountConfig, signed_in: str) -> None:
    """The signed-in mailbox must be the configured address: otherwise ghostwatch would
    follow up another person's conversations and write drafts into their mailbox."""
    if signed_in.strip().lower() != account.address.lower():
        raise WrongMailbox(
            f"account {account.name}: signed in as {signed_in or 'an unnamed mailbox'}, but "
            f"its address is {account.address}: sign in again as {account.address}, or "
            "correct `address`"
        )


def maildir_mailbox(account: AccountConfig) -> Mailbox:
    assert account.maildir is not None  # the configuration requires it for maildir
    root = account.maildir.path
    return Mailbox(MaildirMailbox(root, account.max_body_bytes), MaildirActions(root), "maildir")


def gmail_builder(
    credentials: GoogleCredentials,
    clock: Callable[[], datetime] = utc_now,
    project: Budget | None = None,
    **build: Any,
) -> Builder:
    """A Gmail builder using `credentials(account)`; `build` goes to the client builder
    (e.g. `requestBuilder` to count API calls). Every account's calls draw from its own
    per-user budget and from one per-project budget all of them share, `project` or a
    new one (`providers/budget.py`)."""
    if project is None:
        project = gmail_project()
    # Kept per account across reconnections: a client opened again after an error must
    # not start with a full budget while the provider still counts the last minute.
    budgets: dict[str, Budget] = {}

    def gmail_mailbox(account: AccountConfig) -> Mailbox:
        options = account.gmail or GmailOptions()
        granted = credentials(account)
        service = google_service("gmail", "v1", options.api_endpoint, granted, **build)
        calendar = None
        if options.calendar:
            calendar = GoogleCalendar(
                google_service("calendar", "v3", options.calendar_endpoint, granted, **build),
                google_service("meet", "v2", options.meet_endpoint, granted, **build),
            )
        budget = budgets.setdefault(account.name, gmail_user(account.name, parents=[project]))
        # A first sync reads the threads active in the look-back (from the time the
        # mailbox is opened: a later start reads a little more, never less).
        since = clock() - look_back(account)
        # The source's history reads tell the actions when Drafts changed (an idle cycle
        # is one `history.list`: providers/google/drafts.py).
        drafts = DraftWatch()
        source = GmailSource(service, batch_uri=options.batch_uri, calendar=calendar,
                             budget=budget, body_limit=account.max_body_bytes,
                             since=since, drafts=drafts)  # fmt: skip
        # Links into Gmail on the web only for Gmail itself: a sandbox's drafts are not
        # there, and the digest shows no link rather than a dead one.
        web = options.api_endpoint == GmailOptions.model_fields["api_endpoint"].default
        actions = GmailActions(service, batch_uri=options.batch_uri, budget=budget,
                               drafts=drafts, web_links=web, address=account.address)  # fmt: skip
        return Mailbox(source, actions, "gmail", budget, whoami=source.signed_in_address)

    return gmail_mailbox


def outlook_builder(tokens: MicrosoftTokens, clock: Callable[[], datetime] = utc_now) -> Builder:
    """An Outlook builder: Graph at the account's endpoint with `tokens(account)`,
    `/users/{address}` when the token is app-only (`app_only`), else `/me`; every
    request draws from the mailbox's budget (`providers/budget.py`)."""

    budgets: dict[str, Budget] = {}  # per account, across reconnections (as for Gmail)

    def outlook_mailbox(account: AccountConfig) -> Mailbox:
        options = account.outlook or OutlookOptions()
        token = tokens(account)
        user = account.address if getattr(token, "app_only", False) else None
        budget = budgets.setdefault(account.name, graph_mailbox(account.name))
        client = GraphClient(token, user=user, base_url=options.graph_endpoint, budget=budget)
        calendar = OutlookCalendar(client, account.address)
        # The mail poll tells the actions when Drafts changed (an idle cycle is that one
        # poll's request: providers/microsoft/drafts.py).
        drafts = OutlookDrafts()
        # As for Gmail: a first sync reads what the look-back reaches, each conversation
        # that holds a message from it read whole (providers/microsoft/older.py).
        since = clock() - look_back(account)
        source = OutlookSource(client, calendar, body_limit=account.max_body_bytes,
                               since=since, drafts=drafts)  # fmt: skip
        web = options.graph_endpoint == OutlookOptions.model_fields["graph_endpoint"].default
        actions = OutlookActions(client, drafts, web_links=web)  # as for Gmail: no sandbox links
        return Mailbox(source, actions, "outlook", budget, whoami=source.signed_in_address)

    return outlook_mailbox


def imap_builder(passwords: ImapPasswords) -> Builder:
    """An IMAP builder: the account's server with `passwords(account)`, and its CalDAV
    calendar when it names one. Reads and writes share one connection."""

    def imap_mailbox(account: AccountConfig) -> Mailbox:
        options = account.imap
        assert options is not None  # the configuration requires it for imap
        password = passwords(account)
        username = options.username or account.address
        ca_file = str(options.ca_file) if options.ca_file is not None else None
        login = ImapLogin(options.host, username, password, port=options.server_port(),
                          tls=options.tls, ca_file=ca_file)  # fmt: skip
        session = ImapSession(login)
        calendar = None
        if options.caldav_url:
            calendar = CalDavCalendar(options.caldav_url, options.caldav_username or username,
                                      password, calendar=options.calendar)  # fmt: skip
        # The server authenticates exactly the configured login, so the login is the
        # identity; a login written as an address must be the account's address.
        whoami = (lambda: username) if "@" in username else None
        source = ImapSource(session, calendar, body_limit=account.max_body_bytes)
        return Mailbox(source, ImapActions(session), "imap", whoami=whoami)

    return imap_mailbox


def no_imap_password(account: AccountConfig) -> str:
    raise UserError(
        f"account {account.name} has no IMAP password yet: run "
        f"`ghostwatch auth imap --account {account.name}`"
    )


def no_microsoft_tokens(account: AccountConfig) -> Callable[[], str]:
    raise UserError(
        f"account {account.name} has no Microsoft sign-in yet: run "
        f"`ghostwatch auth microsoft --account {account.name}`"
    )


def no_google_credentials(account: AccountConfig) -> Any:
    raise UserError(
        f"account {account.name} has no Google sign-in yet: run "
        f"`ghostwatch auth google --account {account.name}`"
    )


def default_registry(
    google_credentials: GoogleCredentials = no_google_credentials,
    microsoft_tokens: MicrosoftTokens = no_microsoft_tokens,
    imap_passwords: ImapPasswords = no_imap_password,
    clock: Callable[[], datetime] = utc_now,
    **build: Any,
) -> ProviderRegistry:
    """Every provider; `clock` is the daemon's (a first sync's look-back starts from it)."""
    project = gmail_project()
    # Outlook's budgets are per mailbox, and a mailbox is one replica's: none to divide.
    registry = ProviderRegistry(shared=[project])
    registry.register("maildir", maildir_mailbox)
    registry.register("gmail", gmail_builder(google_credentials, clock, project, **build))
    registry.register("outlook", outlook_builder(microsoft_tokens, clock))
    registry.register("imap", imap_builder(imap_passwords))
    return registry


# --- the rest of what a cycle needs, from the account's settings ---------------------------


def rules_for(account: AccountConfig) -> Rules:
    calendar = BusinessCalendar(account.zone, holiday_dates(account.holiday_country))
    cadence = account.cadence.cadence() if account.cadence else Cadence()
    return Rules(
        me=Identity.of(account.identity_addresses),
        calendar=calendar,
        cadence=cadence,
        look_back=look_back(account),
    )


def look_back(account: AccountConfig) -> timedelta:
    """The account's horizon: what its rules decide within and its first sync reads."""
    return timedelta(days=account.look_back_days)


def sender_for(account: AccountConfig) -> Sender:
    name = account.display_name or account.address.partition("@")[0].capitalize()
    signature = name if account.signature is None else account.signature
    return Sender(
        name=name, address=account.address, signature=signature, templates=account.templates
    )
