"""An IMAP account for the rigs' stories (`tests/support/provider_rigs.py`): a real Dovecot
serving a copy of the seed Maildir, and Radicale its calendar, that `run_cycle` reads and
writes through the IMAP provider.

Dovecot keeps the mailbox as a Maildir++ tree, so what the server holds is read back file
by file, as the Maildir rig reads its own (not through the code under test). A message's
identity there is its folder, the unique part of its file name and its flags: Dovecot may
move a file from new/ to cur/ when it first lists a folder, which is no write of ours,
while a flag set or a message made, moved or removed is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.imap.actions import ImapActions
from ghostwatch.providers.imap.folders import Key
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.providers.port import MailActions
from ghostwatch.service.cycle import CycleReport
from ghostwatch.store import Store
from tests.support.cutting_proxy import Cut, CuttingProxy, cutting_proxy
from tests.support.imap_servers import ImapAccount, imap_account
from tests.support.maildir_rig import MaildirRig
from tests.support.provider_rigs import Sleeps, one_cycle, policy, preview, with_text


@dataclass
class ImapRig:
    """The IMAP provider's reads and writes; the server's files read as the Maildir rig
    reads its own (`disk`)."""

    imap: ImapAccount
    store: Store
    account: str = "alex"
    provider: str = "imap"
    sleeps: Sleeps = field(default_factory=Sleeps)
    proxy: CuttingProxy | None = None
    """Where the provider connects, when not to Dovecot itself: a proxy that can cut."""

    def __post_init__(self) -> None:
        self.disk = MaildirRig(self.imap.dovecot.maildir, self.store, self.account)
        self.opened_ids = self.identities()
        self.source: ImapSource | None = None
        self.restart()

    def restart(self) -> None:
        """A new process: new connections and provider objects, the same database."""
        if self.source is not None:
            self.source.close()
        port = self.proxy.port if self.proxy is not None else None
        session = self.imap.session(policy(self.sleeps), port=port)
        self.source = ImapSource(session, self.imap.calendar())
        self.actions = ImapActions(self.source.session)

    def arm(self, kind: str, method: str | None, count: int = 1, retry_after: int = 1) -> None:
        """The sandboxes' faults, as a real server shows them: the connection cut as the
        command goes out (only the Message-ID search, `messages.list`, is asked for)."""
        assert method == "messages.list", method
        assert self.proxy is not None
        self.proxy.arm(Cut(text=b" SEARCH ", from_client=True, times=count))

    def steps(self) -> Counter[str]:
        return self.disk.steps()

    def digests(self) -> int:
        return self.disk.digests()

    def count(self, folder: Folder) -> int:
        return self.disk.count(folder)

    def cycle(
        self, now: datetime, actions: MailActions | None = None, **options: Any
    ) -> CycleReport:
        assert self.source is not None
        return one_cycle(self, self.source, now, actions, **options)

    def preview(self, now: datetime) -> list[Draft]:
        return preview(self.imap.source(), now)

    def delete_draft(self, draft_id: str) -> None:
        """What a mail client does: the draft goes to Trash, unsent."""
        key = Key.parse(draft_id)
        with self.client() as client:
            client.select_folder(key.folder)
            client.move([key.uid], "Trash")

    def deliver(self, raw: bytes, sent: bool = False) -> None:
        """Mail arrives (the test's own connection APPENDs it, as a delivery agent would)."""
        with self.client() as client:
            client.append("Sent" if sent else "INBOX", raw, flags=(b"\\Seen",) if sent else ())

    def add_draft(self, raw: bytes) -> str:
        """A draft the user's client (or another app) saves: APPENDed to Drafts."""
        with self.client() as client:
            return _appended(client, "Drafts", raw)

    def edit_draft(self, draft_id: str, text: str) -> str:
        """What a mail client does when the user rewrites a draft: the new text APPENDed
        (header fields kept), the old UID expunged; the draft's new key."""
        key = Key.parse(draft_id)
        with self.client() as client:
            client.select_folder(key.folder)
            raw = client.fetch([key.uid], [b"BODY.PEEK[]"])[key.uid][b"BODY[]"]
            made = _appended(client, key.folder, with_text(raw, text))
            client.add_flags([key.uid], [b"\\Deleted"], silent=True)
            client.uid_expunge([key.uid])
        return made

    def digest_text(self) -> str:
        return self.disk.digest_text()

    def forget_step(self, draft_id: str) -> None:
        """Cannot be: a UID's message never changes (RFC 3501 §2.3.1.1); a draft saved
        again is a new message under a new UID (`TestImapCycle.step_cannot_vanish`)."""
        raise AssertionError(f"an IMAP message cannot lose a header under its UID: {draft_id}")

    def mark(self, subject: str, name: str, on: bool = True) -> None:
        """What a mail client does: a copy of every message of the conversation in the
        folder `name` (made once, with the server's separator), or the copies deleted."""
        with self.client() as client:
            listed = client.list_folders()
            separator = listed[0][1].decode() if listed and listed[0][1] else "/"
            folder = name.replace("/", separator)
            if not on:
                client.select_folder(folder)
                found = client.search(["SUBJECT", subject])
                client.add_flags(found, [b"\\Deleted"], silent=True)
                client.uid_expunge(found)
                return
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for flags, _, source in listed:
                if source in ("Drafts", "Trash", folder) or b"\\Noselect" in flags:
                    continue
                client.select_folder(source, readonly=True)
                found = client.search(["SUBJECT", subject])
                if found:
                    client.copy(found, folder)

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        """The test's own IMAP connection, as a user's mail client would open one."""
        server = self.imap.dovecot
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        try:
            yield client
        finally:
            client.logout()

    def identities(self) -> set[tuple[str, str, str]]:
        found = set()
        for path in self.disk.files():
            unique, _, flags = path.name.partition(":2,")
            found.add((path.parent.parent.name, unique.split(",")[0], flags))
        return found

    def mutations(self) -> list[tuple[str, str, str]]:
        return sorted(self.opened_ids.symmetric_difference(self.identities()))


def _appended(client: IMAPClient, folder: str, raw: bytes) -> str:
    answer = client.append(folder, raw, flags=(b"\\Draft", b"\\Seen"))
    found = re.search(rb"\[APPENDUID (\d+) (\d+)\]", answer, re.IGNORECASE)
    assert found is not None, answer  # Dovecot has UIDPLUS
    return str(Key(folder, int(found[1]), int(found[2])))


@contextmanager
def imap_rig(seed: Path, store: Store, account: str = "alex") -> Iterator[ImapRig]:
    """An account on a Dovecot loaded from the Maildir `seed`, removed when the block ends."""
    with imap_account(seed) as imap, cutting_proxy((imap.dovecot.host, imap.dovecot.port)) as cut:
        rig = ImapRig(imap, store, account, proxy=cut)
        try:
            yield rig
        finally:
            if rig.source is not None:
                rig.source.close()
