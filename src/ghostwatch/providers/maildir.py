"""A Maildir++ tree, read-only (DESIGN.md §2).

INBOX is the root (`cur/`, `new/`); other folders are `.Name` subfolders whose role is
recognised by name, case-insensitively. `tmp/` holds deliveries in progress and is
never read (Maildir spec: a file there may be incomplete). Only the header block of
each file is read on the first pass; bodies are loaded later, by key, for the few
messages the engine asks about.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import structlog

from ghostwatch import mime, parse
from ghostwatch.errors import MailboxError
from ghostwatch.model import Content, Folder, Message

log = structlog.get_logger(__name__)

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
# Real header blocks are 2-8 KB; most files are read in one small chunk.
_HEAD_CHUNK = 16 * 1024
_HEAD_LIMIT = 256 * 1024
_TIMESTAMP = re.compile(r"^(\d{9,11})\.")


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


def _fallback_date(path: str, unique: str) -> datetime | None:
    """Delivery time from the unique name (it starts with epoch seconds), else mtime."""
    match = _TIMESTAMP.match(unique)
    try:
        seconds = int(match[1]) if match else os.stat(path).st_mtime
        return datetime.fromtimestamp(seconds, UTC)
    except (OSError, OverflowError, ValueError):
        return None


def _read_head(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(_HEAD_CHUNK)
        # The blank line ends the header block (RFC 5322 §2.1); CRLF files contain "\n\r\n".
        while b"\n\n" not in data and b"\n\r\n" not in data and len(data) < _HEAD_LIMIT:
            more = handle.read(_HEAD_CHUNK)
            if not more:
                break
            data += more
    return data


class MaildirMailbox:
    """Read-only access to one Maildir++ tree."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise MailboxError(f"{root} is not a folder: pass --maildir the root of a Maildir")
        self.root = root
        self.folders = self._find_folders()
        if not self.folders:
            raise MailboxError(
                f"{root} is not a Maildir: expected cur/ and new/ (or .Folder subfolders) in it"
            )
        self._paths: dict[str, str] = {}

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
            for sub in ("cur", "new"):
                try:
                    entries = sorted(os.scandir(folder.path / sub), key=lambda e: e.name)
                except (FileNotFoundError, NotADirectoryError):
                    continue  # a Maildir may lack new/ or cur/; a stray file is not one
                except OSError as error:
                    raise MailboxError(
                        f"cannot read {folder.path / sub}: {error.strerror} "
                        "(check the folder's permissions)"
                    ) from error
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file():
                        unique = entry.name.partition(":")[0]
                        # Plain str paths: pathlib costs ~20 us a file at this scale.
                        yield folder, entry.path, f"{folder.name}/{unique}"

    def count(self) -> int:
        return sum(1 for _ in self.files())

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        """Every message's headers; unreadable or broken files are skipped and logged."""
        messages: list[Message] = []
        for folder, path, key in self.files():
            message = self._read_one(folder, path, key)
            if message is not None:
                messages.append(message)
                self._paths[key] = path
            if progress is not None:
                progress(1)
        return messages

    def _read_one(self, folder: MaildirFolder, path: str, key: str) -> Message | None:
        try:
            fallback = _fallback_date(path, key.rpartition("/")[2])
            return parse.parse_headers(_read_head(path), key, folder.role, fallback)
        except OSError as error:
            log.warning("message_skipped", key=key, reason=f"unreadable: {error.strerror}")
        except Exception as error:  # noqa: BLE001 - one bad message must never stop a scan
            log.warning("message_skipped", key=key, reason=f"{type(error).__name__}: {error}")
        return None

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies (as `Content`) for the given keys; a broken body is skipped and logged."""
        contents: dict[str, Content] = {}
        for key in sorted(keys):
            path = self._paths.get(key)
            if path is None:
                continue
            try:
                tree = BytesParser(policy=compat32).parsebytes(Path(path).read_bytes())
                contents[key] = mime.extract_content(tree)
            except Exception as error:  # noqa: BLE001 - keep the headers-only view
                log.warning("body_skipped", key=key, reason=f"{type(error).__name__}: {error}")
        return contents

    def calendar(self) -> bytes | None:
        """The optional `calendar.ics` at the root (RFC 5545)."""
        path = self.root / "calendar.ics"
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError as error:
            raise MailboxError(f"cannot read {path}: {error.strerror}") from error
