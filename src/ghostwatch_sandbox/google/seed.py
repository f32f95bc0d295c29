"""Seed a sandbox mailbox from a Maildir++ tree (docs/scan-contract.md folder roles).

INBOX → INBOX, Sent → SENT, Junk → SPAM, Drafts → drafts (DRAFT), Trash → TRASH, any
other folder → a user label named after it. Messages in `new/`, or without the
Maildir "S" (seen) flag, are UNREAD. `internalDate` comes from the Date header.
Messages are added oldest first so replies join their threads.
"""

from __future__ import annotations

import os
from pathlib import Path

from ghostwatch.mail.maildir import MaildirFolder, MaildirTree
from ghostwatch.model.mail import Folder
from ghostwatch_sandbox.google.mailbox import Mailbox
from ghostwatch_sandbox.google.message import parse_raw

_ROLE_LABELS = {
    Folder.INBOX: "INBOX",
    Folder.SENT: "SENT",
    Folder.JUNK: "SPAM",
    Folder.DRAFTS: "DRAFT",
    Folder.TRASH: "TRASH",
}


def _unread(folder: MaildirFolder, path: str) -> bool:
    if folder.role in (Folder.SENT, Folder.DRAFTS):
        return False
    unseen_flags = "S" not in path.rpartition(":2,")[2] if ":2," in path else True
    return os.path.basename(os.path.dirname(path)) == "new" or unseen_flags


def _labels(box: Mailbox, folder: MaildirFolder, path: str) -> list[str]:
    role = _ROLE_LABELS.get(folder.role)
    labels = [role] if role else [box.user_label(folder.name).id]
    if _unread(folder, path):
        labels.append("UNREAD")
    return labels


def seed_maildir(box: Mailbox, root: Path) -> int:
    """Add every message of the Maildir at `root`; returns how many were added."""
    entries = []
    for folder, path, _key in MaildirTree(root).files():
        raw = Path(path).read_bytes()
        date_ms = parse_raw(raw)[2]
        entries.append((date_ms or 0, path, folder, raw))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    for date_ms, path, folder, raw in entries:
        if folder.role == Folder.DRAFTS:
            box.create_draft(raw, None, record=False, internal_date=date_ms or None)
        else:
            box.add(raw, _labels(box, folder, path), record=False, internal_date=date_ms or None)
    box.expire_history()
    return len(entries)
