"""Google sign-in with the real google-auth / google-auth-oauthlib over HTTP against the sandbox."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghostwatch.errors import ConsentMissing, NotSignedIn, SignInFailed, TokenRevoked, UserError
from ghostwatch.providers.google import signin as google_auth
from ghostwatch.providers.google.api import google_service
from ghostwatch.providers.google.signin import LoginPrompt, google_credentials, google_scopes
from ghostwatch.service.forget import (
    Revocation,
    revocation_outcome,
    revoke_google_token,
    revoke_uri_for,
)
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_SECRET, ServiceAccount
from tests.support.auth_fixtures import (
    assert_nowhere,
    browser,
    client_secrets,
    consent,
    disk_bytes,
    google,
    log_lines,
    secret_key,
    vault,
)

__all__ = ["browser", "google", "log_lines", "secret_key", "vault"]  # fixtures
ME = "alex@ghostwatch.example"


def headless(shown: list[str]) -> LoginPrompt:
    """A person on another machine: reads the printed address, pastes back where it led."""

    def ask(question: str) -> str:
        url = next(word for word in shown[-1].split() if word.startswith("http://127."))
        return consent(url)

    return LoginPrompt(show=shown.append, ask=ask, headless=True)


def sign_in(sandbox: GmailSandbox, vault: TokenVault, tmp_path: Path, rescue: bool = False) -> Any:
    scopes = google_scopes(junk_rescue=rescue)
    secrets_file = client_secrets(tmp_path, sandbox)
    credentials = google_auth.installed_app_login(secrets_file, scopes, headless([]))
    google_auth.store_user_login(vault, "alex", credentials)
    return credentials


def profile(sandbox: GmailSandbox, credentials: Any) -> str:
    gmail = google_service("gmail", "v1", sandbox.url, credentials)
    return str(gmail.users().getProfile(userId="me").execute()["emailAddress"])


def test_scopes_are_the_least_the_features_need() -> None:
    base = [s.rsplit("/", 1)[1] for s in google_scopes(junk_rescue=False)]
    assert base == [
        "gmail.readonly",
        "gmail.compose",
        "gmail.insert",
        "calendar.readonly",
        "meetings.space.readonly",
    ]
    assert set(google_scopes(junk_rescue=True)) - set(google_scopes(junk_rescue=False)) == {
        "https://www.googleapis.com/auth/gmail.modify"
    }


def test_headless_sign_in_then_the_vault_alone_reads_the_mailbox(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    shown: list[str] = []
    secrets_file = client_secrets(tmp_path, google)
    scopes = google_scopes(junk_rescue=False)
    credentials = google_auth.installed_app_login(secrets_file, scopes, headless(shown))
    assert "Open this address" in shown[0]
    assert credentials.refresh_token in google.tokens.grants
    assert google.tokens.grants[credentials.refresh_token].scopes == tuple(scopes)

    google_auth.store_user_login(vault, "alex", credentials)
    assert profile(google, google_credentials(vault, "alex")) == ME


def test_browser_sign_in_through_the_loopback_redirect(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path, browser: str
) -> None:
    shown: list[str] = []
    prompt = LoginPrompt(show=shown.append, ask=input, browser=browser)
    scopes = google_scopes(junk_rescue=True)
    credentials = google_auth.installed_app_login(client_secrets(tmp_path, google), scopes, prompt)
    google_auth.store_user_login(vault, "alex", credentials)
    assert profile(google, google_credentials(vault, "alex", junk_rescue=True)) == ME


def test_an_expired_token_is_refreshed_and_written_back(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    sign_in(google, vault, tmp_path)
    first = vault.get_json("google.alex")
    assert first is not None
    google.expire_tokens()  # an hour later: every access token is stale

    assert profile(google, google_credentials(vault, "alex")) == ME
    second = vault.get_json("google.alex")
    assert second is not None
    assert second["authorized_user"]["token"] != first["authorized_user"]["token"]
    # A restart reads the refreshed token from the vault and uses it as it is.
    assert profile(google, google_credentials(vault, "alex")) == ME
    assert vault.get_json("google.alex") == second


def test_a_revoked_grant_is_a_named_error_saying_what_to_run(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    credentials = sign_in(google, vault, tmp_path)
    google.revoke(credentials.refresh_token)
    google.expire_tokens()
    with pytest.raises(TokenRevoked, match="ghostwatch auth google --account alex"):
        profile(google, google_credentials(vault, "alex"))


def test_missing_sign_in_and_missing_scope_say_what_to_run(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    with pytest.raises(NotSignedIn, match="ghostwatch auth google --account alex"):
        google_credentials(vault, "alex")
    sign_in(google, vault, tmp_path, rescue=False)
    with pytest.raises(ConsentMissing, match=r"gmail\.modify.*--junk-rescue"):
        google_credentials(vault, "alex", junk_rescue=True)


def test_refused_consent_and_bad_client_files(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    scopes = google_scopes(junk_rescue=False)
    google.tokens.refuse_consent = True
    with pytest.raises(SignInFailed, match="access_denied"):
        google_auth.installed_app_login(client_secrets(tmp_path, google), scopes, headless([]))
    with pytest.raises(UserError, match="no OAuth client file"):
        google_auth.installed_app_login(tmp_path / "nope.json", scopes, headless([]))
    (tmp_path / "web.json").write_text('{"web": {}}')
    with pytest.raises(UserError, match="Desktop"):
        google_auth.installed_app_login(tmp_path / "web.json", scopes, headless([]))


def test_an_unticked_permission_is_named(google: GmailSandbox, tmp_path: Path) -> None:
    google.tokens.withheld = frozenset({google_auth.DRAFTS})
    with pytest.raises(ConsentMissing, match="leave every permission ticked"):
        google_auth.installed_app_login(
            client_secrets(tmp_path, google), google_scopes(junk_rescue=False), headless([])
        )


def test_a_pasted_address_from_another_sign_in_is_refused(
    google: GmailSandbox, tmp_path: Path
) -> None:
    def stale(question: str) -> str:
        return "http://localhost:1/?state=someone-else&code=4/abc"

    prompt = LoginPrompt(show=lambda text: None, ask=stale, headless=True)
    with pytest.raises(SignInFailed, match="another sign-in"):
        google_auth.installed_app_login(
            client_secrets(tmp_path, google), google_scopes(junk_rescue=False), prompt
        )


# -- domain-wide delegation ----------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_file(
    tmp_path: Path, sandbox: GmailSandbox, key: rsa.RSAPrivateKey, delegated: bool = True
) -> Path:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    email = "ghostwatch@acme-project.iam.gserviceaccount.com"
    scopes = frozenset(google_scopes(junk_rescue=False)) if delegated else None
    sandbox.tokens.trust(ServiceAccount(email, "1049", public, scopes))
    info = {
        "type": "service_account",
        "project_id": "acme-project",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email,
        "client_id": "1049",
        "token_uri": sandbox.token_uri,
    }
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    return path


def test_a_service_account_acts_for_the_mailbox_by_delegation(
    google: GmailSandbox,
    vault: TokenVault,
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    log_lines: io.StringIO,
) -> None:
    key_file = service_account_file(tmp_path, google, rsa_key)
    scopes = google_scopes(junk_rescue=False)
    google_auth.import_service_account(vault, "team-alex", key_file, ME, scopes)
    key_file.unlink()  # the vault keeps its own (encrypted) copy
    assert profile(google, google_credentials(vault, "team-alex")) == ME
    assert google_auth.check_google(vault, "team-alex") == "google (service account)"

    pem = json.loads(vault.get("google.team-alex") or b"{}")["key"]["private_key"]
    secret_lines = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
    tokens = list(google.tokens._access)
    assert_nowhere(secret_lines[:3] + tokens, disk_bytes(tmp_path), log_lines.getvalue())


def test_a_service_account_without_delegation_names_the_admin_step(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    key_file = service_account_file(tmp_path, google, rsa_key, delegated=False)
    scopes = google_scopes(junk_rescue=False)
    google_auth.import_service_account(vault, "team", key_file, ME, scopes)
    with pytest.raises(SignInFailed, match=r"client id 1049.*Domain-wide delegation"):
        profile(google, google_credentials(vault, "team"))


def test_an_assertion_signed_by_another_key_is_refused(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    key_file = service_account_file(tmp_path, google, rsa_key)
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = json.loads(key_file.read_text())
    info["private_key"] = impostor.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key_file.write_text(json.dumps(info))
    scopes = google_scopes(junk_rescue=False)
    google_auth.import_service_account(vault, "team", key_file, ME, scopes)
    with pytest.raises(TokenRevoked, match="invalid_grant"):
        profile(google, google_credentials(vault, "team"))


def test_no_token_or_secret_reaches_the_disk_or_the_logs(
    google: GmailSandbox,
    vault: TokenVault,
    tmp_path: Path,
    log_lines: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    credentials = sign_in(google, vault, tmp_path)
    google.expire_tokens()
    profile(google, google_credentials(vault, "alex"))
    (tmp_path / "client_secret.json").unlink()  # the user's own download, not ours

    secrets = [credentials.refresh_token, CLIENT_SECRET, *google.tokens._access]
    assert len(secrets) >= 3
    logs = log_lines.getvalue() + caplog.text
    assert "auth.google.refreshed" in logs
    assert_nowhere(secrets, disk_bytes(tmp_path), logs)


# -- revocation (ghostwatch auth forget) ---------------------------------------------


def test_revoking_an_access_token_ends_its_whole_grant_as_google_does(
    google: GmailSandbox, vault: TokenVault, tmp_path: Path
) -> None:
    credentials = sign_in(google, vault, tmp_path)
    assert profile(google, credentials) == ME

    revoked = revoke_google_token(google.token_uri, credentials.token)

    assert revoked == (Revocation.REVOKED, "")
    assert google.tokens.grants[credentials.refresh_token].revoked
    # The refresh token went with it: asking again is Google's 400 invalid_token.
    again = revoke_google_token(google.token_uri, credentials.refresh_token)
    assert again == (Revocation.ALREADY_REVOKED, "")
    assert revoke_google_token(google.token_uri, "1//never-issued")[0] is Revocation.ALREADY_REVOKED
    missing = requests.post(google.revoke_uri, data={}, timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert profile(google, google.credentials()) == ME  # the sandbox's own grant lives on


@pytest.mark.parametrize(
    ("token_uri", "revoke_uri"),
    [
        ("https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/revoke"),
        (
            "https://accounts.google.com/o/oauth2/token",
            "https://accounts.google.com/o/oauth2/revoke",
        ),
        ("http://127.0.0.1:8080/token", "http://127.0.0.1:8080/revoke"),
        ("https://example.com/oauth/exchange", "https://oauth2.googleapis.com/revoke"),
    ],
)
def test_the_revocation_endpoint_sits_beside_the_token_endpoint(
    token_uri: str, revoke_uri: str
) -> None:
    assert revoke_uri_for(token_uri) == revoke_uri


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, "", Revocation.REVOKED),
        (400, "invalid_token", Revocation.ALREADY_REVOKED),
        (400, "invalid_request", Revocation.FAILED),
        (503, "", Revocation.FAILED),
        (429, "rate_limit_exceeded", Revocation.FAILED),
    ],
)
def test_only_revoked_or_already_revoked_lets_the_tokens_go(
    status: int, error: str, outcome: Revocation
) -> None:
    found, reason = revocation_outcome(status, error)
    assert found is outcome
    assert (str(status) in reason) == (outcome is Revocation.FAILED)
