"""`ghostwatch run --once`, `accounts`, `mute|unmute|note` through the real CLI, on a
Maildir account copied from the example mailbox and a Gmail account not yet signed in."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from ghostwatch import config
from ghostwatch.cli.main import main
from ghostwatch.model.decisions import State
from ghostwatch.providers.google import signin as google
from ghostwatch.store import Store
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
NOW = "2026-11-20T15:00:00+00:00"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GHOSTWATCH_SECRET_KEY", "GHOSTWATCH_DATABASE_URL", "GHOSTWATCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(EXAMPLE, tmp_path / "mail")
    data = {
        "data_dir": str(tmp_path / "data"),
        "log_format": "json",
        "accounts": [
            {
                "name": "box",
                "provider": "maildir",
                "address": ME,
                "time_zone": "Europe/London",
                "maildir": {"path": str(tmp_path / "mail")},
            },
            {"name": "g", "provider": "gmail", "address": ME, "enabled": False},
        ],
    }
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--config", str(path)])


def _store(path: Path) -> Store:
    return Store.open(config.load(path).database())


def test_run_once_then_accounts_shows_sign_in_and_last_cycle(setup: Path) -> None:
    before = _run(setup, "accounts")
    assert before.exit_code == 0, before.output
    assert "last cycle: never" in before.output
    ran = _run(setup, "run", "--once", "--now", NOW)
    assert ran.exit_code == 0, ran.output
    assert len(list((setup.parent / "mail" / ".Drafts" / "cur").iterdir())) > 1
    shown = _run(setup, "accounts").output
    assert "box: maildir\n  sign-in: local folder" in shown
    assert "last cycle: 2026-11-20T15:00:00" in shown
    assert "last error: none" in shown
    assert (
        "g: gmail (disabled)\n  sign-in: not signed in: run `ghostwatch auth google --account g`"
        in shown
    )


def test_accounts_shows_failing_cycles_until_a_digest_reports_them(setup: Path) -> None:
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 0
    assert "failing:" not in _run(setup, "accounts").output
    shutil.move(setup.parent / "mail", setup.parent / "mail-away")
    (setup.parent / "mail").mkdir()  # the folder is there, its Maildir is not
    for at in ("2026-11-20T15:05:00+00:00", "2026-11-20T15:10:00+00:00"):
        assert _run(setup, "run", "--once", "--now", at).exit_code == 1
    shown = _run(setup, "accounts").output
    assert "box: maildir" in shown
    assert (
        "failing: 2 cycle(s) since 2026-11-20T15:05:00+00:00, reported in the next digest" in shown
    )
    shutil.rmtree(setup.parent / "mail")
    shutil.move(setup.parent / "mail-away", setup.parent / "mail")
    monday = "2026-11-23T08:00:00+00:00"  # after the digest time: the digest goes out
    assert _run(setup, "run", "--once", "--now", monday).exit_code == 0
    assert "failing:" not in _run(setup, "accounts").output


@pytest.mark.parametrize("no_digest", [{"digest": False}, {"dry_run": True}], ids=str)
def test_without_a_digest_failing_ends_with_the_next_good_cycle(
    setup: Path, no_digest: dict[str, bool]
) -> None:
    data = yaml.safe_load(setup.read_text())
    data["accounts"][0] |= no_digest
    setup.write_text(yaml.safe_dump(data))
    shutil.move(setup.parent / "mail", setup.parent / "mail-away")
    (setup.parent / "mail").mkdir()
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 1
    shown = _run(setup, "accounts").output
    assert "failing: 1 cycle(s) since 2026-11-20T15:00:00+00:00, until a cycle succeeds" in shown
    shutil.rmtree(setup.parent / "mail")
    shutil.move(setup.parent / "mail-away", setup.parent / "mail")
    # No digest will ever report it: the good cycle is the end of it.
    assert _run(setup, "run", "--once", "--now", "2026-11-20T15:05:00+00:00").exit_code == 0
    assert "failing:" not in _run(setup, "accounts").output


def test_mute_note_and_unmute_reach_the_next_cycle(setup: Path) -> None:
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 0
    with _store(setup) as store, store.transaction() as tx:
        snapshots = tx.snapshots(1)
    due = next(s.conversation for s in snapshots.values() if s.state == State.DUE)
    assert _run(setup, "mute", due, "--account", "box").exit_code == 0
    noted = _run(
        setup, "note", due, "They asked for the Q1 pricing", "--account", "box", "--high-value"
    )
    assert noted.exit_code == 0, noted.output
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 0
    with _store(setup) as store, store.transaction() as tx:
        assert tx.snapshots(1)[due].state == State.MUTED
        settings = tx.conversation_settings(1)[due]
    assert (settings.muted, settings.note, settings.high_value) == (
        True,
        "They asked for the Q1 pricing",
        True,
    )
    assert _run(setup, "unmute", due, "--account", "box").exit_code == 0
    assert _run(setup, "note", due, "--account", "box", "--not-high-value").exit_code == 0
    with _store(setup) as store, store.transaction() as tx:
        settings = tx.conversation_settings(1)[due]
    assert (settings.muted, settings.note, settings.high_value) == (
        False,
        "They asked for the Q1 pricing",
        False,
    )


def test_note_says_in_words_what_it_changed(setup: Path) -> None:
    """Each form of `note` answers with a sentence, never a raw True or False."""
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 0
    with _store(setup) as store, store.transaction() as tx:
        due = next(s.conversation for s in tx.snapshots(1).values() if s.state == State.DUE)
    said = {
        args: _run(setup, "note", due, *args, "--account", "box").output.strip()
        for args in [
            ("--high-value",),
            ("--not-high-value",),
            ("They asked for the Q1 pricing", "--high-value"),
            ("They asked for the Q1 pricing", "--not-high-value"),
            ("They asked for the Q1 pricing",),
            (),
        ]
    }
    assert said == {
        ("--high-value",): f"{due} is now marked high value: shown first in the digest, "
        "with escalation suggested",
        ("--not-high-value",): f"{due} is no longer marked high value",
        ("They asked for the Q1 pricing", "--high-value"): f"noted {due}; it is now marked "
        "high value: shown first in the digest, with escalation suggested",
        ("They asked for the Q1 pricing", "--not-high-value"): f"noted {due}; it is no longer "
        "marked high value",
        ("They asked for the Q1 pricing",): f"noted {due}",
        (): f"cleared the note on {due}",
    }
    with _store(setup) as store, store.transaction() as tx:
        settings = tx.conversation_settings(1)[due]
    assert (settings.note, settings.high_value) == (None, False)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["mute", "no-such-conversation", "--account", "box"], "ID column of `ghostwatch scan`"),
        (["mute", "x", "--account", "nobody"], "no account 'nobody'"),
        (["mute", "x"], "pass --account"),
        (["run", "--now", NOW], "only with --once"),
    ],
)
def test_mistakes_exit_2_with_the_fix(setup: Path, args: list[str], says: str) -> None:
    assert _run(setup, "run", "--once", "--now", NOW).exit_code == 0
    result = _run(setup, *args)
    assert result.exit_code == 2
    assert says in result.output


def test_accounts_says_what_kind_of_sign_in_the_vault_holds(
    setup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", key)
    vault = vault_in(config.load(setup).data_dir, resolve_key(key, None))
    vault.put_json(google.entry_name("g"), {"kind": "service_account", "subject": ME})
    shown = _run(setup, "accounts").output
    assert f"g: gmail (disabled)\n  sign-in: google: service account acting as {ME}" in shown
    monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    shown = _run(setup, "accounts").output  # without the key: whether, not what kind
    assert "g: gmail (disabled)\n  sign-in: signed in (tokens in the vault)" in shown


def test_the_daemon_reads_the_key_from_the_file_the_deploy_files_name(
    setup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, other = new_key(), new_key()
    vault = vault_in(config.load(setup).data_dir, resolve_key(key, None))
    vault.put_json(google.entry_name("g"), {"kind": "service_account", "subject": ME})
    key_file = tmp_path / "ghostwatch_secret_key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("GHOSTWATCH_SECRET_KEY_FILE", str(key_file))
    shown = _run(setup, "accounts").output
    assert f"sign-in: google: service account acting as {ME}" in shown
    monkeypatch.setenv("GHOSTWATCH_SECRET_KEY", other)
    clash = _run(setup, "accounts")
    assert clash.exit_code == 2
    assert "hold different keys: keep only one" in clash.output
    monkeypatch.delenv("GHOSTWATCH_SECRET_KEY")
    key_file.unlink()
    missing = _run(setup, "accounts")
    assert missing.exit_code == 2
    assert "cannot read the key file" in missing.output


def test_run_once_reports_progress_per_account(setup: Path) -> None:
    from ghostwatch.providers.maildir.source import MaildirMailbox
    from ghostwatch.service.app import run_once

    counted: dict[str, int] = {}

    def progress(name: str) -> Callable[[int], None]:
        def tick(count: int) -> None:
            counted[name] = counted.get(name, 0) + count

        return tick

    settings = config.load(setup)
    before = MaildirMailbox(setup.parent / "mail").count()  # the cycle adds drafts
    reports = run_once(settings, now=datetime.fromisoformat(NOW), progress=progress)
    assert reports["box"] is not None
    assert counted == {"box": before}


def test_run_once_exits_1_naming_the_account_when_an_action_failed(setup: Path) -> None:
    drafts = setup.parent / "mail" / ".Drafts"
    shutil.rmtree(drafts / "tmp", ignore_errors=True)
    (drafts / "tmp").write_text("not a folder: every draft written here fails")
    ran = _run(setup, "run", "--once", "--now", NOW)
    assert ran.exit_code == 1, ran.output
    lines = [line for line in ran.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1
    assert "box: " in lines[0]
    assert "action(s) failed (create_draft x" in lines[0]
    # The digest (written to the INBOX, not the broken Drafts) still went out.
    assert list((setup.parent / "mail" / "new").iterdir())
