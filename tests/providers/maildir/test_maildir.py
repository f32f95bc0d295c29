"""The Maildir reader: folder roles, keys, and the parallel read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostwatch.mail.maildir import folder_role
from ghostwatch.model.mail import Folder
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.port import MailSource
from tests.contracts.contract_mail_source import MailSourceContract
from tests.support.builder import ME, Mailbox


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("INBOX", Folder.INBOX),
        ("Sent", Folder.SENT),
        ("Sent Items", Folder.SENT),
        ("[Gmail].Sent Mail", Folder.SENT),
        ("INBOX.Sent Messages", Folder.SENT),
        ("junk e-mail", Folder.JUNK),
        ("Bulk Mail", Folder.JUNK),
        ("[Gmail].Spam", Folder.JUNK),
        ("Drafts", Folder.DRAFTS),
        ("Deleted Items", Folder.TRASH),
        ("Archive.2024", Folder.OTHER),
    ],
)
def test_folder_roles_are_recognised_by_name(name: str, role: Folder) -> None:
    assert folder_role(name) is role


def test_keys_survive_flag_changes_and_new_to_cur_moves(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    path = box.add_bytes("INBOX", b"From: a@b.example\nSubject: x\n\nhi\n", sub="new")
    [before] = MaildirMailbox(box.root).read_headers()
    path.rename(box.root / "cur" / (path.name.partition(":")[0] + ":2,RS"))
    [after] = MaildirMailbox(box.root).read_headers()
    assert before.key == after.key


def test_the_parallel_read_returns_exactly_the_serial_result(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    for n in range(120):
        folder = ("INBOX", "Sent", "Junk")[n % 3]
        box.add(
            folder,
            f"p{n}@contoso.example",
            ME,
            f"Subject {n % 17}",
            f"2026-11-{1 + n % 28:02d} 10:00",
        )
    box.add_bytes("INBOX", b"\xff\xfe garbage \x00")
    mailbox = MaildirMailbox(box.root)
    serial = mailbox.read_headers(workers=1)
    parallel = MaildirMailbox(box.root).read_headers(workers=2, parallel_from=1)
    assert parallel == serial
    assert len(serial) == 121
    ticks: list[int] = []
    MaildirMailbox(box.root).read_headers(progress=ticks.append, workers=2, parallel_from=1)
    assert sum(ticks) == 121


class TestMaildirContract(MailSourceContract):
    """The Maildir reader presents the seeded folder directly."""

    def open_source(self, maildir: Path) -> MailSource:
        return MaildirMailbox(maildir)


def test_an_unchanged_body_is_not_read_again_a_changed_one_is(tmp_path: Path) -> None:
    """A daemon asks for the same few bodies every cycle: a file whose inode, size and
    modification time are unchanged is neither read nor parsed twice (issue 15)."""
    box = Mailbox(tmp_path / "mail")
    sent = box.add("Sent", f"Alex <{ME}>", "kathy@contoso.example", "Proposal", "2026-11-16 10:00")
    box.add("INBOX", "kathy@contoso.example", ME, "Re: Proposal", "2026-11-17 09:00",
            reply_to=sent, body="Thursday works.\n")  # fmt: skip
    source = MaildirMailbox(box.root)
    (reply,) = [m for m in source.read_headers() if m.subject == "Re: Proposal"]
    first = source.load_content([reply.key])[reply.key]
    again = source.load_content([reply.key])[reply.key]
    assert again is first  # the cached Content itself, not a fresh parse
    (path,) = [p for p in box.root.glob("cur/*") if b"Thursday" in p.read_bytes()]
    path.write_bytes(path.read_bytes().replace(b"Thursday works.", b"Friday is better."))
    changed = source.load_content([reply.key])[reply.key]
    assert "Friday is better." in changed.text
