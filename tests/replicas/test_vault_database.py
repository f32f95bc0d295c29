"""The token vault in a shared PostgreSQL (issue 18): the same key and the same Fernet
tokens as the files, moved in by one idempotent command, so that a replica with only
the database URL and the key (no data folder of its own) reads every sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from google.oauth2.credentials import Credentials

from ghostwatch import config
from ghostwatch.cli.main import main
from ghostwatch.providers.google import signin as google
from ghostwatch.service.accounts import statuses
from ghostwatch.service.app import settings_vault, vault_sign_ins
from ghostwatch.store import Store
from ghostwatch.store.vault_rows import DatabaseEntries
from ghostwatch.vault.keys import SecretKey, new_key
from ghostwatch.vault.tokens import vault_in

pytestmark = [pytest.mark.server]

ENTRY = {"kind": "installed", "refresh_token": "1//refresh-me", "client_id": "id"}


def _settings(folder: Path, url: str, key: str) -> tuple[Path, config.Settings]:
    data = {
        "data_dir": str(folder / "data"),
        "database_url": url,
        "secret_key": key,
        "vault": "database" if url.startswith("postgresql") else "files",
        "accounts": [{"name": "alex", "provider": "gmail", "address": "alex@example.com"}],
    }
    path = folder / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path, config.Settings.model_validate(data)


def test_import_vault_moves_the_files_in_byte_for_byte_once(tmp_path: Path, pg_url: str) -> None:
    key = new_key()
    path, settings = _settings(tmp_path, pg_url, key)
    files = vault_in(settings.data_dir, SecretKey.parse(key, "test"))
    files.put_json("google.alex", ENTRY)
    files.put_json("imap.bob", {"password": "hunter2"})
    runner = CliRunner()
    first = runner.invoke(main, ["db", "import-vault", "--config", str(path)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("copied 2 vault entries")
    again = runner.invoke(main, ["db", "import-vault", "--config", str(path)])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("copied 0 vault entries")
    assert "kept 2" in again.output
    with Store.open(pg_url) as store:
        rows = DatabaseEntries(store.engine)
        assert rows.names() == ["google.alex", "imap.bob"]
        for name in rows.names():  # the same Fernet token the file holds, not re-encrypted
            assert rows.read(name) == files.entries.read(name)
        # A replica has no data folder: only the URL and the key.
        elsewhere = settings.model_copy(update={"data_dir": tmp_path / "empty"})
        vault = settings_vault(elsewhere, store)
        assert vault is not None
        assert vault.get_json("google.alex") == ENTRY
        [status] = statuses(elsewhere, store, vault)
        assert status.auth == "google: signed in (installed app)"


def test_a_sign_in_renewed_in_the_database_is_not_undone_by_importing_again(
    tmp_path: Path, pg_url: str
) -> None:
    key = new_key()
    path, settings = _settings(tmp_path, pg_url, key)
    vault_in(settings.data_dir, SecretKey.parse(key, "test")).put_json("google.alex", ENTRY)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "import-vault", "--config", str(path)]).exit_code == 0
    with Store.open(pg_url) as store:
        shared = settings_vault(settings, store)
        assert shared is not None
        shared.put_json("google.alex", {**ENTRY, "refresh_token": "1//renewed"})
        assert runner.invoke(main, ["db", "import-vault", "--config", str(path)]).exit_code == 0
        assert (shared.get_json("google.alex") or {})["refresh_token"] == "1//renewed"


def test_the_daemon_reads_its_sign_ins_from_the_database(tmp_path: Path, pg_url: str) -> None:
    key = new_key()
    _, settings = _settings(tmp_path, pg_url, key)
    with Store.open(pg_url) as store:
        store.upgrade()
        shared = settings_vault(settings, store)
        assert shared is not None
        granted = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token="1//refresh-me",
            token_uri="http://127.0.0.1:9/token",
            client_id="id",
            client_secret="secret",
            scopes=[google.READ, google.DRAFTS, google.DIGEST, google.CALENDAR, google.MEET],
        )
        google.store_user_login(shared, "alex", granted)
        assert not (settings.data_dir / "tokens").exists()  # nothing on a volume
        credentials = vault_sign_ins(settings, store).google(settings.accounts[0])
        assert credentials.refresh_token == "1//refresh-me"


def test_import_vault_refuses_a_sqlite_database(tmp_path: Path) -> None:
    path, _ = _settings(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", new_key())
    result = CliRunner().invoke(main, ["db", "import-vault", "--config", str(path)])
    assert result.exit_code == 2
    assert "PostgreSQL database only" in result.output
