"""A Maildir account for the rigs' stories (`tests/support/provider_rigs.py`): a real Maildir++
tree, copied from a seed into a temporary folder, that `run_cycle` reads and writes."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path
from typing import Any

from ghostwatch.model.mail import Folder, normalize_subject
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.maildir.actions import MaildirActions
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.port import MailActions
from ghostwatch.service.cycle import CycleReport
from ghostwatch.store import Store
from tests.support.provider_rigs import (
    DIGEST_ID,
    STEP,
    Sleeps,
    one_cycle,
    preview,
    text_of,
    with_text,
    without_step,
)

_MAILDIR_FOLDERS = {Folder.INBOX: "", Folder.JUNK: ".Junk", Folder.DRAFTS: ".Drafts"}
_SERIAL = itertools.count()


@dataclass
class MaildirRig:
    """A real Maildir++ tree in a temporary folder, read back file by file (not through
    the code under test). It has no API to arm: its `mutations` are the files made or
    removed since the rig opened, for a Maildir's every write is a file made or renamed."""

    root: Path
    store: Store
    account: str = "alex"
    provider: str = "maildir"
    sleeps: Sleeps = field(default_factory=Sleeps)
    """Stays empty: a Maildir's calls are not retried."""

    def __post_init__(self) -> None:
        self.opened = set(self.files())
        self.restart()

    def restart(self) -> None:
        self.source = MaildirMailbox(self.root)
        self.actions = MaildirActions(self.root)

    def cycle(
        self, now: datetime, actions: MailActions | None = None, **options: Any
    ) -> CycleReport:
        return one_cycle(self, self.source, now, actions, **options)

    def preview(self, now: datetime) -> list[Draft]:
        return preview(MaildirMailbox(self.root), now)

    def steps(self) -> Counter[str]:
        drafts = (_head(path).get(STEP) for path in self.files(Folder.DRAFTS))
        return Counter(step for step in drafts if step)

    def digests(self) -> int:
        ids = (_head(path).get("Message-ID", "") for path in self.files())
        return sum(1 for found in ids if found.startswith(DIGEST_ID))

    def count(self, folder: Folder) -> int:
        return len(self.files(folder))

    def delete_draft(self, draft_id: str) -> None:
        """What the user's mail client does: the draft's file is gone."""
        _folder, _, unique = draft_id.partition("/")
        [path] = [p for p in self.files(Folder.DRAFTS) if p.name.partition(":")[0] == unique]
        path.unlink()

    def deliver(self, raw: bytes, sent: bool = False) -> None:
        """Mail arrives: a file in the INBOX's new/ (or, sent, in .Sent/cur/)."""
        self._put(self.root / ".Sent" / "cur" if sent else self.root / "new", raw, "")

    def add_draft(self, raw: bytes) -> str:
        """A draft the user's client (or another app) saves: a file in .Drafts/cur/."""
        return f"Drafts/{self._put(self.root / '.Drafts' / 'cur', raw, ':2,DS')}"

    def edit_draft(self, draft_id: str, text: str) -> str:
        """The user's client rewrites the draft's text in place: same file name."""
        path = self._draft(draft_id)
        path.write_bytes(with_text(path.read_bytes(), text))
        return draft_id

    def digest_text(self) -> str:
        [digest] = [p for p in self.files() if _head(p).get("Message-ID", "").startswith(DIGEST_ID)]
        return text_of(digest.read_bytes())

    def mark(self, subject: str, name: str, on: bool = True) -> None:
        """What the user's mail client does: a copy of every message of the conversation
        in the folder `name` (`ghostwatch/mute` is `.ghostwatch.mute` on disk, Maildir++),
        made once; taking the mark off deletes the copies."""
        folder = self.root / ("." + name.replace("/", "."))
        wanted = normalize_subject(subject)
        if not on:
            for path in self._in(folder):
                if normalize_subject(str(_head(path).get("Subject", ""))) == wanted:
                    path.unlink()
            return
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for path in self.files():
            if path.parent.parent in (folder, self.root / ".Drafts"):
                continue
            if normalize_subject(str(_head(path).get("Subject", ""))) == wanted:
                shutil.copyfile(path, folder / "cur" / f"{path.name.partition(':')[0]}:2,S")

    def _in(self, folder: Path) -> list[Path]:
        return sorted(p for sub in ("cur", "new") for p in (folder / sub).glob("*"))

    def _put(self, folder: Path, raw: bytes, flags: str) -> str:
        unique = f"1795000000.M{next(_SERIAL)}P1.test"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{unique}{flags}").write_bytes(raw)
        return unique

    def _draft(self, draft_id: str) -> Path:
        _folder, _, unique = draft_id.partition("/")
        [path] = [p for p in self.files(Folder.DRAFTS) if p.name.partition(":")[0] == unique]
        return path

    def forget_step(self, draft_id: str) -> None:
        """The draft's file keeps its name but no longer carries X-Ghostwatch-Step (a
        client re-saved it in place without the fields it does not know)."""
        path = self._draft(draft_id)
        path.write_bytes(without_step(path.read_bytes()))

    def mutations(self) -> list[Path]:
        return sorted(self.opened.symmetric_difference(self.files()))

    def files(self, folder: Folder | None = None) -> list[Path]:
        """Message files in `folder`'s cur/ and new/, or in every folder's."""
        everywhere = [self.root, *self.root.glob(".*")]
        bases = everywhere if folder is None else [self.root / _MAILDIR_FOLDERS[folder]]
        found = (p for base in bases for sub in ("cur", "new") for p in (base / sub).glob("*"))
        return sorted(p for p in found if not p.name.startswith("."))


def _head(path: Path) -> EmailMessage:
    with path.open("rb") as data:
        head = BytesHeaderParser(policy=default).parse(data)
    assert isinstance(head, EmailMessage)
    return head


@contextmanager
def maildir_rig(seed: Path, store: Store, account: str = "alex") -> Iterator[MaildirRig]:
    """An account on a copy of the Maildir `seed`, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="ghostwatch-maildir-") as folder:
        root = Path(folder) / "mail"
        shutil.copytree(seed, root)
        yield MaildirRig(root, store, account)
