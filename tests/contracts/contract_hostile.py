"""The hostile-input contract every provider's cycle passes: nothing a stranger writes
stops the cycle, and everything else is still delivered.

Each story seeds a copy of examples/mailbox (five drafts due at NOW, a reply waiting in
Junk) with what a stranger can put there (`tests/support/hostile.py`), runs one cycle
with the rescue and the digest, and asserts that every draft the clean mailbox gets was
written, the reply was rescued and the digest delivered, and that whatever could not be
handled was left out alone, named in the digest's trouble section and counted. A
provider's test module subclasses `HostileContract` and names its `provider`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import cast

import pytest

from ghostwatch.mail.mime import html_to_text
from ghostwatch.model.outbox import Draft
from ghostwatch.service.cycle import CycleReport, digest_message_id
from tests.contracts.contract_cycle import NOW, Crash, Wrapped, open_rig
from tests.support import hostile
from tests.support.builder import ME
from tests.support.imap_rig import ImapRig
from tests.support.maildir_rig import MaildirRig
from tests.support.provider_rigs import (
    DIGEST_ID,
    STEP,
    CycleRig,
    GmailRig,
    OutlookRig,
    graph_digest,
    graph_step,
    sqlite_store,
)


def _parsed(raw: bytes) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(raw)


def _disk(rig: CycleRig) -> MaildirRig | None:
    """The Maildir a rig's mail lives in, read file by file (Dovecot keeps its own so)."""
    if isinstance(rig, MaildirRig):
        return rig
    return rig.disk if isinstance(rig, ImapRig) else None


def digest_texts(rig: CycleRig) -> list[str]:
    """The text of every message carrying a digest Message-ID, in any folder (Graph keeps
    the HTML body only)."""
    disk = _disk(rig)
    if disk is not None:
        rig = disk
        raws = [p.read_bytes() for p in rig.files() if DIGEST_ID.encode() in p.read_bytes()]
        return [hostile.mime_text(_parsed(raw)) for raw in raws]
    if isinstance(rig, GmailRig):
        found = rig.sandbox.mailbox.messages.values()
        raws = [m.raw for m in found if m.header("Message-ID").startswith(DIGEST_ID)]
        return [hostile.mime_text(_parsed(raw)) for raw in raws]
    kept = cast(OutlookRig, rig).graph.mailbox.messages.values()
    graph = [m for m in kept if graph_digest(m)]
    return [html_to_text(m.body) if m.body_type == "html" else m.body for m in graph]


def draft_headers(rig: CycleRig) -> dict[str, dict[str, str]]:
    """Step key → the draft's To, Bcc and Subject as the mailbox holds them."""
    if isinstance(rig, OutlookRig):
        found = {}
        for m in rig.graph.mailbox.in_folder("drafts"):
            if not graph_step(m):
                continue  # the user's own draft
            to = ", ".join(formataddr((r.name, r.address)) for r in m.to)
            bcc = ", ".join(r.address for r in m.bcc)
            found[graph_step(m)] = {"To": to, "Bcc": bcc, "Subject": m.subject}
        return found
    disk = _disk(rig)
    if disk is not None:
        raws = [p.read_bytes() for p in disk.files() if p.parent.parent.name == ".Drafts"]
    else:
        stored = cast(GmailRig, rig).sandbox.mailbox.messages.values()
        raws = [m.raw for m in stored if "DRAFT" in m.labels]
    heads = [h for h in map(_parsed, raws) if h[STEP]]
    return {
        str(h[STEP]): {"To": str(h["To"]), "Bcc": str(h["Bcc"] or ""), "Subject": str(h["Subject"])}
        for h in heads
    }


def plant(rig: CycleRig, raw: bytes, junk: bool) -> None:
    """A message arriving in the Inbox or in Junk (Spam), as mail from outside does."""
    if isinstance(rig, MaildirRig):
        hostile.add_file(rig.root, raw, ".Junk" if junk else "")
    elif isinstance(rig, ImapRig):
        with rig.client() as client:  # as the server delivers it
            client.append("Junk" if junk else "INBOX", raw)
    elif isinstance(rig, GmailRig):
        with rig.sandbox._lock:
            rig.sandbox.mailbox.add(raw, ["SPAM"] if junk else ["INBOX", "UNREAD"])
    else:
        cast(OutlookRig, rig).graph.deliver(raw, "junkemail" if junk else "inbox")


class CrashBeforeDigest(Wrapped):
    """The digest's intent is committed, then the process dies before delivering it."""

    def deliver_digest(self, message: EmailMessage) -> str:
        raise Crash


def names(header: str) -> dict[str, str]:
    """Address → display name, from an address-list header."""
    return {address: name for name, address in getaddresses([header])}


class HostileContract:
    provider: str

    @pytest.fixture(scope="class")
    @classmethod
    def clean_drafts(cls, tmp_path_factory: pytest.TempPathFactory) -> list[Draft]:
        """What the clean examples/mailbox gets at NOW through this provider."""
        folder = tmp_path_factory.mktemp("clean")
        with (
            sqlite_store(folder / "gw.db") as store,
            open_rig(cls.provider, hostile.EXAMPLE, store) as rig,
        ):
            return rig.preview(NOW)

    @pytest.fixture
    def seed(self, tmp_path: Path) -> Path:
        return hostile.seed(tmp_path)

    @contextmanager
    def opened(self, seed: Path, folder: Path) -> Iterator[CycleRig]:
        with sqlite_store(folder / "gw.db") as store, open_rig(self.provider, seed, store) as rig:
            yield rig

    def everything_else(self, rig: CycleRig, report: CycleReport, clean: list[Draft]) -> None:
        """Every draft the clean mailbox gets is in the mailbox once, the reply in Junk was
        rescued, the digest delivered, and no provider call failed."""
        steps = rig.steps()
        assert report.errors == []
        assert all(steps[d.step_key] == 1 for d in clean), (steps, [d.step_key for d in clean])
        assert (report.rescued, report.digest_delivered) == (1, True)

    def test_one_poisoned_item_leaves_every_other_draft_the_rescue_and_the_digest(
        self, seed: Path, tmp_path: Path, clean_drafts: list[Draft]
    ) -> None:
        hostile.poisoned_recipient(seed)
        hostile.separator_in_a_name(seed)
        with self.opened(seed, tmp_path) as rig:
            report = rig.cycle(NOW, junk_rescue=True, digest=True)
            self.everything_else(rig, report, clean_drafts)
            # The draft to the address no header can carry is left out, alone, and named.
            assert [(s.kind, s.title) for s in report.skipped] == [
                ("draft", f"Re: {hostile.POISONED_SUBJECT}")
            ]
            [digest] = digest_texts(rig)
            assert "left out 1 item" in digest
            assert hostile.POISONED_SUBJECT in digest
            # The invitation's name with a line separator is cleaned, not a reason to stop.
            written = draft_headers(rig)
            [lena] = [h for h in written.values() if hostile.LENA in h["To"]]
            assert names(lena["To"]) == {hostile.LENA: "Lena Bcc: evil@x.example"}
            assert all(h["Bcc"] == "" and h["Subject"].isprintable() for h in written.values())
            assert len(written) == len(clean_drafts) + 1
            # The next cycle writes nothing twice and still says what it leaves out.
            again = rig.cycle(NOW, junk_rescue=True)
            assert (again.errors, again.drafts_created, len(again.skipped)) == ([], 0, 1)

    def test_a_planted_digest_id_does_not_stand_for_todays_digest(
        self, seed: Path, tmp_path: Path
    ) -> None:
        """Whoever knew the id could plant it in Spam, or in the Inbox under their own
        From, to stop the digest being delivered: neither counts, only the user's own."""
        with self.opened(seed, tmp_path) as rig:
            with pytest.raises(Crash):
                rig.cycle(NOW, CrashBeforeDigest(rig.actions), digest=True)
            with rig.store.transaction() as tx:
                account = tx.account(rig.account, rig.provider, ME)
                key = tx.digest_key(account)
            assert len(key) >= 32  # 128 random bits: nobody outside the store can know it
            today = digest_message_id(account, ME, NOW.date(), key)
            plant(rig, hostile.planted_digest(today, ME), junk=True)
            plant(rig, hostile.planted_digest(today, hostile.EVE), junk=False)
            rig.restart()
            report = rig.cycle(NOW, digest=True)
            assert (report.errors, report.digest_delivered) == ([], True)
            texts = digest_texts(rig)
            assert len(texts) == 3  # the two planted, and the real one
            assert sum("your digest for" in text.lower() for text in texts) == 1
            # Found the next time by the same rule: delivered once, never twice.
            rig.restart()
            assert not rig.cycle(NOW, digest=True).digest_delivered
            assert len(digest_texts(rig)) == 3

    # --- what a stranger writes, story by story: the cycle still delivers the rest ------

    def test_control_characters_and_separators_in_every_header_read(
        self, seed: Path, tmp_path: Path, clean_drafts: list[Draft]
    ) -> None:
        hostile.nasty_headers(seed)
        with self.opened(seed, tmp_path) as rig:
            report = rig.cycle(NOW, junk_rescue=True, digest=True)
            self.everything_else(rig, report, clean_drafts)
            assert report.skipped == []
            self.written_cleanly(rig)
            [digest] = digest_texts(rig)
            for raw in ("\x1b", "\u2028", "\x00"):
                assert raw not in digest

    def test_encoded_words_in_a_meeting_add_no_header_and_no_recipient(
        self, seed: Path, tmp_path: Path, clean_drafts: list[Draft]
    ) -> None:
        """An uid, a title and a name that are RFC 2047 encoded words: the library that
        writes the draft decoded them, so the draft to Otto carried a Bcc of the
        stranger's choosing and was addressed to <evil@x.example>."""
        hostile.encoded_word_meeting(seed)
        with self.opened(seed, tmp_path) as rig:
            report = rig.cycle(NOW, junk_rescue=True, digest=True)
            self.everything_else(rig, report, clean_drafts)
            assert report.skipped == []
            written = draft_headers(rig)
            [otto] = [h for h in written.values() if hostile.OTTO in h["To"]]
            assert [address for _, address in getaddresses([otto["To"]])] == [hostile.OTTO]
            assert otto["Bcc"] == ""
            self.written_cleanly(rig)
            assert len(written) == len(clean_drafts) + 1
            # The step key reads back as written: the next cycle writes nothing again.
            again = rig.cycle(NOW, junk_rescue=True)
            assert (again.errors, again.drafts_created) == ([], 0)

    def test_huge_and_deeply_nested_answers(
        self, seed: Path, tmp_path: Path, clean_drafts: list[Draft]
    ) -> None:
        """A 6 MB answer (over the 4 MiB body limit) and one nested 1,500 multiparts deep,
        both read as answers to my quote: that conversation is answered, the rest goes on."""
        hostile.huge_and_nested(seed)
        with self.opened(seed, tmp_path) as rig:
            report = rig.cycle(NOW, junk_rescue=True, digest=True)
            self.everything_else(rig, report, clean_drafts)
            assert report.skipped == []
            written = draft_headers(rig)
            assert not [h for h in written.values() if hostile.NINA in h["To"]]
            assert len(written) == len(clean_drafts)

    def test_a_strangers_invitation_and_a_garbage_calendar(
        self, seed: Path, tmp_path: Path, clean_drafts: list[Draft]
    ) -> None:
        hostile.strangers_invitation(seed)
        hostile.garbage_calendar(seed)
        with self.opened(seed, tmp_path) as rig:
            report = rig.cycle(NOW, junk_rescue=True, digest=True)
            self.everything_else(rig, report, clean_drafts)
            self.written_cleanly(rig)
            assert [d for d in draft_headers(rig).values() if hostile.EVE in d["To"]] == []

    def written_cleanly(self, rig: CycleRig) -> None:
        """Every header ghostwatch wrote is one printable line, with no Bcc."""
        for headers in draft_headers(rig).values():
            assert headers["Bcc"] == ""
            assert headers["Subject"].isprintable(), headers
            assert headers["To"].isprintable(), headers
