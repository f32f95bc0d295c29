"""Any IMAP mailbox: the `MailActions` write side. Nothing here sends mail.

- A draft is APPENDed to the Drafts folder (RFC 6154 \\Drafts, else one so named,
  created if there is none) flagged `\\Draft \\Seen`, carrying `X-Ghostwatch-Step`; its
  id is the key UIDPLUS's APPENDUID names (RFC 4315 §3). The message's In-Reply-To and
  References thread it in every client; IMAP has no thread id to pass.
- Withdrawing a draft marks that UID `\\Deleted` and expunges that UID alone
  (`UID EXPUNGE`, RFC 4315 §2.1). A plain EXPUNGE would also remove every message the
  user had marked deleted and not yet purged, so without UIDPLUS the withdrawal is
  refused.
- Junk rescue flags the message `$NotJunk` (and not `$Junk`), the keywords mail clients
  and server-side filters train on, then `UID MOVE`s it to INBOX (RFC 6851); without
  MOVE, `UID COPY` then the `UID EXPUNGE` of that UID alone.
- The digest is APPENDed to INBOX without `\\Seen`: delivered, unread, never sent.
- The mailbox's own proof of ghostwatch's drafts: the `X-Ghostwatch-Step` field of
  every draft not marked `\\Deleted`, fetched with `BODY.PEEK` (one command); of a
  digest, its Message-ID in INBOX with the user's own From.

Every write runs once per call (a lost answer is settled by the cycle's ledger, which
asks the mailbox first); the flag changes and the move are safe to repeat and are
retried after a dropped connection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from imapclient import IMAPClient

from ghostwatch.mail.fingerprint import fingerprint_mime
from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.imap import commands
from ghostwatch.providers.imap.folders import INBOX, Key, readable, with_role
from ghostwatch.providers.imap.session import ImapError, ImapSession
from ghostwatch.providers.port import DraftListing

STEP_HEADER = "X-Ghostwatch-Step"
STEP_SECTION = commands.header_section([STEP_HEADER])
FROM_SECTION = commands.header_section(["From"])
DRAFTS = "Drafts"
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_STEP = re.compile(rb"^x-ghostwatch-step:[ \t]*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)


class ImapActions:
    """One IMAP mailbox's writes (implements `MailActions`)."""

    def __init__(self, session: ImapSession) -> None:
        self.session = session

    # --- reading back what ghostwatch wrote ---------------------------------------------

    def draft_listing(self) -> DraftListing:
        """Every draft's key (not marked `\\Deleted`), and the steps of those carrying
        X-Ghostwatch-Step."""
        return self.session.call(self._listing)

    def existing_steps(self) -> dict[str, str]:
        """step key → draft key, for every draft carrying X-Ghostwatch-Step."""
        return dict(self.draft_listing().steps)

    def _listing(self, client: IMAPClient) -> DraftListing:
        folder = self._drafts(client, create=False)
        if folder is None:
            return DraftListing()
        opened = commands.examine(client, folder)
        found = commands.fetch(client, b"1:*", STEP_SECTION) if opened.exists else []
        steps: dict[str, str] = {}
        ids: set[str] = set()
        for item in found:
            if "\\DELETED" in item.flags:
                continue
            key = str(Key(folder, opened.uidvalidity, item.uid))
            ids.add(key)
            step = _STEP.search(item.data)
            if step and step[1]:
                steps[step[1].decode(errors="replace")] = key
        return DraftListing(ids=frozenset(ids), steps=steps)

    def find_message(self, message_id: str) -> str | None:
        """The key of the message with this Message-ID (no brackets), INBOX first."""
        return self.session.call(lambda client: self._find(client, message_id))

    def _find(self, client: IMAPClient, message_id: str) -> str | None:
        folders = [f.name for f in self._folders(client) if readable(f)]
        for folder in sorted(folders, key=lambda name: name.upper() != INBOX):
            opened = commands.examine(client, folder)
            if not opened.exists:
                continue
            found = client.search(["HEADER", "Message-ID", f"<{message_id}>"])
            if found:
                return str(Key(folder, opened.uidvalidity, min(int(u) for u in found)))
        return None

    def find_digest(self, message_id: str, sender: str) -> str | None:
        """The key of the INBOX message with this Message-ID whose From is `sender`: only
        that is the digest (one planted in Junk, or From someone else, is not)."""
        return self.session.call(lambda client: self._digest(client, message_id, sender))

    def _digest(self, client: IMAPClient, message_id: str, sender: str) -> str | None:
        opened = commands.examine(client, INBOX)
        found = client.search(["HEADER", "Message-ID", f"<{message_id}>"]) if opened.exists else []
        if not found:
            return None
        for item in commands.fetch(client, commands.uid_set(found), FROM_SECTION):
            written = BytesHeaderParser(policy=compat32).parsebytes(item.data).get("From", "")
            if parseaddr(str(written))[1].lower() == sender.lower():
                return str(Key(INBOX, opened.uidvalidity, item.uid))
        return None

    # --- writes -------------------------------------------------------------------------

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        """APPEND `message` to Drafts, flagged \\Draft \\Seen; its key."""
        folder = self.session.call(lambda client: self._drafts(client, create=True))
        assert folder is not None  # created when missing
        return self._append(folder, message, (b"\\Draft", b"\\Seen"))

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        """None: no web client opens a draft here by address, and the digest says
        nothing rather than show a dead link (the draft is in the Drafts folder)."""
        return {}

    def deliver_digest(self, message: EmailMessage) -> str:
        """APPEND the digest to INBOX, unread; its key."""
        return self._append(INBOX, message, ())

    def _append(self, folder: str, message: EmailMessage, flags: tuple[bytes, ...]) -> str:
        answer = self.session.call(
            lambda client: client.append(folder, bytes(message), flags=flags), idempotent=False
        )
        appended = _APPENDUID.search(answer if isinstance(answer, bytes) else b"")
        if appended is not None:
            return str(Key(folder, int(appended[1]), int(appended[2])))
        # Without UIDPLUS the answer names no UID: look the message up by its Message-ID.
        found = self.find_message(str(message.get("Message-ID", "")).strip().strip("<>"))
        if found is None:
            raise ImapError(f"the message appended to {folder} cannot be found again")
        return found

    def rescue(self, message_key: str) -> None:
        """$NotJunk, then UID MOVE to INBOX; a UID already gone makes both no-ops."""
        key = Key.parse(message_key)
        if key.folder.upper() == INBOX:
            return
        self.session.call(lambda client: self._rescue(client, key))

    def _rescue(self, client: IMAPClient, key: Key) -> None:
        self._open(client, key)
        client.remove_flags([key.uid], [b"$Junk"], silent=True)
        client.add_flags([key.uid], [b"$NotJunk"], silent=True)
        if self.session.has("MOVE"):
            client.move([key.uid], INBOX)
        else:
            client.copy([key.uid], INBOX)
            self._expunge_one(client, key.uid)

    def written_fingerprint(self, message: EmailMessage) -> str:
        """An IMAP server keeps the bytes APPENDed: the digest is the message's own."""
        return fingerprint_mime(bytes(message))

    def draft_fingerprint(self, draft_id: str) -> str | None:
        """The digest of that UID's message (`UID FETCH BODY.PEEK[]`, no flag changed);
        None when the UID is gone or marked `\\Deleted`."""
        key = Key.parse(draft_id)
        return self.session.call(lambda client: self._fingerprint(client, key))

    def _fingerprint(self, client: IMAPClient, key: Key) -> str | None:
        if commands.examine(client, key.folder).uidvalidity != key.uidvalidity:
            return None  # renumbered: that UID names nothing any more
        found = client.fetch([key.uid], [b"FLAGS", b"BODY.PEEK[]"])
        item = found.get(key.uid)
        if item is None or b"\\Deleted" in item.get(b"FLAGS", ()):
            return None
        raw = item.get(b"BODY[]")
        return fingerprint_mime(raw) if isinstance(raw, bytes) else None

    def withdraw_draft(self, draft_id: str) -> None:
        """Remove one draft ghostwatch made: that UID, and only it, expunged."""
        key = Key.parse(draft_id)
        self.session.call(lambda client: self._withdraw(client, key))

    def _withdraw(self, client: IMAPClient, key: Key) -> None:
        self._open(client, key)
        self._expunge_one(client, key.uid)

    def _expunge_one(self, client: IMAPClient, uid: int) -> None:
        if not self.session.has("UIDPLUS"):
            raise ImapError(
                "the IMAP server lacks UIDPLUS, so one message cannot be removed without "
                "purging every message marked deleted: left as it is"
            )
        client.add_flags([uid], [b"\\Deleted"], silent=True)
        client.uid_expunge([uid])

    # --- folders ------------------------------------------------------------------------

    def _open(self, client: IMAPClient, key: Key) -> None:
        if commands.select(client, key.folder) != key.uidvalidity:
            raise ImapError(f"{key.folder} was renumbered (new UIDVALIDITY): {key} is stale")

    def _folders(self, client: IMAPClient) -> list[commands.Listed]:
        return commands.list_folders(client, self.session.has("SPECIAL-USE"))

    def _drafts(self, client: IMAPClient, *, create: bool) -> str | None:
        folders = self._folders(client)
        found = with_role(folders, Folder.DRAFTS)
        if found is not None or not create:
            return found
        client.create_folder(DRAFTS)
        client.subscribe_folder(DRAFTS)
        return DRAFTS
