"""A misconfigured install refuses to start: `config check` and `run` name every problem
at once, one line each with its fix, and blame the variable or file it came from.

Each test starts from an install that passes (a Maildir account, a Gmail and an Outlook
account signed in to the vault) and breaks one thing; the last breaks them all at once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from ghostwatch.cli.main import main
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from tests.support.paths import REPO

ME = "alex@ghostwatch.example"
PASSWORD = "pw-s3cret"


class Install:
    """A configuration file, its data_dir with a signed-in vault, and the environment."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.key = new_key()
        self.data_dir = root / "data"
        shutil.copytree(REPO / "examples" / "mailbox", root / "mail")
        self.settings: dict[str, Any] = {
            "data_dir": str(self.data_dir),
            "accounts": [
                {
                    "name": "box",
                    "provider": "maildir",
                    "address": ME,
                    "maildir": {"path": str(root / "mail")},
                },
                {"name": "g", "provider": "gmail", "address": ME},
                {"name": "o", "provider": "outlook", "address": ME},
            ],
        }
        vault = vault_in(self.data_dir, resolve_key(self.key, None))
        vault.put_json(google.entry_name("g"), {"kind": "service_account", "subject": ME})
        vault.put_json(microsoft.entry_name("o"), {"kind": "app", "tenant": "t"})
        for name in [n for n in os.environ if n.startswith("GHOSTWATCH_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", self.key)

    def account(self, name: str) -> dict[str, Any]:
        return next(a for a in self.settings["accounts"] if a["name"] == name)

    def invoke(self, *command: str) -> Result:
        path = self.root / "ghostwatch.yaml"
        path.write_text(yaml.safe_dump(self.settings))
        return CliRunner().invoke(main, [*command, "--config", str(path)])

    def problems(self, *command: str) -> list[str]:
        """The problem lines of a refusal (exit code 2, no traceback)."""
        result = self.invoke(*(command or ("config", "check")))
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        if len(lines) == 1:  # one problem: one line
            return [lines[0].partition(" problem: ")[2]]
        return [line.removeprefix("  ") for line in lines[1:]]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    return Install(tmp_path, monkeypatch)


def test_a_good_install_passes(install: Install) -> None:
    result = install.invoke("config", "check")
    assert result.exit_code == 0, result.output
    assert "configuration is valid: 3 account(s)" in result.output


def test_no_vault_key_while_accounts_need_one(install: Install) -> None:
    install.monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    [problem] = install.problems()
    assert problem.startswith("secret_key: not set; the sign-ins of accounts g, o are kept")
    assert "`ghostwatch auth key`" in problem


def test_no_vault_key_is_fine_when_no_account_needs_one(install: Install) -> None:
    install.monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    install.account("g")["enabled"] = False
    install.account("o")["provider"] = "maildir"
    install.account("o")["maildir"] = {"path": str(install.root / "mail")}
    assert install.invoke("config", "check").exit_code == 0


def test_an_invalid_key_is_blamed_on_its_variable(install: Install) -> None:
    install.monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", "not-a-key")
    [problem] = install.problems()
    assert problem.startswith(
        "secret_key (from GHOSTWATCH_SECRET_KEY) is not a ghostwatch key (32 random bytes"
    )
    assert "not-a-key" not in problem


def test_a_key_that_does_not_open_the_vault(install: Install) -> None:
    install.monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", new_key())
    problems = install.problems()
    assert [p.partition(":")[0] for p in problems] == ["account g", "account o"]
    assert all("cannot decrypt" in p for p in problems)


def test_an_account_not_signed_in(install: Install) -> None:
    install.settings["accounts"].append({"name": "new", "provider": "gmail", "address": ME})
    assert install.problems() == [
        "account new: not signed in: run `ghostwatch auth google --account new`, "
        "or set enabled: false until then"
    ]


def test_a_key_file_others_may_read_is_refused_as_ssh_refuses_one(install: Install) -> None:
    install.monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    key_file = install.root / "key"
    key_file.write_text(install.key)
    key_file.chmod(0o644)
    install.monkeypatch.setenv("GHOSTWATCH_SECRET_KEY_FILE", str(key_file))
    [problem] = install.problems()
    assert problem == (
        f"the key file {key_file}: permissions 0644 are too open for a secret (its group or "
        f"others may read it): run chmod 600 {key_file} (GHOSTWATCH_SECRET_KEY_FILE)"
    )
    key_file.chmod(0o600)
    assert install.invoke("config", "check").exit_code == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_a_key_file_someone_else_owns_is_theirs_to_protect(install: Install) -> None:
    """A Kubernetes Secret or a Docker bind mount: owned by root or the host's user,
    readable by the image's user. ssh checks only the files the reader owns."""
    install.monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    key_file = install.root / "key"
    key_file.write_text(install.key)
    key_file.chmod(0o444)
    os.chown(key_file, 10001, 10001)
    install.monkeypatch.setenv("GHOSTWATCH_SECRET_KEY_FILE", str(key_file))
    assert install.invoke("config", "check").exit_code == 0


def test_a_mounted_secret_others_may_read_is_refused(install: Install) -> None:
    secrets = install.root / "secrets"
    secrets.mkdir()
    (secrets / "ghostwatch_database_url").write_text(f"sqlite:///{install.root}/gw.db")
    (secrets / "ghostwatch_database_url").chmod(0o640)
    install.monkeypatch.setenv("GHOSTWATCH_SECRETS_DIR", str(secrets))
    [problem] = install.problems()
    assert problem.startswith(f"{secrets / 'ghostwatch_database_url'}: permissions 0640")


@pytest.mark.parametrize(
    ("provider", "key", "url"),
    [
        ("g", "api_endpoint", "http://gmail.googleapis.com/"),
        ("g", "calendar_endpoint", "http://10.0.0.8:8080/calendar/v3/"),
        ("o", "graph_endpoint", "http://graph.microsoft.com/v1.0"),
    ],
)
def test_a_plain_http_endpoint_off_this_machine(
    install: Install, provider: str, key: str, url: str
) -> None:
    section = "gmail" if provider == "g" else "outlook"
    index = 1 if provider == "g" else 2
    install.account(provider)[section] = {key: url}
    [problem] = install.problems()
    assert problem.startswith(f"accounts.{index}.{section}.{key}: {url!r} would carry")
    assert "use an https:// URL" in problem


@pytest.mark.parametrize("url", ["http://127.0.0.1:8025", "http://localhost:1/", "http://[::1]:2"])
def test_plain_http_on_this_machine_is_a_sandbox(install: Install, url: str) -> None:
    install.account("g")["gmail"] = {"api_endpoint": url}
    assert install.invoke("config", "check").exit_code == 0


def test_a_sqlite_file_in_a_folder_that_does_not_exist(install: Install) -> None:
    install.settings["database_url"] = f"sqlite:///{install.root}/nowhere/gw.db"
    assert install.problems() == [
        f"database_url: the SQLite file's folder {install.root}/nowhere does not exist: "
        "create the folder or give another path"
    ]


def test_a_malformed_database_url_is_shown_without_its_password(install: Install) -> None:
    url = f"postgresql+psycopg://gw:{PASSWORD}@db:notaport/gw"
    install.monkeypatch.setenv("GHOSTWATCH_DATABASE_URL", url)
    [problem] = install.problems()
    assert problem.startswith(
        "database_url (from GHOSTWATCH_DATABASE_URL): "
        "'postgresql+psycopg://gw:***@db:notaport/gw' is not a database URL"
    )
    assert "s3cret" not in install.invoke("config", "check").output


def test_duplicate_names_are_reported_with_the_other_problems(install: Install) -> None:
    install.account("o")["name"] = "g"
    install.account("box")["time_zone"] = "Europe/Londn"
    problems = install.problems()
    assert [p.partition(":")[0] for p in problems] == ["accounts.0.time_zone", "accounts"]
    assert "account name 'g' is used twice" in problems[1]


def test_every_problem_at_once_and_run_refuses_before_the_first_poll(install: Install) -> None:
    install.account("box")["time_zone"] = "Europe/Londn"
    install.account("g")["gmail"] = {"api_endpoint": "http://gmail.example/"}
    install.settings["accounts"].append({"name": "new", "provider": "outlook", "address": ME})
    install.settings["accounts"].append({"name": "new", "provider": "gmail", "address": ME})
    install.settings["accounts"].append({"name": "late", "provider": "gmail", "address": ME})
    install.monkeypatch.setenv("GHOSTWATCH_HEALTH__ADDRESS", "everywhere")
    install.settings["database_url"] = f"sqlite:///{install.root}/nowhere/gw.db"
    expected = [
        "accounts.0.time_zone:",
        "accounts.1.gmail.api_endpoint:",
        "health.address (from GHOSTWATCH_HEALTH__ADDRESS):",
        "accounts: account name 'new' is used twice",
        "database_url: the SQLite file's folder",
        "account late: not signed in",  # the valid accounts are still checked
    ]
    for command in (("config", "check"), ("run", "--once")):
        problems = install.problems(*command)
        assert len(problems) == len(expected), problems
        for start in expected:
            assert len([p for p in problems if p.startswith(start)]) == 1, (start, problems)
    assert not (install.root / "nowhere").exists()
