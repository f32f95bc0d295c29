"""The service cycle through IMAP: the cycle contract against a real Dovecot, and what only
IMAP shows (flags, folders, one UID expunged alone)."""

from __future__ import annotations

import pytest

from ghostwatch.model.outbox import Draft
from ghostwatch.providers.imap.folders import Key
from tests.contracts.contract_cycle import NOW, CycleContract
from tests.support.imap_rig import ImapRig
from tests.support.provider_rigs import DIGEST_ID, STEP

pytestmark = pytest.mark.server


class TestImapCycle(CycleContract):
    provider = "imap"
    step_cannot_vanish = (
        "an IMAP message is immutable (RFC 3501 §2.3.1.1): a draft saved without the header is "
        "a new message under a new UID, and the old UID is gone"
    )

    def test_a_cycle_writes_as_an_imap_client_does(
        self, rig: ImapRig, previewed: list[Draft]
    ) -> None:
        """Drafts in Drafts flagged \\Draft, the digest unread in INBOX, the rescued reply
        in INBOX flagged $NotJunk; nothing else changed, nothing marked read."""
        report = rig.cycle(NOW, junk_rescue=True, digest=True)
        counts = (report.drafts_created, report.rescued, report.digest_delivered)
        assert (report.errors, counts) == ([], (len(previewed), 1, True))
        with rig.client() as client:
            client.select_folder("Drafts", readonly=True)
            drafts = client.fetch(client.search(["HEADER", STEP, ""]), ["FLAGS"])
            assert len(drafts) == len(previewed)
            assert all(b"\\Draft" in d[b"FLAGS"] for d in drafts.values())
            client.select_folder("INBOX", readonly=True)
            [digest] = client.search(["HEADER", "Message-ID", DIGEST_ID])
            [rescued] = client.search(["KEYWORD", "$NotJunk"])
            flags = client.fetch([digest, rescued], ["FLAGS"])
        assert b"\\Seen" not in flags[digest][b"FLAGS"]
        assert b"$Junk" not in flags[rescued][b"FLAGS"]
        # Every change is one of these writes: no message read, moved or flagged besides.
        made = {m for m in rig.mutations() if m not in rig.opened_ids}
        assert len(made) == len(previewed) + 2

    def test_withdrawing_a_draft_expunges_that_uid_alone(
        self, rig: ImapRig, previewed: list[Draft]
    ) -> None:
        """UID EXPUNGE (RFC 4315): a message the user marked deleted, not yet purged, stays."""
        rig.cycle(NOW)
        steps = rig.actions.existing_steps()
        gone, kept = sorted(steps)[:2]
        with rig.client() as client:
            client.select_folder("Drafts")
            client.add_flags([Key.parse(steps[kept]).uid], [b"\\Deleted"])
        rig.actions.withdraw_draft(steps[gone])
        rig.actions.withdraw_draft(steps[gone])  # again: nothing left to do, nothing else lost
        with rig.client() as client:
            client.select_folder("Drafts", readonly=True)
            left = client.fetch(client.search(["HEADER", STEP, ""]), ["FLAGS"])
        assert Key.parse(steps[gone]).uid not in left
        assert b"\\Deleted" in left[Key.parse(steps[kept]).uid][b"FLAGS"]
        assert rig.actions.existing_steps().keys() == set(steps) - {gone, kept}
