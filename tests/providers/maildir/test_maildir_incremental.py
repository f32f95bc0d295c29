"""A daemon's Maildir read costs what changed, not the mailbox (issue 18): directories
whose modification time is unchanged are not listed again, and a file's headers are read
once per name and inode. The counts come from the reader's own `progress` (files whose
headers it read), on a real Maildir in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

from ghostwatch.providers.maildir.source import MaildirMailbox
from tests.support.builder import ME, Mailbox


def _box(root: Path) -> Mailbox:
    box = Mailbox(root)
    for n in range(5):
        box.add("INBOX", f"p{n}@example.com", ME, f"Question {n}", f"2026-11-0{n + 1} 09:00")
        box.add("Sent", ME, f"p{n}@example.com", f"Offer {n}", f"2026-11-0{n + 1} 08:00")
    return box


_OLD = 1_600_000_000 * 10**9
"""2020: long before any change a test makes."""


def _settle(root: Path) -> None:
    """Every directory and file last changed long ago, as in a mailbox nobody touched for
    a while (a change this recent is listed again on purpose: `RACY_NS`)."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(_OLD, _OLD))


def _read(reader: MaildirMailbox) -> tuple[set[str], int]:
    counted: list[int] = []
    messages = reader.read_headers(progress=counted.append)
    return {m.subject for m in messages}, sum(counted)


def test_an_unchanged_maildir_reads_no_file_again(tmp_path: Path) -> None:
    _box(tmp_path)
    _settle(tmp_path)
    reader = MaildirMailbox(tmp_path)
    subjects, read = _read(reader)
    assert (len(subjects), read) == (10, 10)
    assert _read(reader) == (subjects, 0)


def test_what_changed_is_read_and_nothing_else(tmp_path: Path) -> None:
    box = _box(tmp_path)
    _settle(tmp_path)
    reader = MaildirMailbox(tmp_path)
    subjects, _ = _read(reader)
    box.add("INBOX", "q@example.com", ME, "Re: Offer 1", "2026-11-10 09:00")
    assert _read(reader) == (subjects | {"Re: Offer 1"}, 1)
    # A flag change renames the file: same message, same inode, nothing read.
    [new] = [p for p in (tmp_path / "cur").iterdir() if p.stat().st_mtime_ns > _OLD]
    flagged = new.with_name(new.name.replace(":2,S", ":2,RS"))
    new.rename(flagged)
    assert _read(reader) == (subjects | {"Re: Offer 1"}, 0)
    flagged.unlink()
    assert _read(reader) == (subjects, 0)
    box.add("Clients", "c@example.com", ME, "Filed away", "2026-11-11 09:00")
    assert _read(reader) == (subjects | {"Filed away"}, 1)  # a new folder, found and read


def test_a_directory_changed_just_now_is_listed_again(tmp_path: Path) -> None:
    """A second change inside the timestamp's granularity leaves the time as it was: a
    listing taken right after a change is not trusted the next time."""
    box = _box(tmp_path)
    reader = MaildirMailbox(tmp_path)  # not settled: every directory changed just now
    subjects, _ = _read(reader)
    inbox = tmp_path / "cur"
    when = os.stat(inbox).st_mtime_ns
    box.add("INBOX", "q@example.com", ME, "Same tick", "2026-11-10 09:00")
    os.utime(inbox, ns=(when, when))  # as if it happened within the same tick
    assert _read(reader) == (subjects | {"Same tick"}, 1)
