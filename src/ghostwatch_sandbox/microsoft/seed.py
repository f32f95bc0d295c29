"""Seed a Graph mailbox from the same Maildir++ tree the Gmail sandbox reads.

Folder roles (docs/scan-contract.md): INBOX → inbox, Sent → sentitems, Junk → junkemail,
Drafts → drafts, Trash → deleteditems. Any other folder is a user folder, nested as
Maildir++ names nest (`.Clients.Contoso` → Contoso inside Clients; `.INBOX.X` → X inside
the Inbox); a top-level `.Archive` is the well-known Archive, where Outlook's Archive
button files mail.
`receivedDateTime` is the date the Maildir reader gives the message (its Date header,
else the delivery time in the file name), so the provider's fallback agrees with it.
Messages are added oldest first, so a reply joins the conversation of what it answers.

`internetMessageHeaders` are the header block's fields as Exchange keeps them: unfolded
(RFC 5322 §2.2.3) but not RFC 2047-decoded.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ghostwatch.mail import parse
from ghostwatch.mail.maildir import MaildirFolder, MaildirTree, read_message
from ghostwatch.model.mail import Address, Folder, Message
from ghostwatch_sandbox.microsoft.store import ROOT, GraphMailbox, GraphMessage, Recipient, new_ids

_ROLE_FOLDERS = {
    Folder.INBOX: "inbox",
    Folder.SENT: "sentitems",
    Folder.JUNK: "junkemail",
    Folder.DRAFTS: "drafts",
    Folder.TRASH: "deleteditems",
}
_SYSTEM = frozenset({"deleteditems", "outbox", "conversationhistory", "syncissues"})
"""Well-known folders a Maildir folder of the same name is never merged into."""


def _text(value: bytes) -> str:
    # As the Maildir reader decodes header bytes (parse.header_fields): UTF-8, else 1252.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", errors="replace")


def header_list(raw: bytes) -> list[tuple[str, str]]:
    """Every field of the header block, unfolded, in order."""
    fields: list[tuple[str, str]] = []
    for line in parse.header_block(raw).split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if fields:
                name, value = fields[-1]
                fields[-1] = (name, f"{value} {_text(line.strip())}")
            continue
        head, sep, rest = line.partition(b":")
        if sep and head.strip():
            fields.append((_text(head.strip()), _text(rest.strip())))
    return fields


def recipient(address: Address) -> Recipient:
    return Recipient(address.name, address.email)


def _unread(role: Folder, path: str) -> bool:
    if role in (Folder.SENT, Folder.DRAFTS):
        return False
    flags = path.rpartition(":2,")[2] if ":2," in path else ""
    return os.path.basename(os.path.dirname(path)) == "new" or "S" not in flags


def seed_mail(box: GraphMailbox, root: Path) -> int:
    """Add every message of the Maildir at `root`; returns how many were added."""
    tree = MaildirTree(root)
    keys = {folder.name: folder_for(box, folder) for folder in tree.folders}
    entries = []
    for folder, path, key in tree.files():
        message = _readable(folder, path, key)
        if message is not None:
            when = message.date or datetime.fromtimestamp(0, UTC)
            entries.append((when, path, folder.role, keys[folder.name], message))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    for when, path, role, key, message in entries:
        _add(box, Path(path).read_bytes(), key, when, message, _unread(role, path))
    return len(entries)


def _readable(folder: MaildirFolder, path: str, key: str) -> Message | None:
    """The message as the Maildir provider reads it (so both agree on its date), or None
    where the provider would skip it."""
    try:
        return read_message(folder.role, path, key)
    except Exception:  # noqa: BLE001 - the provider skips what it cannot read; so does the seed
        return None


def folder_for(box: GraphMailbox, folder: MaildirFolder) -> str:
    """The Graph folder a Maildir folder's mail goes to, made if it does not exist yet."""
    if folder.role in _ROLE_FOLDERS:
        return _ROLE_FOLDERS[folder.role]
    names = folder.name.split(".")
    parent = ROOT
    if len(names) > 1 and names[0].lower() == "inbox":
        parent, names = "inbox", names[1:]
    for name in names:
        found = box.child_named(parent, name)
        usable = found is not None and found.key not in _SYSTEM
        parent = found.key if found is not None and usable else box.add_folder(parent, name).key
    return parent


def _add(
    box: GraphMailbox, raw: bytes, folder: str, when: datetime, message: Message, unread: bool
) -> str:
    serial = box.new_serial()
    immutable, rest = new_ids(box, serial)
    fields = header_list(raw)
    refs = (*message.in_reply_to, *message.references)
    added = box.add(
        GraphMessage(
            serial=serial,
            immutable_id=immutable,
            rest_id=rest,
            folder=folder,
            conversation_id=box.conversation_for(refs, message.subject, serial),
            subject=message.subject,
            sender=recipient(message.sender) if message.sender else None,
            to=[recipient(a) for a in message.to],
            cc=[recipient(a) for a in message.cc],
            bcc=[recipient(a) for a in message.bcc],
            received=when,
            sent=message.date,
            internet_message_id=f"<{message.message_id}>" if message.message_id else "",
            headers=fields,
            body="",  # read from the MIME when asked (render.body_of): seeding stays fast
            raw=raw,
            is_draft=folder == "drafts",
            is_read=not unread,
        )
    )
    return added.immutable_id


def add_raw(box: GraphMailbox, raw: bytes, folder: str, now: datetime) -> str:
    """A message arriving now (unread) in `folder`; its immutable id."""
    message = parse.parse_headers(raw, "arrival", Folder.INBOX, now)
    return _add(box, raw, box.folder_key(folder), now, message, unread=True)
