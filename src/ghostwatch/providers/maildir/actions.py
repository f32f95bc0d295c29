"""A Maildir++ tree, writable: the `MailActions` of a local mailbox.

Deliveries follow the Maildir protocol (https://cr.yp.to/proto/maildir.html): a file is
written under `tmp/` with a unique name, then renamed into `cur/` or `new/`, so a reader
never sees half a message. Drafts go to `.Drafts/cur/` with the `D` (draft) flag, the
digest to the INBOX's `new/` (unseen), a rescued reply is renamed from `.Junk/` into the
INBOX keeping its name and flags. Ids are the keys `MaildirMailbox` reads them back under
(`Folder/unique`), so the cycle's ledger and the scan speak of the same messages.
"""

from __future__ import annotations

import copy
import itertools
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from ghostwatch import private
from ghostwatch.errors import MailboxError
from ghostwatch.mail import outgoing
from ghostwatch.mail.fingerprint import fingerprint_mime
from ghostwatch.mail.maildir import folder_role, read_head
from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.port import DraftListing

STEP_HEADER = "X-Ghostwatch-Step"
INBOX = "INBOX"
DRAFTS = "Drafts"
_COUNTER = itertools.count()


def unique_name() -> str:
    """time.MmicrosPpidQn.host: unique on this host (the Maildir spec's recipe)."""
    now = time.time()
    micros = int(now * 1_000_000) % 1_000_000
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{int(now)}.M{micros}P{os.getpid()}Q{next(_COUNTER)}.{host}"


class MaildirActions:
    """One Maildir's writes (implements `MailActions`); nothing here sends mail."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- reading back what ghostwatch wrote ---------------------------------------------

    def draft_listing(self) -> DraftListing:
        """Every draft's key, and the steps of those carrying X-Ghostwatch-Step.

        An unreadable draft raises: a draft missing from the answer reads as "deleted by
        the user", so a draft that could not be read must not look absent."""
        steps: dict[str, str] = {}
        ids: set[str] = set()
        for key, path in self._messages(lambda role: role == Folder.DRAFTS):
            ids.add(key)
            step = _header(path, STEP_HEADER)
            if step:
                steps[step] = key
        return DraftListing(ids=frozenset(ids), steps=steps)

    def existing_steps(self) -> dict[str, str]:
        """step key → draft key, for every draft carrying X-Ghostwatch-Step."""
        return dict(self.draft_listing().steps)

    def find_message(self, message_id: str) -> str | None:
        wanted = f"<{message_id}>"
        for key, path in self._messages(lambda role: True):
            if (_header(path, "Message-ID") or "").strip() == wanted:
                return key
        return None

    def find_digest(self, message_id: str, sender: str) -> str | None:
        """The INBOX's message with this Message-ID whose From is `sender`."""
        wanted = f"<{message_id}>"
        for key, path in self._messages(lambda role: role == Folder.INBOX):
            if (_header(path, "Message-ID") or "").strip() != wanted:
                continue
            if parseaddr(_header(path, "From") or "")[1].lower() == sender.lower():
                return key
        return None

    def _messages(self, keep: Callable[[Folder], bool]) -> list[tuple[str, str]]:
        mailbox = MaildirMailbox(self.root)
        return [(key, path) for folder, path, key in mailbox.files() if keep(folder.role)]

    # --- what a draft says, and taking one back -----------------------------------------

    def written_fingerprint(self, message: EmailMessage) -> str:
        """A Maildir keeps the bytes written: the digest is the message's own."""
        return fingerprint_mime(bytes(message))

    def draft_fingerprint(self, draft_id: str) -> str | None:
        """The digest of the draft's file as it is now; None when it is gone."""
        path = self._draft_file(draft_id)
        if path is None:
            return None
        try:
            return fingerprint_mime(path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as error:
            raise MailboxError(f"cannot read {path}: {error.strerror}") from error

    def withdraw_draft(self, draft_id: str) -> None:
        """Unlink that draft's file, and only it; already gone is done."""
        path = self._draft_file(draft_id)
        if path is None:
            return
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise MailboxError(f"cannot remove {path}: {error.strerror}") from error

    def _draft_file(self, draft_id: str) -> Path | None:
        folder, _, unique = draft_id.partition("/")
        if folder_role(f".{folder}") != Folder.DRAFTS:
            return None  # never a file outside the drafts folder, whatever the id says
        return self._find_file(folder, unique)

    # --- writes -------------------------------------------------------------------------

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        """Save `message` in `.Drafts/cur/` flagged D; its key (thread_id means nothing
        here: a Maildir threads by In-Reply-To and References, which the message has)."""
        folder = self._folder(self._drafts_name())
        unique = _deliver(folder, bytes(_dated(message)), "cur", ":2,D")
        return f"{self._drafts_name()}/{unique}"

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        """None: no web client opens a draft here by address, and the digest says
        nothing rather than show a dead link (the draft is in the Drafts folder)."""
        return {}

    def rescue(self, message_key: str) -> None:
        """Move a message from its junk folder into the INBOX's `cur/`, name and flags kept."""
        folder, _, unique = message_key.partition("/")
        if folder == INBOX:
            return  # already moved: the rename is the whole effect
        source = self._find_file(folder, unique)
        if source is None:
            if self._find_file(INBOX, unique) is not None:
                return
            raise MailboxError(f"cannot rescue {message_key}: no such message in {self.root}")
        target = self.root / "cur" / source.name
        private.make_folder(target.parent)
        _rename(source, target)

    def deliver_digest(self, message: EmailMessage) -> str:
        """Put the digest in the INBOX's `new/`: delivered, not yet seen."""
        unique = _deliver(self.root, bytes(message), "new", "")
        return f"{INBOX}/{unique}"

    # --- folders ------------------------------------------------------------------------

    def _drafts_name(self) -> str:
        """The existing drafts folder (`.Drafts`, `.INBOX.Drafts`, ...), else `Drafts`."""
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".") and folder_role(entry.name) == Folder.DRAFTS:
                return entry.name[1:]
        return DRAFTS

    def _folder(self, name: str) -> Path:
        return self.root if name == INBOX else self.root / f".{name}"

    def _find_file(self, folder: str, unique: str) -> Path | None:
        for sub in ("cur", "new"):
            base = self._folder(folder) / sub
            if not base.is_dir():
                continue
            for entry in base.iterdir():
                if entry.name.partition(":")[0] == unique:
                    return entry
        return None


def _dated(message: EmailMessage) -> EmailMessage:
    """The draft with a Date and a Message-ID. Gmail and Outlook give a draft both when
    it is created; a Maildir file is read as it is, and a message without them (RFC 5322
    §3.6: Date is required, Message-ID should be there) sorts as undated in mail clients
    and cannot be referred to until it is sent. The original is left as it was."""
    if message["Date"] is not None and message["Message-ID"] is not None:
        return message
    dated = copy.deepcopy(message)
    if dated["Date"] is None:
        outgoing.put(dated, "Date", format_datetime(datetime.now(UTC)))
    if dated["Message-ID"] is None:
        domain = parseaddr(str(dated["From"] or ""))[1].rpartition("@")[2] or None
        outgoing.put_ids(dated, "Message-ID", [make_msgid("draft", domain=domain)])
    return dated


def _deliver(folder: Path, data: bytes, sub: str, flags: str) -> str:
    """Write into `tmp/`, fsync, rename into `sub/`; the unique name."""
    unique = unique_name()
    try:
        for part in ("tmp", "cur", "new"):
            private.make_folder(folder / part)
        temporary = folder / "tmp" / unique
        # 0600 whatever the umask: the mail holds other people's words and addresses.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), private.FILE_MODE)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except OSError as error:
        raise MailboxError(f"cannot write into {folder}: {error.strerror}") from error
    _rename(temporary, folder / sub / f"{unique}{flags}")
    return unique


def _rename(source: Path, target: Path) -> None:
    try:
        os.rename(source, target)
    except OSError as error:
        raise MailboxError(f"cannot move {source} to {target}: {error.strerror}") from error


def _header(path: str, name: str) -> str | None:
    try:
        head = read_head(path)
    except OSError as error:
        raise MailboxError(f"cannot read {path}: {error.strerror}") from error
    value = BytesParser(policy=compat32).parsebytes(head, headersonly=True).get(name)
    return None if value is None else " ".join(str(value).split())
