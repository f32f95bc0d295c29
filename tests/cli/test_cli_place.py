"""One place for everything a command needs (issue 16, found 6): `auth`, `db upgrade` and
`health` read the configuration `ghostwatch run` reads (`--config`, env
GHOSTWATCH_CONFIG) and work in its `data_dir`, so `accounts` and `auth check` never
disagree about a sign-in, and the health check asks where the daemon listens."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from ghostwatch.providers.google import signin as google
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.health_server import StatusServer, server

__all__ = ["server"]  # the fixture

ME = "alex@ghostwatch.example"


def _ghostwatch(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", *args], capture_output=True, text=True,
        env={**keep, **env}, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def _config(tmp_path: Path, data_dir: Path, **more: object) -> Path:
    account = {"name": "alex", "provider": "gmail", "address": ME}
    path = tmp_path / "elsewhere" / "ghostwatch.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({"data_dir": str(data_dir), "accounts": [account], **more}))
    return path


def test_auth_check_and_accounts_read_the_configurations_data_dir(tmp_path: Path) -> None:
    key, data = new_key(), tmp_path / "state"
    config = _config(tmp_path, data)
    with GmailSandbox.serve(user=ME) as sandbox:
        vault = vault_in(data, resolve_key(key, None))
        granted = sandbox.sign_in(google.google_scopes(junk_rescue=False))
        google.store_user_login(vault, "alex", granted)
        # Run from a folder with no data/ of its own: only the configuration says where.
        by_flag = _ghostwatch("auth", "check", "--account", "alex", "--config", str(config),
                              cwd=tmp_path, GHOSTWATCH_SECRET_KEY=key)  # fmt: skip
        by_env = _ghostwatch("auth", "check", "--account", "alex", cwd=tmp_path,
                             GHOSTWATCH_SECRET_KEY=key, GHOSTWATCH_CONFIG=str(config))  # fmt: skip
    assert by_flag.returncode == 0, by_flag.stderr
    assert by_flag.stdout.strip() == "alex: google (installed app): ok"
    assert by_env.returncode == 0, by_env.stderr
    listed = _ghostwatch("accounts", "--config", str(config), cwd=tmp_path,
                         GHOSTWATCH_SECRET_KEY=key)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "sign-in: google: signed in" in listed.stdout
    assert not (tmp_path / "data").exists()


def test_data_dir_on_the_command_line_still_wins(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "state")
    done = _ghostwatch("auth", "check", "--account", "alex", "--config", str(config),
                       "--data-dir", str(tmp_path / "other"), cwd=tmp_path,
                       GHOSTWATCH_SECRET_KEY=new_key())  # fmt: skip
    assert done.returncode == 2
    assert f"no sign-in stored for account 'alex' in {tmp_path / 'other' / 'tokens'}" in done.stderr


def test_auth_check_names_the_one_command_or_the_account_that_is_not_configured(
    tmp_path: Path,
) -> None:
    """Nothing stored: for a configured account, its provider's command alone; for a name
    the configuration lacks (a typo), that, rather than a sign-in command that would
    store a grant no account reads."""
    config = _config(tmp_path, tmp_path / "state")
    key = new_key()
    known = _ghostwatch("auth", "check", "--account", "alex", "--config", str(config),
                        cwd=tmp_path, GHOSTWATCH_SECRET_KEY=key)  # fmt: skip
    tokens = tmp_path / "state" / "tokens"
    assert (known.returncode, known.stdout) == (2, "")
    assert known.stderr == (
        f"Error: no sign-in stored for account 'alex' in {tokens}: "
        "run `ghostwatch auth google --account alex`\n"
    )
    typo = _ghostwatch("auth", "check", "--account", "alx", "--config", str(config),
                       cwd=tmp_path, GHOSTWATCH_SECRET_KEY=key)  # fmt: skip
    assert (typo.returncode, typo.stdout) == (2, "")
    assert typo.stderr == (
        f"Error: no sign-in stored for account 'alx' in {tokens}: {config} has no account "
        "'alx' (accounts: alex): check the name, or add the account there first\n"
    )


def test_db_upgrade_migrates_the_database_run_would_open(tmp_path: Path) -> None:
    data = tmp_path / "state"
    config = _config(tmp_path, data)
    done = _ghostwatch("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database at revision ")
    with sqlite3.connect(data / "ghostwatch.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
    assert "ghostwatch_alembic_version" in tables
    assert not (tmp_path / "ghostwatch.db").exists()


def test_health_asks_the_address_the_configuration_gives(
    tmp_path: Path, server: StatusServer
) -> None:
    server.statuses["/healthz"] = 200
    health = {"address": f"127.0.0.1:{server.port}"}
    config = _config(tmp_path, tmp_path / "state", health=health)
    done = _ghostwatch("health", cwd=tmp_path, GHOSTWATCH_CONFIG=str(config))
    assert done.returncode == 0, done.stderr
    assert server.asked == ["/healthz"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("health: [\n")
    unread = _ghostwatch("health", "--config", str(broken), cwd=tmp_path)
    assert unread.returncode == 1  # Docker reserves 2: a health check says 0 or 1
    assert unread.stderr.startswith("unhealthy: ")
