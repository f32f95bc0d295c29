"""A failing account shows in its next digest: the real daemon, signed in through the real
vault, against the Gmail and the Graph sandboxes. Its sign-in is revoked, polls fail, the
user signs in again as the error says, and the digest read back from the mailbox reports
the failures once; the one after it does not."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from google.oauth2.credentials import Credentials
from markupsafe import escape

from ghostwatch import config
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.service.app import SignIns, build_daemon
from ghostwatch.service.cycle import digest_message_id
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.signins import google_credentials_from, microsoft_tokens_from
from ghostwatch.store import Store
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.identity import IdentitySandbox
from ghostwatch_sandbox.playground.demo import OutlookReadback
from tests.support.auth_fixtures import secret_key, vault
from tests.support.paths import REPO
from tests.support.sandbox_fixtures import client

__all__ = ["secret_key", "vault"]  # fixtures, used by name
EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
PUBLIC_APP = "ghostwatch-desktop"


def at(text: str) -> datetime:
    """A time on the daemon's clock (Europe/London is on UTC in November)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Mailbox:
    """One provider's side of the story: sign in, lose the sign-in, read a digest back."""

    provider: str
    account: config.AccountConfig
    sign_ins: SignIns
    sign_in: Callable[[], None]
    revoke: Callable[[], None]
    digest: Callable[[str], tuple[str, str] | None]
    """Message-ID → (text, HTML) of that digest, read through the provider's API."""
    sent: Callable[[], list[object]]
    fail_next_digest: Callable[[], None]
    """One 500 on the call that puts the digest into the inbox (a write: not retried)."""
    command: str
    """What the error tells the user to run."""


def _account(provider: Literal["gmail", "outlook"], **options: Any) -> config.AccountConfig:
    return config.AccountConfig(
        name="alex",
        provider=provider,
        address=ME,
        display_name="Alex Morgan",
        time_zone="Europe/London",
        **options,
    )


@pytest.fixture
def gmail(vault: TokenVault) -> Iterator[Mailbox]:
    with GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox:
        granted: list[str] = []

        def sign_in() -> None:  # what `ghostwatch auth google --account alex` stores
            scopes = google.google_scopes(junk_rescue=False)
            granted.append(sandbox.tokens.grant(ME, scopes=tuple(scopes)))
            google.store_user_login(vault, "alex", _google_login(sandbox, granted[-1], scopes))

        def revoke() -> None:
            sandbox.revoke(granted[-1])
            sandbox.expire_tokens()

        sign_in()
        yield Mailbox(
            "gmail",
            _account("gmail", gmail=config.GmailOptions.sandbox(sandbox.url)),
            SignIns(google=google_credentials_from(vault)),
            sign_in,
            revoke,
            lambda message_id: _gmail_digest(sandbox, message_id),
            lambda: list(sandbox.sent),
            lambda: sandbox.faults.add("500", 1, "messages.insert"),
            "ghostwatch auth google --account alex",
        )


def _google_login(sandbox: GmailSandbox, refresh_token: str, scopes: list[str]) -> Credentials:
    return Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=refresh_token,
        token_uri=sandbox.token_uri,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=scopes,
    )


def _gmail_digest(sandbox: GmailSandbox, message_id: str) -> tuple[str, str] | None:
    gmail = client(sandbox)  # the sandbox's own grant: not the one the test revokes
    found = GmailActions(gmail, batch_uri=sandbox.batch_uri).find_message(message_id)
    if found is None:
        return None
    got = gmail.users().messages().get(userId="me", id=found, format="raw").execute()
    message = email.message_from_bytes(
        base64.urlsafe_b64decode(got["raw"]), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(markup, EmailMessage)
    return str(text.get_content()), str(markup.get_content())


@pytest.fixture
def outlook(vault: TokenVault) -> Iterator[Mailbox]:
    with (
        IdentitySandbox.serve(interval=1, signs_in_as=ME) as identity,
        GraphSandbox.serve(seed=EXAMPLE, user=ME) as graph,
    ):
        identity.register(PUBLIC_APP)
        identity.lifetime = 240  # msal refreshes tokens with under 5 minutes left
        graph.tokens.add_verifier(identity.verify)
        readback = OutlookReadback(graph)

        def sign_in() -> None:  # what `ghostwatch auth microsoft --account alex` stores
            scopes = microsoft.graph_scopes(attendance=False)
            app = microsoft.EntraApp(PUBLIC_APP)
            http = identity.http_client()
            shown: list[str] = []  # the device-code prompt; the fake signs in by itself
            microsoft.device_code_login(vault, "alex", app, scopes, shown.append, http_client=http)

        def digest(message_id: str) -> tuple[str, str] | None:
            found = readback.digest(message_id)  # Graph keeps one body: the HTML
            return None if found is None else (found[1], found[1])

        sign_in()
        tokens = microsoft_tokens_from(vault, http_client=identity.http_client())
        yield Mailbox(
            "outlook",
            _account("outlook", outlook=config.OutlookOptions(graph_endpoint=graph.base_url)),
            SignIns(microsoft=tokens),
            sign_in,
            lambda: identity.revoke(ME),
            digest,
            lambda: list(graph.sent),
            lambda: graph.faults.add("500", 1, "messages.create"),
            "ghostwatch auth microsoft --account alex",
        )


@dataclass
class Service:
    mailbox: Mailbox
    store: Store
    daemon: Daemon
    clock: list[datetime]

    def run(self, when: str) -> bool:
        """Every account once at `when`; True if the cycle went through."""
        self.clock[0] = at(when)
        return self.daemon.run_once()["alex"] is not None

    def digest(self, day: str) -> tuple[str, str] | None:
        with self.store.transaction() as tx:
            (account,) = tx.accounts()
            key = tx.digest_key(account.id)
        day_of = date.fromisoformat(day)
        return self.mailbox.digest(digest_message_id(account.id, ME, day_of, key))

    def last_error(self) -> str:
        with self.store.transaction() as tx:
            (account,) = tx.accounts()
        assert account.last_error is not None
        return account.last_error


@pytest.fixture(params=["gmail", "outlook"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    mailbox: Mailbox = request.getfixturevalue(request.param)
    with Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store:
        store.upgrade()
        settings = config.Settings(data_dir=tmp_path / "data", accounts=[mailbox.account])
        clock = [at("2026-11-20T09:00")]
        daemon = build_daemon(settings, store, mailbox.sign_ins, lambda: clock[0])
        yield Service(mailbox, store, daemon, clock)


def test_failed_checks_show_in_the_next_digest_and_only_there(service: Service) -> None:
    assert service.run("2026-11-20T09:00")  # Friday: all well, Friday's digest
    friday = service.digest("2026-11-20")
    assert friday is not None
    assert "could not check" not in friday[0] + friday[1]

    service.mailbox.revoke()  # a password change, an admin revoking sessions
    failed = ["2026-11-20T11:00", "2026-11-20T13:00", "2026-11-20T15:00", "2026-11-23T08:00"]
    assert [service.run(when) for when in failed] == [False] * 4
    assert service.digest("2026-11-23") is None  # Monday's digest waits for a good check
    said = service.last_error()
    assert service.mailbox.command in said

    service.mailbox.sign_in()  # the user runs what the error said
    assert service.run("2026-11-23T09:00")
    monday = service.digest("2026-11-23")
    assert monday is not None
    text, markup = monday
    headline = "ghostwatch could not check your mailbox 4 times since Fri 20 Nov, 11:00."
    assert headline in text
    assert headline in markup
    if service.mailbox.provider == "gmail":  # Graph keeps only the HTML body
        assert f"Last error (Mon 23 Nov, 08:00): {said}" in text
    assert f">{service.mailbox.command}</span>" in markup
    assert str(escape(said.partition("`")[0])) in markup  # as Jinja escapes it
    assert markup.index("could not check") < markup.index('id="needs-you-today"')

    assert service.run("2026-11-24T09:00")  # Tuesday: the trouble was reported once
    tuesday = service.digest("2026-11-24")
    assert tuesday is not None
    assert "could not check" not in tuesday[0] + tuesday[1]
    assert service.mailbox.sent() == []


def test_a_digest_that_was_not_delivered_keeps_the_notice(service: Service) -> None:
    assert service.run("2026-11-20T09:00")
    service.mailbox.revoke()
    assert not service.run("2026-11-20T11:00")
    service.mailbox.sign_in()
    service.mailbox.fail_next_digest()
    assert service.run("2026-11-23T09:00")  # the check worked; the digest did not arrive
    assert service.digest("2026-11-23") is None
    assert service.run("2026-11-23T10:00")  # the next poll delivers the owed digest
    monday = service.digest("2026-11-23")
    assert monday is not None
    assert "ghostwatch could not check your mailbox on Fri 20 Nov, 11:00." in monday[1]
    with service.store.transaction() as tx:
        (account,) = tx.accounts()
        assert tx.trouble(account.id) is None
