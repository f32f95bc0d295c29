"""The Maildir++ layout (docs/scan-contract.md): folders, their roles, and message files.

INBOX is the root (`cur/`, `new/`); other folders are `.Name` subfolders whose role is
recognised by name, case-insensitively. `tmp/` holds deliveries in progress and is never
read (Maildir spec: a file there may be incomplete). This module lists a tree's folders and
message files and reads one file's headers; the Maildir provider reads whole trees
with it, and the sandboxes seed from it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from ghostwatch.errors import MailboxError
from ghostwatch.mail import parse
from ghostwatch.model.mail import Folder, Message

_ROLES: dict[Folder, frozenset[str]] = {
    Folder.SENT: frozenset(
        {"sent", "sent items", "sent messages", "sent mail", "[gmail].sent mail", "gesendet"}
    ),
    Folder.JUNK: frozenset(
        {"junk", "junk e-mail", "junk email", "spam", "bulk mail", "[gmail].spam"}
    ),
    Folder.DRAFTS: frozenset({"drafts", "[gmail].drafts", "draft"}),
    Folder.TRASH: frozenset(
        {"trash", "deleted items", "deleted messages", "[gmail].trash", "[gmail].bin", "bin"}
    ),
}


def folder_role(name: str) -> Folder:
    """The role of a Maildir++ folder, from its name (`.Sent`, `.INBOX.Junk`, ...)."""
    plain = name.lstrip(".").strip().lower()
    if plain.startswith("inbox."):
        plain = plain[len("inbox.") :]
    if plain in ("", "inbox"):
        return Folder.INBOX
    return next((role for role, names in _ROLES.items() if plain in names), Folder.OTHER)


@dataclass(frozen=True, slots=True)
class MaildirFolder:
    name: str
    path: Path
    role: Folder


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


SUBFOLDERS = ("cur", "new")
Entry = tuple[str, str, int]
"""A message file: its path, its key (folder and unique name), its inode."""


class MaildirTree:
    """The folders and message files of one Maildir++ tree."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise MailboxError(f"{root} is not a folder: pass --maildir the root of a Maildir")
        self.root = root
        self.folders = self._find_folders()
        if not self.folders:
            raise MailboxError(
                f"{root} is not a Maildir: expected cur/ and new/ (or .Folder subfolders) in it"
            )

    def _find_folders(self) -> list[MaildirFolder]:
        found = [MaildirFolder("INBOX", self.root, Folder.INBOX)] if _is_maildir(self.root) else []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".") and entry.is_dir() and _is_maildir(entry):
                name = entry.name[1:]
                found.append(MaildirFolder(name, entry, folder_role(name)))
        return found

    def files(self) -> Iterator[tuple[MaildirFolder, str, str]]:
        """(folder, path, key) for every message; keys are stable across flag changes."""
        for folder in self.folders:
            for sub in SUBFOLDERS:
                for path, key, _inode in self.entries(folder, sub):
                    yield folder, path, key

    def entries(self, folder: MaildirFolder, sub: str) -> list[Entry]:
        """(path, key, inode) of the messages in one of a folder's `cur/` or `new/`."""
        try:
            found = sorted(os.scandir(folder.path / sub), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []  # a Maildir may lack new/ or cur/; a stray file is not one
        except OSError as error:
            raise MailboxError(
                f"cannot read {folder.path / sub}: {error.strerror} "
                "(check the folder's permissions)"
            ) from error
        return [
            # Plain str paths: pathlib costs ~20 us a file at this scale.
            (entry.path, f"{folder.name}/{entry.name.partition(':')[0]}", entry.inode())
            for entry in found
            if not entry.name.startswith(".") and entry.is_file()
        ]

    def count(self) -> int:
        return sum(1 for _ in self.files())


# Real header blocks are 2-8 KB; most files are read in one small chunk.
_HEAD_CHUNK = 8 * 1024
_HEAD_LIMIT = 256 * 1024
_TIMESTAMP = re.compile(r"^(\d{9,11})\.")


def _fallback_date(path: str, unique: str) -> datetime | None:
    """Delivery time from the unique name (it starts with epoch seconds), else mtime."""
    match = _TIMESTAMP.match(unique)
    try:
        seconds = int(match[1]) if match else os.stat(path).st_mtime
        return datetime.fromtimestamp(seconds, UTC)
    except (OSError, OverflowError, ValueError):
        return None


def read_head(path: str) -> bytes:
    """A file's header block, read in small chunks until its end (unbuffered: 2x faster).

    Cut here, where the end had to be found anyway, so no byte is scanned twice."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, _HEAD_CHUNK)
        end = parse.header_end(data)
        while end == -1 and len(data) < _HEAD_LIMIT:
            more = os.read(fd, _HEAD_CHUNK)
            if not more:
                break
            data += more
            end = parse.header_end(data)
    finally:
        os.close(fd)
    return data[: _HEAD_LIMIT if end == -1 else min(end, _HEAD_LIMIT)]


def read_message(role: Folder, path: str, key: str) -> Message:
    """One message file's headers; its date, when the Date header has none that can be
    used, is the delivery time. Raises OSError, or what a broken header block raises."""
    message = parse.parse_block(read_head(path), key, role)
    if message.date is None:  # rare: worked out only then (a stat, a datetime)
        message = replace(message, date=_fallback_date(path, key.rpartition("/")[2]))
    return message
