"""Microsoft sign-in: the real msal over HTTP against the identity fake; tokens used on Graph."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ghostwatch.errors import ConsentMissing, NotSignedIn, SignInFailed, TokenRevoked, UserError
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.signin import EntraApp, graph_scopes, graph_token
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.identity import IdentitySandbox, RoutedSession
from tests.support.auth_fixtures import assert_nowhere, disk_bytes, log_lines, secret_key, vault

__all__ = ["log_lines", "secret_key", "vault"]  # fixtures
ME = "alex@ghostwatch.example"
PUBLIC = "ghostwatch-desktop"
DAEMON = "ghostwatch-daemon"
SECRET = "Qm~8Q~sandbox-client-secret-value"
TENANT = "ghostwatch.example"


@pytest.fixture
def identity() -> Iterator[IdentitySandbox]:
    with IdentitySandbox.serve(interval=1, signs_in_as=ME) as fake:
        fake.register(PUBLIC)
        fake.register(DAEMON, SECRET)
        yield fake


@pytest.fixture
def graph(identity: IdentitySandbox) -> Iterator[GraphSandbox]:
    with GraphSandbox.serve(user=ME) as sandbox:
        sandbox.tokens.add_verifier(identity.verify)
        yield sandbox


def sign_in(identity: IdentitySandbox, vault: TokenVault, attendance: bool = False) -> list[str]:
    shown: list[str] = []
    microsoft.device_code_login(
        vault,
        "alex",
        EntraApp(PUBLIC),
        graph_scopes(attendance=attendance),
        shown.append,
        http_client=identity.http_client(),
    )
    return shown


def inbox(graph: GraphSandbox, token: object, user: str | None = None) -> int:
    client = GraphClient(token, user=user, base_url=graph.base_url)  # type: ignore[arg-type]
    return client.request("GET", f"{client.mailbox}/mailFolders/inbox/messages/delta").status


def test_device_code_sign_in_waits_for_the_person_then_graph_accepts_the_token(
    identity: IdentitySandbox, vault: TokenVault, graph: GraphSandbox
) -> None:
    shown = sign_in(identity, vault)
    assert "https://microsoft.com/devicelogin" in shown[0]
    assert identity.answers[:2] == ["authorization_pending", "ok"]
    entry = vault.get_json("microsoft.alex")
    assert entry is not None
    assert entry["username"] == ME

    assert inbox(graph, graph_token(vault, "alex", http_client=identity.http_client())) == 200
    assert identity.answers == ["authorization_pending", "ok"]  # served from msal's cache


def test_a_token_near_expiry_is_refreshed_and_the_cache_written_back(
    vault: TokenVault, graph: GraphSandbox, identity: IdentitySandbox
) -> None:
    identity.lifetime = 240  # msal refreshes tokens with under 5 minutes left
    sign_in(identity, vault)
    before = vault.get("microsoft.alex")
    token = graph_token(vault, "alex", http_client=identity.http_client())
    first = token()
    assert identity.answers[-1] == "ok"
    assert vault.get("microsoft.alex") != before
    assert token() != first
    assert inbox(graph, token) == 200


def test_a_revoked_sign_in_is_a_named_error_saying_what_to_run(
    vault: TokenVault, graph: GraphSandbox, identity: IdentitySandbox
) -> None:
    identity.lifetime = 240
    sign_in(identity, vault)
    identity.revoke(ME)
    with pytest.raises(TokenRevoked, match="ghostwatch auth microsoft --account alex"):
        graph_token(vault, "alex", http_client=identity.http_client())()
    assert "invalid_grant" in identity.answers


def test_declined_sign_in_missing_consent_and_missing_account(
    vault: TokenVault, identity: IdentitySandbox
) -> None:
    identity.signs_in_as = None

    def decline(message: str) -> None:
        identity.decline(message.split("enter the code ")[1].split()[0])

    with pytest.raises(SignInFailed, match="authorization_declined"):
        microsoft.device_code_login(
            vault, "alex", EntraApp(PUBLIC), graph_scopes(attendance=False), decline,
            http_client=identity.http_client(),
        )  # fmt: skip
    with pytest.raises(NotSignedIn, match="ghostwatch auth microsoft --account alex"):
        graph_token(vault, "alex")
    identity.signs_in_as = ME
    sign_in(identity, vault, attendance=False)
    with pytest.raises(ConsentMissing, match=r"OnlineMeetingArtifact\.Read\.All"):
        graph_token(vault, "alex", attendance=True)


def test_client_credentials_for_the_tenant_reach_any_mailbox(
    vault: TokenVault, graph: GraphSandbox, identity: IdentitySandbox
) -> None:
    app = EntraApp(DAEMON, tenant=TENANT)
    http = identity.http_client()
    microsoft.client_credentials_login(vault, "team", app, SECRET, http_client=http)
    token = graph_token(vault, "team", http_client=http)
    assert inbox(graph, token, user=ME) == 200
    description = microsoft.check_microsoft(vault, "team", http_client=http)
    assert description == f"microsoft (application, tenant {TENANT})"

    with pytest.raises(SignInFailed, match="AADSTS7000215"):
        microsoft.client_credentials_login(vault, "t2", app, "wrong", http_client=http)
    with pytest.raises(UserError, match="--tenant"):
        microsoft.client_credentials_login(vault, "t3", EntraApp(DAEMON), SECRET)
    unknown = EntraApp("not-registered", tenant=TENANT)
    with pytest.raises(SignInFailed, match="AADSTS700016"):
        microsoft.client_credentials_login(vault, "t4", unknown, SECRET, http_client=http)


def test_an_unknown_authority_host_is_discovered_through_instance_discovery(
    vault: TokenVault, identity: IdentitySandbox
) -> None:
    custom = "https://login.contoso-sovereign.example"
    http = RoutedSession({"https://login.microsoftonline.com": identity.url, custom: identity.url})
    app = EntraApp(DAEMON, tenant=TENANT, authority_host=custom)
    microsoft.client_credentials_login(vault, "team", app, SECRET, http_client=http)
    assert identity.answers == ["instance_discovery", "ok"]


def test_the_test_client_never_reaches_the_real_service(identity: IdentitySandbox) -> None:
    with pytest.raises(requests.ConnectionError, match="not routed"):
        identity.http_client().get("https://graph.microsoft.com/v1.0/me", timeout=5)


def test_no_token_or_secret_reaches_the_vault_files_or_the_logs(
    vault: TokenVault,
    graph: GraphSandbox,
    identity: IdentitySandbox,
    tmp_path: Path,
    log_lines: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    identity.lifetime = 240
    sign_in(identity, vault)
    token = graph_token(vault, "alex", http_client=identity.http_client())
    inbox(graph, token)
    http = identity.http_client()
    microsoft.client_credentials_login(
        vault, "team", EntraApp(DAEMON, TENANT), SECRET, http_client=http
    )
    inbox(graph, graph_token(vault, "team", http_client=http), user=ME)

    secrets = [SECRET, *identity.access, *identity.sessions]
    assert len(secrets) >= 4
    logs = log_lines.getvalue() + caplog.text
    assert "auth.microsoft.refreshed" in logs
    assert_nowhere(secrets, disk_bytes(tmp_path), logs)
