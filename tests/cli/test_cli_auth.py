"""`ghostwatch auth …` through click: keys, sign-in, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleRequest

from ghostwatch.cli.auth import MSAL_HTTP_CLIENT
from ghostwatch.cli.main import main
from ghostwatch.providers.google.signin import google_scopes, import_service_account
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft.identity import IdentitySandbox
from tests.support.auth_fixtures import (
    assert_nowhere,
    browser,
    client_secrets,
    disk_bytes,
    google,
    secret_key,
)

__all__ = ["browser", "google", "secret_key"]  # fixtures


def test_auth_key_prints_a_usable_key_alone_on_stdout() -> None:
    result = CliRunner().invoke(main, ["auth", "key"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip()
    assert "\n" not in printed
    resolve_key(printed, None)
    assert "GHOSTWATCH_SECRET_KEY" in result.stderr
    assert result.stdout.strip() != CliRunner().invoke(main, ["auth", "key"]).stdout.strip()


# -- Google ---------------------------------------------------------------------------


def run(args: list[str], key: str | None, data: Path) -> Result:
    env = {"GHOSTWATCH_SECRET_KEY": key, "GHOSTWATCH_SECRET_KEY_FILE": None}
    return CliRunner().invoke(main, ["auth", *args, "--data-dir", str(data)], env=env)


def assert_one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_google_sign_in_by_browser_then_check_then_revoked(
    google: GmailSandbox, tmp_path: Path, browser: str, secret_key: str
) -> None:
    secrets_file = client_secrets(tmp_path, google)
    data = tmp_path / "data"
    args = ["google", "--account", "alex", "--client-secrets", str(secrets_file)]
    signed = run([*args, "--browser", browser], secret_key, data)
    assert signed.exit_code == 0, signed.output
    assert "signed in: account alex" in signed.stdout

    checked = run(["check", "--account", "alex"], secret_key, data)
    assert checked.exit_code == 0, checked.output
    assert "alex: google (installed app): ok" in checked.stdout

    (grant,) = [g for g in google.tokens.grants.values() if g.refresh_token != google.refresh_token]
    google.revoke(grant.refresh_token)
    assert_one_line_error(
        run(["check", "--account", "alex"], secret_key, data),
        "revoked",
        "ghostwatch auth google --account alex",
    )
    assert_one_line_error(run(["check", "--account", "alex"], new_key(), data), "cannot decrypt")

    forgotten = run(["forget", "--account", "alex"], secret_key, data)
    assert forgotten.exit_code == 0, forgotten.output
    assert "alex: Google grant was already revoked; tokens deleted" in forgotten.stdout
    assert not list(data.rglob("*.secret"))
    assert_one_line_error(run(["check", "--account", "alex"], secret_key, data), "no sign-in")


def sign_in_google(sandbox: GmailSandbox, tmp_path: Path, browser: str, key: str) -> str:
    """Sign `alex` in through the CLI; the refresh token the sandbox handed out."""
    secrets_file = str(client_secrets(tmp_path, sandbox))
    args = ["google", "--account", "alex", "--client-secrets", secrets_file, "--browser", browser]
    signed = run(args, key, tmp_path / "data")
    assert signed.exit_code == 0, signed.output
    (grant,) = [
        g for g in sandbox.tokens.grants.values() if g.refresh_token != sandbox.refresh_token
    ]
    return grant.refresh_token


def refresh_error(sandbox: GmailSandbox, refresh_token: str) -> str:
    """What the sandbox's token endpoint says to google-auth refreshing with this token."""
    with pytest.raises(RefreshError) as refused:
        sandbox.credentials(refresh_token=refresh_token).refresh(GoogleRequest())
    return str(refused.value.args[1].get("error"))


def test_forget_revokes_the_google_grant_then_deletes_the_tokens(
    google: GmailSandbox, tmp_path: Path, browser: str, secret_key: str
) -> None:
    data = tmp_path / "data"
    refresh_token = sign_in_google(google, tmp_path, browser, secret_key)
    assert run(["check", "--account", "alex"], secret_key, data).exit_code == 0
    vault = TokenVault(data / "tokens", resolve_key(secret_key, None))
    access_token = (vault.get_json("google.alex") or {})["authorized_user"]["token"]

    forgotten = run(["forget", "--account", "alex"], secret_key, data)

    assert forgotten.exit_code == 0, forgotten.output
    assert forgotten.stdout.strip() == "alex: Google grant revoked; tokens deleted"
    assert refresh_error(google, refresh_token) == "invalid_grant"
    profile = requests.get(
        f"{google.url}/gmail/v1/users/me/profile",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert profile.status_code == 401  # the grant's access tokens ended with it
    assert vault.names() == []
    assert_nowhere([refresh_token, access_token], disk_bytes(data), forgotten.output)
    google.credentials().refresh(GoogleRequest())  # another grant still works: only ours ended


def test_forget_keeps_the_tokens_while_google_is_unreachable_unless_local_only(
    tmp_path: Path, browser: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http
    data = tmp_path / "data"
    with GmailSandbox.serve() as sandbox:
        refresh_token = sign_in_google(sandbox, tmp_path, browser, secret_key)
    # The sandbox has stopped: its port refuses connections, as a network that is down.

    refused = run(["forget", "--account", "alex"], secret_key, data)

    assert_one_line_error(refused, "could not revoke", "cannot reach", "--local-only")
    vault = TokenVault(data / "tokens", resolve_key(secret_key, None))
    kept = vault.get_json("google.alex")
    assert kept is not None
    assert kept["authorized_user"]["refresh_token"] == refresh_token
    assert not sandbox.tokens.grants[refresh_token].revoked

    local = run(["forget", "--account", "alex", "--local-only"], secret_key, data)
    assert local.exit_code == 0, local.output
    assert "deleted here only" in local.stdout
    assert "myaccount.google.com/permissions" in local.stdout
    assert vault.names() == []


def test_forget_a_service_account_deletes_it_without_a_grant_to_revoke(
    tmp_path: Path, secret_key: str
) -> None:
    data = tmp_path / "data"
    vault = TokenVault(data / "tokens", resolve_key(secret_key, None))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "private_key": pem,
        "client_email": "ghostwatch@acme.iam.gserviceaccount.com",
        "client_id": "1049",
        "token_uri": "http://127.0.0.1:9/token",  # nothing listens: nothing may be asked
    }
    (tmp_path / "sa.json").write_text(json.dumps(info))
    scopes = google_scopes(junk_rescue=False)
    import_service_account(vault, "team", tmp_path / "sa.json", "sam@acme.example", scopes)

    forgotten = run(["forget", "--account", "team"], secret_key, data)

    assert forgotten.exit_code == 0, forgotten.output
    assert "no user grant to revoke" in forgotten.stdout
    assert "client id 1049" in forgotten.stdout
    assert "Domain-wide delegation" in forgotten.stdout
    assert vault.names() == []
    nothing = run(["forget", "--account", "team"], secret_key, data)
    assert nothing.stdout.strip() == "team: nothing stored"


def test_no_browser_here_suggests_headless(
    google: GmailSandbox, tmp_path: Path, secret_key: str
) -> None:
    secrets_file = str(client_secrets(tmp_path, google))
    args = ["google", "--account", "a", "--client-secrets", secrets_file]
    result = run([*args, "--browser", "no-such-browser"], secret_key, tmp_path / "data")
    assert_one_line_error(result, "--headless")


@pytest.mark.parametrize(
    ("args", "key", "words"),
    [
        (["google", "--account", "a", "--client-secrets", "x.json"], None, ["auth key"]),
        (["google", "--account", "a", "--client-secrets", "x.json"], "nope", ["not a"]),
        (["google", "--account", "a", "--client-secrets", "missing.json"], "ok", ["no OAuth"]),
        (["google", "--account", "a"], "ok", ["--client-secrets"]),
        (["google", "--account", "a", "--service-account", "sa.json"], "ok", ["--subject"]),
        (["google", "--account", "../x", "--client-secrets", "x.json"], "ok", ["vault entry"]),
        (["check", "--account", "nobody"], "ok", ["no sign-in stored"]),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, google: GmailSandbox, args: list[str], key: str | None, words: list[str]
) -> None:
    client_secrets(tmp_path, google).rename(tmp_path / "x.json")
    chdir = pytest.MonkeyPatch.context()
    with chdir as patch:
        patch.chdir(tmp_path)
        result = run(args, new_key() if key == "ok" else key, tmp_path / "data")
    assert_one_line_error(result, *words)


# -- Microsoft ------------------------------------------------------------------------

ME = "alex@ghostwatch.example"


@pytest.fixture
def identity() -> Iterator[IdentitySandbox]:
    with IdentitySandbox.serve(interval=1, signs_in_as=ME, lifetime=240) as fake:
        fake.register("desktop")
        fake.register("daemon", "s3cr3t-value")
        yield fake


def run_ms(args: list[str], key: str | None, data: Path, identity: IdentitySandbox) -> Result:
    env = {"GHOSTWATCH_SECRET_KEY": key, "GHOSTWATCH_SECRET_KEY_FILE": None}
    obj = {MSAL_HTTP_CLIENT: identity.http_client()}
    argv = ["auth", *args, "--data-dir", str(data)]
    return CliRunner().invoke(main, argv, env=env, obj=obj)


def test_microsoft_device_code_then_check_then_revoked(
    identity: IdentitySandbox, tmp_path: Path, secret_key: str
) -> None:
    data = tmp_path / "data"
    args = ["microsoft", "--account", "alex", "--client-id", "desktop"]
    signed = run_ms(args, secret_key, data, identity)
    assert signed.exit_code == 0, signed.output
    assert "microsoft.com/devicelogin" in signed.stdout
    assert f"signed in: account alex as {ME}" in signed.stdout

    checked = run_ms(["check", "--account", "alex"], secret_key, data, identity)
    assert checked.exit_code == 0, checked.output
    assert f"alex: microsoft (device code, {ME}): ok" in checked.stdout

    identity.revoke(ME)
    revoked = run_ms(["check", "--account", "alex"], secret_key, data, identity)
    assert_one_line_error(revoked, "revoked", "ghostwatch auth microsoft --account alex")
    secrets = [*identity.access, *identity.sessions]
    assert len(secrets) >= 2
    assert_nowhere(secrets, disk_bytes(data), signed.output, checked.output, revoked.output)


def test_microsoft_tenant_app_and_its_mistakes(
    identity: IdentitySandbox, tmp_path: Path, secret_key: str
) -> None:
    data, secret = tmp_path / "data", tmp_path / "secret"
    secret.write_text("s3cr3t-value\n")
    app = ["microsoft", "--account", "team", "--client-id", "daemon"]
    tenant = ["--tenant", "ghostwatch.example"]
    with_secret = [*app, *tenant, "--client-secret-file", str(secret)]
    stored = run_ms(with_secret, secret_key, data, identity)
    assert stored.exit_code == 0, stored.output
    assert b"s3cr3t-value" not in b"".join(p.read_bytes() for p in data.rglob("*.secret"))

    no_tenant = run_ms([*app, "--client-secret-file", str(secret)], secret_key, data, identity)
    assert_one_line_error(no_tenant, "--tenant")
    missing = run_ms([*app, *tenant, "--client-secret-file", "nope"], secret_key, data, identity)
    assert_one_line_error(missing, "client secret file")
    secret.write_text("wrong")
    wrong = run_ms(with_secret, secret_key, data, identity)
    assert_one_line_error(wrong, "AADSTS7000215")
    no_key = run_ms(with_secret, None, data, identity)
    assert_one_line_error(no_key, "ghostwatch auth key")


def test_forget_a_microsoft_sign_in_says_where_consent_is_withdrawn(
    identity: IdentitySandbox, tmp_path: Path, secret_key: str
) -> None:
    data, secret = tmp_path / "data", tmp_path / "secret"
    secret.write_text("s3cr3t-value\n")
    person = ["microsoft", "--account", "alex", "--client-id", "desktop"]
    assert run_ms(person, secret_key, data, identity).exit_code == 0
    app = ["microsoft", "--account", "team", "--client-id", "daemon"]
    tenant = ["--tenant", "ghostwatch.example", "--client-secret-file", str(secret)]
    assert run_ms([*app, *tenant], secret_key, data, identity).exit_code == 0

    alex = run_ms(["forget", "--account", "alex"], secret_key, data, identity)
    assert alex.exit_code == 0, alex.output
    assert "alex: Microsoft tokens deleted" in alex.stdout
    assert "https://myapps.microsoft.com" in alex.stdout
    assert "Enterprise applications" in alex.stdout
    team = run_ms(["forget", "--account", "team"], secret_key, data, identity)
    assert team.exit_code == 0, team.output
    assert "the secret itself stays valid" in team.stdout
    assert "daemon → Certificates & secrets" in team.stdout
    assert not list(data.rglob("*.secret"))
    assert_nowhere(["s3cr3t-value", *identity.sessions], alex.output, team.output)


# -- the signed-in mailbox must be the configured address ----------------------------------


def _configured(tmp_path: Path, provider: str, address: str, **options: object) -> Path:
    account = {"name": "alex", "provider": provider, "address": address, **options}
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(json.dumps({"accounts": [account]}))  # JSON is YAML
    return path


def test_google_sign_in_of_another_mailbox_is_not_kept(
    google: GmailSandbox, tmp_path: Path, browser: str, secret_key: str
) -> None:
    data = tmp_path / "data"
    gmail = {"api_endpoint": google.url, "batch_uri": f"{google.url}/batch/gmail/v1"}
    args = [
        "google",
        "--account",
        "alex",
        "--client-secrets",
        str(client_secrets(tmp_path, google)),
    ]
    wrong = _configured(tmp_path, "gmail", "sam@elsewhere.example", gmail=gmail)
    refused = run([*args, "--browser", browser, "--config", str(wrong)], secret_key, data)
    assert_one_line_error(
        refused, f"signed in as {google.user}", "its address is sam@elsewhere.example"
    )
    assert not list(data.rglob("*.secret"))
    right = _configured(tmp_path, "gmail", google.user, gmail=gmail)
    signed = run([*args, "--browser", browser, "--config", str(right)], secret_key, data)
    assert signed.exit_code == 0, signed.output


def test_microsoft_sign_in_of_another_mailbox_is_not_kept(
    identity: IdentitySandbox, tmp_path: Path, secret_key: str
) -> None:
    data = tmp_path / "data"
    wrong = _configured(tmp_path, "outlook", "sam@elsewhere.example")
    args = ["microsoft", "--account", "alex", "--client-id", "desktop", "--config", str(wrong)]
    refused = run_ms(args, secret_key, data, identity)
    assert_one_line_error(refused, f"signed in as {ME}", "its address is sam@elsewhere.example")
    assert not list(data.rglob("*.secret"))
