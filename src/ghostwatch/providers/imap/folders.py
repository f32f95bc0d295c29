"""IMAP folders: their roles, which of them are read, and the keys of their messages.

A folder's role comes from its special-use attribute (RFC 6154: \\Sent, \\Junk, \\Drafts,
\\Trash), and for a folder without one from its name, as docs/scan-contract.md lists
them (`INBOX/Sent`, `INBOX.Junk` and `[Gmail]/Spam` included): many servers flag some
folders and not others. Every other selectable folder is read like the inbox (an
archived reply is a reply), except the virtual views RFC 6154 names — \\All and
\\Flagged hold copies of messages that live in another folder, and reading them would
count each message twice.

A message's key is `FOLDER/UIDVALIDITY/UID`: unique in the mailbox, stable while the
folder keeps its UIDVALIDITY (RFC 3501 §2.3.1.1), and never reused for another message
after the server renumbers a folder, since the UIDVALIDITY changes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghostwatch.errors import ProviderError
from ghostwatch.mail.maildir import folder_role
from ghostwatch.model.mail import Folder
from ghostwatch.providers.imap.commands import Listed

INBOX = "INBOX"
SPECIAL_USE = {
    "\\SENT": Folder.SENT,
    "\\JUNK": Folder.JUNK,
    "\\DRAFTS": Folder.DRAFTS,
    "\\TRASH": Folder.TRASH,
}
VIRTUAL = frozenset({"\\ALL", "\\FLAGGED"})


def role_of(listed: Listed) -> Folder:
    """The folder's role: its special-use attribute, else its name."""
    if listed.name.upper() == INBOX:
        return Folder.INBOX
    for flag, role in SPECIAL_USE.items():
        if flag in listed.flags:
            return role
    name = listed.name.replace(listed.delimiter, ".") if listed.delimiter else listed.name
    return folder_role(name)


def readable(listed: Listed) -> bool:
    return listed.selectable and not listed.flags & VIRTUAL


def with_role(folders: list[Listed], role: Folder) -> str | None:
    """The folder of a role: the flagged one first, then one so named."""
    flagged = [f.name for f in folders if readable(f) and _flag(role) in f.flags]
    named = [f.name for f in folders if readable(f) and role_of(f) == role]
    found = flagged or named
    return found[0] if found else None


def _flag(role: Folder) -> str:
    return next((flag for flag, r in SPECIAL_USE.items() if r == role), "")


@dataclass(frozen=True, slots=True)
class Key:
    folder: str
    uidvalidity: int
    uid: int

    def __str__(self) -> str:
        return f"{self.folder}/{self.uidvalidity}/{self.uid}"

    @classmethod
    def parse(cls, key: str) -> Key:
        folder, uidvalidity, uid = key.rsplit("/", 2)
        if not (folder and uidvalidity.isdigit() and uid.isdigit()):
            raise ProviderError(f"{key!r} is not an IMAP message key")
        return cls(folder, int(uidvalidity), int(uid))

    @classmethod
    def parse_or_none(cls, key: str) -> Key | None:
        try:
            return cls.parse(key)
        except (ProviderError, ValueError):
            return None
