"""The service cycle through Outlook: the cycle contract against the Graph sandbox, and
what only Graph shows.

`TestOutlookCycle` runs every story of `tests/contracts/contract_cycle.py` (drafts once, never
twice, never lost; one rescue; one digest a day; dry runs write nothing) through the Outlook
provider's Graph client (httpx) against the Graph sandbox seeded from examples/mailbox,
with a SQLite store in tmp; its own tests add what is Graph's alone: conversations,
immutable ids that survive a move, a digest that must be unread and not a draft, Graph's
faults, and what an idle cycle costs.
"""

from __future__ import annotations

import pytest

from ghostwatch.config import AccountConfig, OutlookOptions
from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.microsoft.graph import OutlookError
from ghostwatch.service.wiring import default_registry
from ghostwatch_sandbox.microsoft.store import GraphMessage
from ghostwatch_sandbox.playground.sources import outlook_source
from tests.contracts.contract_cycle import NOW, CycleContract, pending
from tests.support.builder import ME
from tests.support.provider_rigs import ATTEMPTS, OutlookRig, graph_digest, graph_step

# A failed mark-unread (5xx, or the connection lost after Graph acted), and a create that
# Graph carried out but whose answer was lost (the next cycle finds it by Message-ID).
DIGEST_FAULTS = [("500", "messages.update"), ("drop", "messages.update"),
                 ("drop", "messages.create")]  # fmt: skip


def _digests(rig: OutlookRig) -> list[GraphMessage]:
    return [m for m in rig.graph.mailbox.in_folder("inbox") if graph_digest(m)]


class TestOutlookCycle(CycleContract):
    provider = "outlook"

    def test_a_first_cycle_writes_drafts_in_their_conversations_as_graph_does(
        self, rig: OutlookRig, previewed: list[Draft]
    ) -> None:
        junk = {m.immutable_id for m in rig.graph.mailbox.in_folder("junkemail")}
        report = rig.cycle(NOW, junk_rescue=True, digest=True)
        counts = (report.drafts_created, report.rescued, report.digest_delivered)
        assert (report.errors, counts) == ([], (len(previewed), 1, True))
        by_id = {m.internet_message_id: m for m in rig.graph.mailbox.messages.values()}
        drafts = {graph_step(m): m for m in rig.graph.mailbox.in_folder("drafts")}
        for draft in previewed:
            made = drafts[draft.step_key]
            assert made.is_draft
            assert made.body in (draft.html, draft.text)
            assert made.subject == draft.subject
            if draft.in_reply_to:
                assert made.header("In-Reply-To") == f"<{draft.in_reply_to}>"
                answered = by_id[f"<{draft.in_reply_to}>"]
                assert made.conversation_id == answered.conversation_id
        # Graph's immutable ids survive a move: the ledger's key still names the message.
        [moved] = [w.ids[0] for w in rig.writes() if w.method == "messages.move"]
        assert moved in junk
        assert {m.key: m.folder for m in rig.source.read_headers()}[moved] == Folder.INBOX
        # Graph can only create a message as a draft: the digest must be turned into mail.
        [digest] = _digests(rig)
        assert (digest.is_draft, digest.is_read) == (False, False)
        assert rig.sent() == []

    def test_an_idle_cycle_costs_two_graph_requests(self, rig: OutlookRig) -> None:
        rig.cycle(NOW)
        rig.graph.meter.reset()
        rig.cycle(NOW)
        # One batch of the folder tree's delta and six message deltas (the scan: Inbox,
        # Sent Items, Junk Email, Drafts, Deleted Items, Archive) and one Drafts delta (the
        # mailbox's proof); meetings and bodies are read only for what is due.
        assert rig.graph.meter.methods["messages.delta"] == 7

    @pytest.mark.parametrize(("kind", "method"), DIGEST_FAULTS, ids=lambda v: str(v))
    def test_a_fault_while_delivering_the_digest_leaves_one_unread_digest(
        self, rig: OutlookRig, kind: str, method: str
    ) -> None:
        rig.cycle(NOW)  # the drafts first, so the armed fault can only meet the digest's calls
        rig.graph.faults.add(kind, count=ATTEMPTS + 1, method=method)
        reports = [rig.cycle(NOW, digest=True)]
        fired = rig.fired()
        rig.clear_faults()
        rig.restart()
        reports += [rig.cycle(NOW, digest=True), rig.cycle(NOW, digest=True)]

        [digest] = _digests(rig)
        # /metrics counts digests from these reports: the cycle that learns of it counts it.
        assert sum(r.digest_delivered for r in reports) == 1
        assert (digest.is_draft, digest.is_read) == (False, False)
        assert fired or method == "messages.update"  # one request left no PATCH to fail
        assert pending(rig) == []

    def test_an_unreadable_drafts_folder_is_an_error_not_an_absence(self, rig: OutlookRig) -> None:
        rig.cycle(NOW)
        rig.restart()
        rig.graph.faults.add("500", count=ATTEMPTS, method="messages.delta")
        with pytest.raises(OutlookError, match="500"):
            rig.actions.existing_steps()

    def test_the_registry_opens_an_outlook_account_with_the_auth_token(
        self, rig: OutlookRig
    ) -> None:
        options = OutlookOptions(graph_endpoint=rig.graph.base_url)
        account = AccountConfig(name="o", provider="outlook", address=ME, outlook=options)
        token = rig.graph.token
        wired = default_registry(microsoft_tokens=lambda _account: lambda: token).open(account)
        assert wired.provider == "outlook"
        assert len(wired.source.read_headers()) == len(outlook_source(rig.graph).read_headers())
