"""`ghostwatch auth …` through click: keys, sign-in, and one-line errors with exit code 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ghostwatch.auth.keys import new_key, resolve_key
from ghostwatch.cli import main
from ghostwatch.cli_auth import MSAL_HTTP_CLIENT
from ghostwatch.sandbox import GmailSandbox
from ghostwatch.sandbox.identity import IdentitySandbox
from tests.auth_fixtures import (
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
    assert forgotten.stdout.strip() == "alex: forgotten"
    assert not list(data.rglob("*.secret"))
    assert_one_line_error(run(["check", "--account", "alex"], secret_key, data), "no sign-in")


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
