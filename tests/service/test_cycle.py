"""The service cycle through Gmail: the cycle contract against the Gmail sandbox, and what
only Gmail shows.

`TestGmailCycle` runs every story of `tests/contracts/contract_cycle.py` (drafts once, never
twice, never lost; one rescue; one digest a day; dry runs write nothing) through the real Gmail
client over HTTP, the sandbox seeded from examples/mailbox, a SQLite store in tmp; its
own tests add what is Gmail's alone: threads, labels, its errors, the summary line.
"""

from __future__ import annotations

import io
import json
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import structlog

from ghostwatch import logs
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import Action
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.google.gmail import GmailError
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.port import DraftListing
from ghostwatch.service.pipeline import compose_drafts, run_scan
from tests.contracts.contract_cycle import NOW, CycleContract, Wrapped
from tests.support.builder import ME, Mailbox, when
from tests.support.provider_rigs import GMAIL_MUTATING, GmailRig


def _calls(rig: GmailRig, method: str) -> list[str]:
    """The ids each `method` call named, in order."""
    return [w.ids[0] for w in rig.writes() if w.method == method]


def _headers(draft: dict[str, Any]) -> dict[str, str]:
    return {h["name"]: h["value"] for h in draft["message"]["payload"]["headers"]}


class _MailboxUnreadable(Wrapped):
    def draft_listing(self) -> DraftListing:
        raise GmailError("Gmail answered 500")


class TestGmailCycle(CycleContract):
    provider = "gmail"

    def test_actions_write_what_they_say_and_read_steps_back(self, rig: GmailRig) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = ME, "x@example.com", "Hi"
        message["X-Ghostwatch-Step"] = "c1/nudge/1"
        message.set_content("hello\n")
        draft = Draft("c1", Action.NUDGE, (), "Hi", None, (), "hello\n", "", "c1/nudge/1")
        draft_id = rig.actions.create_draft(draft, message, None)
        assert rig.actions.existing_steps() == {"c1/nudge/1": draft_id}
        assert len(_calls(rig, "drafts.create")) == 1
        assert rig.sent() == []

    def test_a_first_cycle_writes_drafts_in_their_threads_and_labels_as_gmail_does(
        self, rig: GmailRig, previewed: list[Draft]
    ) -> None:
        report = rig.cycle(NOW, junk_rescue=True, digest=True)
        counts = (report.drafts_created, report.rescued, report.digest_delivered)
        assert (report.errors, counts) == ([], (len(previewed), 1, True))
        threads = {m.rfc_id: m.thread_id for m in rig.sandbox.mailbox.messages.values()}
        made = rig.actions.existing_steps()
        drafts = rig.service.users().drafts()
        for draft in previewed:
            got = drafts.get(userId="me", id=made[draft.step_key]).execute()
            headers = _headers(got)
            assert headers["Subject"] == draft.subject
            if draft.in_reply_to is None:  # a missed meeting's note starts a thread
                assert "In-Reply-To" not in headers
                continue
            assert headers["In-Reply-To"] == f"<{draft.in_reply_to}>"
            assert got["message"]["threadId"] == threads[draft.in_reply_to]
        # The rescued reply leaves Spam for the inbox; the digest lands unread in the inbox.
        [moved] = _calls(rig, "messages.modify")
        [digest] = _calls(rig, "messages.insert")
        messages = rig.service.users().messages()
        moved_labels = messages.get(userId="me", id=moved).execute()["labelIds"]
        assert ("INBOX" in moved_labels, "SPAM" in moved_labels) == (True, False)
        # Exactly these (insert applies the labels named): mail the user received, never
        # SENT, though it is From the user (issue 16: it showed in the Sent folder).
        digest_labels = messages.get(userId="me", id=digest).execute()["labelIds"]
        assert sorted(digest_labels) == ["INBOX", "UNREAD"]
        assert digest not in {m["id"] for m in messages.list(userId="me", q="in:sent")
                              .execute().get("messages", [])}  # fmt: skip
        assert rig.sent() == []

    def test_one_summary_line_per_cycle_without_mail_or_contacts(self, rig: GmailRig) -> None:
        saved, out = structlog.get_config(), io.StringIO()
        logs.configure("info", stream=out)  # the CLI's own set-up: JSON lines
        try:
            rig.cycle(NOW, junk_rescue=True, digest=True)
        finally:
            structlog.configure(**saved)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        done = [line for line in lines if line["event"] == "cycle_done"]
        assert len(done) == 1
        assert done[0]["drafts"] == done[0]["drafts_due"] > 0
        # The account's own name is the only address; no contact, subject or body.
        assert "example" not in json.dumps({k: v for k, v in done[0].items() if k != "account"})

    def test_a_failed_draft_header_read_is_an_error_not_an_absence(self, rig: GmailRig) -> None:
        # examples/mailbox holds a draft of the user's own: its header read is the one to fail.
        rig.sandbox.faults.add("500", method="messages.get")  # one batch part: not retried
        with pytest.raises(GmailError):
            rig.actions.existing_steps()

    def test_without_the_mailbox_proof_the_cycle_acts_on_nothing(self, rig: GmailRig) -> None:
        rig.cycle(NOW)
        rig.delete_draft(next(iter(rig.actions.existing_steps().values())))
        before = len(rig.writes())
        report = rig.cycle(NOW, _MailboxUnreadable(rig.actions), junk_rescue=True, digest=True)
        assert report.errors == ["draft_listing: Gmail answered 500"]
        assert report.steps_abandoned == 0
        assert [w for w in rig.writes()[before:] if w.method in GMAIL_MUTATING] == []


def test_a_new_silence_after_a_reply_owes_a_new_step(tmp_path: Path) -> None:
    """Attempt counting restarts after a reply; the step key must not repeat, or the
    ledger (one action per key) would never write the nudge the new silence is owed."""
    box = Mailbox(tmp_path / "mail")
    kathy = "Kathy <kathy@contoso.example>"
    first = box.add("Sent", ME, kathy, "Proposal", "2026-11-02 10:00")
    rules = Rules(Identity.of([ME]))
    sender = Sender("Alex", ME)

    def step_keys(now: str) -> list[str]:
        scan = run_scan(MaildirMailbox(box.root), rules, when(now))
        drafts = compose_drafts(scan, MaildirMailbox(box.root), sender, UTC)
        return [d.step_key for d in drafts]

    [before] = step_keys("2026-11-06 10:00")
    answer = box.add("INBOX", kathy, ME, "Re: Proposal", "2026-11-09 09:00", reply_to=first)
    box.add("Sent", ME, kathy, "Re: Proposal", "2026-11-09 11:00", reply_to=answer)
    [after] = step_keys("2026-11-20 10:00")
    assert before.rsplit("/", 1)[0] == after.rsplit("/", 1)[0]  # same conversation, nudge/0
    assert before != after
