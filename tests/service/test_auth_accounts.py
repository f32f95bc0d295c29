"""The vault-backed factories the service's provider registry takes, and sign-in states."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostwatch.errors import ConsentMissing, NotSignedIn
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.google.api import google_service
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.service.signins import (
    google_credentials_from,
    microsoft_tokens_from,
    sign_in_state,
)
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft.identity import IdentitySandbox
from tests.support.auth_fixtures import client_secrets, consent, secret_key, vault
from tests.support.auth_fixtures import google as google_sandbox

__all__ = ["google_sandbox", "secret_key", "vault"]  # fixtures
ME = "alex@ghostwatch.example"


@dataclass(frozen=True)
class Account:
    name: str
    junk_rescue: bool = False


def test_google_factory_reads_the_vault_and_respects_junk_rescue(
    google_sandbox: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    factory = google_credentials_from(vault)
    with pytest.raises(NotSignedIn):
        factory(Account("alex"))
    shown: list[str] = []

    def ask(question: str) -> str:
        return consent(next(w for w in shown[-1].split() if w.startswith("http://127.")))

    prompt = google.LoginPrompt(show=shown.append, ask=ask, headless=True)
    scopes = google.google_scopes(junk_rescue=False)
    secrets_file = client_secrets(tmp_path, google_sandbox)
    google.store_user_login(vault, "alex", google.installed_app_login(secrets_file, scopes, prompt))
    assert sign_in_state(vault, "alex") == "google: signed in (installed app)"

    gmail = google_service("gmail", "v1", google_sandbox.url, factory(Account("alex")))
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == ME
    with pytest.raises(ConsentMissing, match="--junk-rescue"):
        factory(Account("alex", junk_rescue=True))


def test_microsoft_factory_marks_app_only_tokens(vault: TokenVault) -> None:
    with IdentitySandbox.serve(interval=1, signs_in_as=ME) as identity:
        identity.register("desktop")
        identity.register("daemon", "secret")
        http = identity.http_client()
        app = microsoft.EntraApp("daemon", tenant="ghostwatch.example")
        microsoft.client_credentials_login(vault, "team", app, "secret", http_client=http)
        scopes = microsoft.graph_scopes(attendance=False)
        microsoft.device_code_login(
            vault, "alex", microsoft.EntraApp("desktop"), scopes, print, http_client=http
        )
        tokens = microsoft_tokens_from(vault, http_client=http)
        team, alex = tokens(Account("team")), tokens(Account("alex"))
        assert getattr(team, "app_only", None) is True
        assert getattr(alex, "app_only", None) is False
        assert identity.verify(team()) is not None
        assert identity.verify(alex()) is not None

    assert sign_in_state(vault, "team") == "microsoft: application in tenant ghostwatch.example"
    assert sign_in_state(vault, "alex") == f"microsoft: signed in as {ME} (device code)"
    assert sign_in_state(vault, "nobody") == "not signed in"
