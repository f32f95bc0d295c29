"""From the README to drafts in an IMAP Drafts folder: `ghostwatch auth imap` stores the
password after proving it on a real Dovecot (and Radicale), `auth check` proves it again,
`run --once` writes the drafts; TLS is required off loopback and checked when used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from pydantic import ValidationError

from ghostwatch import config
from ghostwatch.cli.main import main
from ghostwatch.errors import UserError
from ghostwatch.providers.imap.session import ImapLogin, ImapSession, ImapUnreachable
from ghostwatch.providers.retry import NO_RETRY
from ghostwatch.vault.keys import new_key
from ghostwatch_sandbox.dovecot import Dovecot
from tests.support.builder import ME
from tests.support.imap_servers import ImapAccount, imap_account, need_servers
from tests.support.paths import REPO

pytestmark = pytest.mark.server
EXAMPLE = REPO / "examples" / "mailbox"
NOW = "2026-11-20T15:00:00+00:00"


@pytest.fixture
def account() -> Iterator[ImapAccount]:
    with imap_account(EXAMPLE) as opened:
        yield opened


@pytest.fixture
def configured(tmp_path: Path, account: ImapAccount, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The README's IMAP account: the server, the CalDAV URL, the key in the environment."""
    monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", new_key())
    monkeypatch.delenv("GHOSTWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("GHOSTWATCH_DATA_DIR", str(tmp_path / "data"))
    entry = {
        "name": "alex",
        "provider": "imap",
        "address": ME,
        "time_zone": "Europe/London",
        "working_hours": {"start": "00:00", "end": "23:59"},
        "imap": {
            "host": account.dovecot.host,
            "port": account.dovecot.port,
            "tls": "none",
            "username": account.dovecot.user,
            "caldav_url": account.radicale.url,
        },
    }
    data = {"data_dir": str(tmp_path / "data"), "log_format": "json", "accounts": [entry]}
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(*args: str, password: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=None if password is None else f"{password}\n")


def test_an_app_password_takes_a_user_from_the_readme_to_drafts(
    configured: Path, account: ImapAccount
) -> None:
    before = _cli("accounts", "--config", str(configured))  # was a KeyError traceback
    assert before.exit_code == 0, before.output
    assert "not signed in: run `ghostwatch auth imap --account alex`" in before.output
    signed = _cli("auth", "imap", "--account", "alex", "--config", str(configured),
                  password=account.dovecot.password)  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "signed in: account alex" in signed.output
    assert account.dovecot.password not in signed.output
    checked = _cli("auth", "check", "--account", "alex")
    assert (checked.exit_code, checked.output.strip().endswith(": ok")) == (0, True)
    ran = _cli("run", "--once", "--now", NOW, "--config", str(configured))
    assert ran.exit_code == 0, ran.output
    drafts = account.dovecot.maildir / ".Drafts" / "cur"
    made = [p for p in drafts.iterdir() if "X-Ghostwatch-Step" in p.read_text(errors="replace")]
    assert made
    assert all(p.name.endswith(("DS", "D")) for p in made)  # \Draft (and \Seen)
    listed = _cli("accounts", "--config", str(configured))
    assert listed.exit_code == 0, listed.output
    assert f"sign-in: imap: password for {account.dovecot.user} at" in listed.output
    assert "last error: none" in listed.output
    forgot = _cli("auth", "forget", "--account", "alex")
    assert forgot.exit_code == 0, forgot.output
    assert "IMAP password" in forgot.output
    assert "deleted" in forgot.output


def test_another_accounts_mistake_is_a_warning_not_a_stop(
    configured: Path, account: ImapAccount
) -> None:
    """Signing `alex` in needs `alex` (and the file's own settings) valid, not `bob`: bob's
    mistake is said on stderr for `ghostwatch run` to come, and stops only bob's own."""
    data = yaml.safe_load(configured.read_text())
    bob = {"name": "bob", "provider": "imap", "address": "bob@ghostwatch.example",
           "time_zone": "Europe/Berln", "imap": {"host": account.dovecot.host}}  # fmt: skip
    data["accounts"].append(bob)
    configured.write_text(yaml.safe_dump(data))
    bob_mistake = "accounts.1.time_zone: unknown time zone 'Europe/Berln'"
    signed = _cli("auth", "imap", "--account", "alex", "--config", str(configured),
                  password=account.dovecot.password)  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "signed in: account alex" in signed.stdout
    assert bob_mistake in signed.stderr
    assert bob_mistake not in signed.stdout
    assert "not needed for account alex" in signed.stderr
    for args in (["check"], ["forget", "--local-only"]):
        done = _cli("auth", *args, "--account", "alex", "--config", str(configured))
        assert done.exit_code == 0, done.output
        assert bob_mistake in done.stderr
    refused = _cli("auth", "imap", "--account", "bob", "--config", str(configured),
                   password=account.dovecot.password)  # fmt: skip
    assert refused.exit_code == 2
    assert bob_mistake in refused.stderr
    assert "Traceback" not in refused.output


def test_a_wrong_password_is_one_line_and_nothing_is_stored(
    configured: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password\n")
    refused = _cli("auth", "imap", "--account", "alex", "--config", str(configured),
                   "--password-file", str(wrong))  # fmt: skip
    assert refused.exit_code == 2
    assert "refused the password" in refused.output
    assert "Traceback" not in refused.output
    assert not (tmp_path / "data" / "tokens" / "imap.alex.secret").exists()


def test_a_missing_password_file_is_named_as_one(configured: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-password"
    refused = _cli("auth", "imap", "--account", "alex", "--config", str(configured),
                   "--password-file", str(missing))  # fmt: skip
    assert refused.exit_code == 2
    assert refused.output == (
        f"Error: no password file at {missing}: write the app password into it, or give its path\n"
    )  # not "the client secret file": an IMAP account has none


def test_tls_is_required_off_loopback() -> None:
    with pytest.raises(UserError, match="without TLS"):
        ImapLogin("imap.example.com", "alex", "pw", port=143, tls="none")
    with pytest.raises(ValidationError, match="in clear"):
        config.ImapOptions(host="imap.example.com", tls="none")
    assert config.ImapOptions(host="imap.example.com").server_port() == 993


def test_imaps_and_starttls_check_the_certificate() -> None:
    need_servers()
    with Dovecot.serve(EXAMPLE, tls=True) as server:
        ca = str(server.certificate)
        for tls, port in (("imaps", server.tls_port), ("starttls", server.port)):
            login = ImapLogin("127.0.0.1", server.user, server.password, port=port, tls=tls,
                              ca_file=ca)  # fmt: skip
            session = ImapSession(login, NO_RETRY)
            assert session.call(lambda client: client.noop())
            session.close()
        untrusted = ImapLogin("127.0.0.1", server.user, server.password, port=server.tls_port)
        with pytest.raises(ImapUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            ImapSession(untrusted, NO_RETRY).call(lambda client: client.noop())
