"""A Maildir++ tree as a mail source, read-only (the layout: mail/maildir.py).

Only the header block of each file is read on the first pass, by worker processes when
the tree is large; bodies are loaded later, by key, for the few messages the engine asks
about. One unreadable or broken file is skipped and logged, never the scan.

A daemon reads the same tree every cycle, so the work is what changed, not the mailbox:
a `cur/` or `new/` directory whose modification time is unchanged is not listed again
(a file added, removed or renamed — a flag change, a move from `new/` to `cur/` —
changes its directory's time), and a file's headers are read once per name and inode
(a Maildir message's bytes never change: a client rewrites by delivering a new file). A
directory changed within `RACY_NS` of being listed is listed again next time, since a
second change inside the file system's timestamp granularity would leave its time as
it was (the rule git's index applies to "racily clean" entries).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import structlog

from ghostwatch.errors import MailboxError
from ghostwatch.mail import ics, mime
from ghostwatch.mail.maildir import SUBFOLDERS, Entry, MaildirFolder, MaildirTree, read_message
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Folder, Message, marks_named

log = structlog.get_logger(__name__)
RACY_NS = 2_000_000_000
"""How recent (ns) a directory's change may be for its listing not to be trusted again."""
_Identity = tuple[int, int, int, str]
"""A file's inode, size, modification time (ns) and path: any change reads it again."""

# Below this many files one process is quicker than starting workers.
_PARALLEL_FROM = 4000
_CHUNK_FILES = 2000


def _read_one(role: Folder, path: str, key: str) -> Message | None:
    try:
        return read_message(role, path, key)
    except FileNotFoundError:  # a mail client renamed it (a flag changed) or moved it
        log.warning("message_skipped", key=key, reason="gone while reading")
    except OSError as error:
        # A message that cannot be read could be the reply: deciding without it would
        # take silence for an answer not yet seen. Not skipped: the scan stops (issue 16).
        raise MailboxError(
            f"cannot read {path}: {error.strerror or error}; it could be the reply, so "
            "nothing is decided without it: check the file's permissions and its disk"
        ) from error
    except Exception as error:  # noqa: BLE001 - one bad message must never stop a scan
        log.warning("message_skipped", key=key, reason=f"{type(error).__name__}: {error}")
    return None


def _read_chunk(files: list[tuple[Folder, str, str]]) -> list[Message]:
    """Top-level so worker processes can run it."""
    return [m for role, path, key in files if (m := _read_one(role, path, key)) is not None]


def _gather(
    results: Iterable[list[Message]],
    chunks: list[list[tuple[Folder, str, str]]],
    progress: Callable[[int], None] | None,
) -> list[Message]:
    messages: list[Message] = []
    for chunk, found in zip(chunks, results, strict=True):
        messages.extend(found)
        if progress is not None:
            progress(len(chunk))
    return messages


def _leave_ctrl_c_to_the_parent() -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker would print its own
    KeyboardInterrupt traceback. The parent alone stops (cli/interrupt.py)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _mtime(path: Path) -> int:
    """A directory's modification time in ns; -1 when it cannot be read (listed anew)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _settled(mtime: int) -> bool:
    return mtime >= 0 and time.time_ns() - mtime > RACY_NS


def _can_fork() -> bool:
    # fork is what makes workers cheap (no re-import); where it is missing, read serially.
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True, slots=True)
class _Listing:
    """A directory's entries, and the modification time they were listed at."""

    mtime: int
    trusted: bool
    """Changed long enough before the listing that an unchanged time means no change."""
    entries: list[Entry]


class MaildirMailbox(MaildirTree):
    """Read-only access to one Maildir++ tree: its messages' headers, bodies and calendar."""

    def __init__(self, root: Path, body_limit: int = mime.MAX_BODY_BYTES) -> None:
        super().__init__(root)
        self._paths: dict[str, str] = {}
        self.body_limit = body_limit
        self._bodies: dict[str, tuple[_Identity, Content]] = {}
        """key → the file it was read from and its Content: a daemon's next cycle asks for
        the same few bodies again, and an unchanged file is not read or parsed twice."""
        self._listings: dict[str, _Listing] = {}
        """Directory (the tree's root, a folder's cur/ or new/) → its last listing."""
        self._headers: dict[tuple[str, int], Message | None] = {}
        """(key, inode) → the file's headers (None: a broken file, skipped)."""

    def read_headers(
        self,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
        parallel_from: int = _PARALLEL_FROM,
    ) -> list[Message]:
        """Every message's headers; broken files are skipped and logged, a file that
        cannot be read at all is a `MailboxError`.

        Large mailboxes are read by worker processes (the work is CPU-bound header
        decoding); the result is the same list, in the same order, either way.
        """
        self._refresh_folders()
        listed = [(folder.role, entry) for folder in self.folders for sub in SUBFOLDERS
                  for entry in self._listed(folder.path / sub, folder, sub)]  # fmt: skip
        self._paths.update((key, path) for _, (path, key, _inode) in listed)
        todo = [(role, path, key) for role, (path, key, inode) in listed
                if (key, inode) not in self._headers]  # fmt: skip
        read = {m.key: m for m in self._read(todo, progress, workers, parallel_from)}
        known = {(key, inode): self._headers.get((key, inode), read.get(key))
                 for _, (_path, key, inode) in listed}  # fmt: skip
        self._headers = known  # files gone from the tree are forgotten
        found = [m for _, (_path, key, inode) in listed if (m := known[key, inode]) is not None]
        return self._marked(found)

    def _read(
        self,
        files: list[tuple[Folder, str, str]],
        progress: Callable[[int], None] | None,
        workers: int | None,
        parallel_from: int,
    ) -> list[Message]:
        count = workers if workers is not None else min(os.cpu_count() or 1, 4)
        size = max(1, min(_CHUNK_FILES, len(files) // (4 * count) + 1))
        chunks = [files[i : i + size] for i in range(0, len(files), size)]
        if count <= 1 or len(files) < parallel_from or not _can_fork():
            return _gather(map(_read_chunk, chunks), chunks, progress)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_leave_ctrl_c_to_the_parent
        ) as pool:
            return _gather(pool.map(_read_chunk, chunks), chunks, progress)

    def _marked(self, messages: list[Message]) -> list[Message]:
        """A message in the folder `.ghostwatch.mute` (`ghostwatch/mute` in a mail client)
        carries that mark: the user copied it there (docs/rules.md, "The mailbox as the
        control panel"). Keys start with their folder's name."""
        marks = {f.name: m for f in self.folders if (m := marks_named([f.name]))}
        if not marks:
            return messages
        return [
            replace(m, marks=found) if (found := marks.get(m.key.partition("/")[0])) else m
            for m in messages
        ]

    def _refresh_folders(self) -> None:
        """Folders made or removed since the last read (they change the root's time)."""
        if self._changed(self.root):
            self.folders = self._find_folders() or self.folders

    def _listed(self, path: Path, folder: MaildirFolder, sub: str) -> list[Entry]:
        kept = self._listings.get(str(path))
        if kept is not None and not self._changed(path):
            return kept.entries
        mtime = _mtime(path)  # before listing: a change while listing moves it on
        entries = self.entries(folder, sub)
        self._listings[str(path)] = _Listing(mtime, _settled(mtime), entries)
        return entries

    def _changed(self, path: Path) -> bool:
        """Whether `path` may have changed since it was last listed (always, the first time)."""
        kept = self._listings.get(str(path))
        mtime = _mtime(path)
        if kept is None or not kept.trusted or kept.mtime != mtime:
            if path == self.root:
                self._listings[str(path)] = _Listing(mtime, _settled(mtime), [])
            return True
        return False

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        """Bodies (as `Content`) for the given keys, at most `body_limit` bytes of each;
        an unchanged file comes from the cache; a broken body is skipped and logged."""
        contents: dict[str, Content] = {}
        for key in sorted(keys):
            path = self._paths.get(key)
            if path is None:
                continue
            try:
                contents[key] = self._content(key, path)
            except Exception as error:  # noqa: BLE001 - keep the headers-only view
                log.warning("body_skipped", key=key, reason=f"{type(error).__name__}: {error}")
        # Only what this cycle asked for stays: the cache never outgrows one cycle's bodies.
        self._bodies = {key: self._bodies[key] for key in contents if key in self._bodies}
        return contents

    def _content(self, key: str, path: str) -> Content:
        with open(path, "rb") as file:
            found = os.fstat(file.fileno())
            identity = (found.st_ino, found.st_size, found.st_mtime_ns, path)
            cached = self._bodies.get(key)
            if cached is not None and cached[0] == identity:
                return cached[1]
            content = mime.content_of(file.read(self.body_limit), self.body_limit)
        self._bodies[key] = (identity, content)
        return content

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        """Events from `calendar.ics` (none without one); see `MailSource.events`."""
        data = self.calendar()
        if data is None:
            return ()
        try:
            return ics.read_calendar(data, start, end)
        except ValueError as error:
            # The library quotes the raw line: keep control characters off the terminal.
            detail = "".join(c if c.isprintable() else "?" for c in str(error))[:200]
            path = self.root / "calendar.ics"
            raise MailboxError(f"{path} is not a readable iCalendar file ({detail})") from error

    def calendar(self) -> bytes | None:
        """The optional `calendar.ics` at the root (RFC 5545)."""
        path = self.root / "calendar.ics"
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError as error:
            raise MailboxError(f"cannot read {path}: {error.strerror}") from error
