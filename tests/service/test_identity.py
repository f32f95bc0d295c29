"""The signed-in mailbox must be the configured address (issue 15, item 7): Gmail's
users.getProfile and Graph's GET /me, asked of the sandboxes through the real vault,
the real registry and the real daemon; and vault entries bound to their names."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from ghostwatch import config
from ghostwatch.errors import ForeignEntry, WrongMailbox
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.maildir.actions import MaildirActions
from ghostwatch.service.app import build_daemon, open_store
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.wiring import default_registry
from ghostwatch.store import Store
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import TokenVault
from tests.service.test_daemon_trouble import Mailbox, gmail, outlook
from tests.support.auth_fixtures import secret_key, vault

__all__ = ["gmail", "outlook", "secret_key", "vault"]  # fixtures, used by name
STRANGER = "sam@elsewhere.example"


@pytest.fixture(params=["gmail", "outlook"])
def mailbox(request: pytest.FixtureRequest) -> Mailbox:
    found: Mailbox = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as opened:
        opened.upgrade()
        yield opened


def _daemon(mailbox: Mailbox, store: Store, tmp_path: Path, address: str) -> Daemon:
    account = mailbox.account.model_copy(update={"address": address})
    settings = config.Settings(data_dir=tmp_path / "data", accounts=[account])
    clock = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return build_daemon(settings, store, mailbox.sign_ins, lambda: clock)


def test_a_sign_in_of_another_mailbox_refuses_to_start_naming_both(
    mailbox: Mailbox, store: Store, tmp_path: Path
) -> None:
    daemon = _daemon(mailbox, store, tmp_path, STRANGER)
    with pytest.raises(WrongMailbox) as refused:
        daemon.refuse_wrong_mailboxes()
    said = str(refused.value)
    assert "\n" not in said
    assert f"signed in as {mailbox.account.address}" in said
    assert f"its address is {STRANGER}" in said
    with store.transaction() as tx:
        assert tx.accounts() == []  # refused before any cycle read or wrote a thing


def test_the_configured_mailbox_starts_and_runs(
    mailbox: Mailbox, store: Store, tmp_path: Path
) -> None:
    daemon = _daemon(mailbox, store, tmp_path, mailbox.account.address.upper())
    daemon.refuse_wrong_mailboxes()
    assert daemon.run_once()["alex"] is not None


def test_every_reconnection_checks_the_mailbox_again(mailbox: Mailbox) -> None:
    registry = default_registry(
        mailbox.sign_ins.google, mailbox.sign_ins.microsoft, mailbox.sign_ins.imap
    )
    assert registry.open(mailbox.account).whoami is not None
    wrong = mailbox.account.model_copy(update={"address": STRANGER})
    with pytest.raises(WrongMailbox, match=STRANGER):
        registry.open(wrong)


def test_an_imap_login_written_as_another_address_is_refused() -> None:
    options = config.ImapOptions(host="127.0.0.1", tls="none", username=STRANGER)
    account = config.AccountConfig(
        name="box", provider="imap", address="alex@ghostwatch.example", imap=options
    )
    registry = default_registry(imap_passwords=lambda a: "app-password")
    with pytest.raises(WrongMailbox, match=f"signed in as {STRANGER}"):
        registry.open(account)  # no connection is needed to see it
    plain = config.ImapOptions(host="127.0.0.1", tls="none", username="alex")
    assert registry.open(account.model_copy(update={"imap": plain})).whoami is None


def test_a_vault_entry_copied_to_another_name_is_refused(vault: TokenVault) -> None:
    vault.put_json(google.entry_name("work"), {"kind": "installed", "authorized_user": {}})
    work = vault.directory / "google.work.secret"
    (vault.directory / "google.home.secret").write_bytes(work.read_bytes())
    with pytest.raises(ForeignEntry, match=r"'google\.work', not 'google\.home'"):
        vault.get_json(google.entry_name("home"))
    assert vault.get_json(google.entry_name("work")) == {
        "kind": "installed",
        "authorized_user": {},
    }


def test_what_ghostwatch_creates_is_private_whatever_the_umask(tmp_path: Path) -> None:
    data, mail = tmp_path / "fresh" / "data", tmp_path / "mail"
    (mail / "cur").mkdir(parents=True)
    account = config.AccountConfig(
        name="box", provider="maildir", address="alex@ghostwatch.example",
        maildir=config.MaildirOptions(path=mail),
    )  # fmt: skip
    before = os.umask(0)
    try:
        with open_store(config.Settings(data_dir=data, accounts=[account])):
            pass
        TokenVault(data / "tokens", resolve_key(new_key(), None)).put("google.x", b"secret")
        message = EmailMessage()
        message["Subject"] = "digest"
        digest = MaildirActions(mail).deliver_digest(message)
    finally:
        os.umask(before)
    written = next((mail / "new").iterdir())
    assert digest == f"INBOX/{written.name}"
    for folder in (data, data / "tokens", mail / "new", mail / "tmp"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (data / "ghostwatch.db", data / "tokens" / "google.x.secret", written):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
