"""The mailbox as the control panel, on every provider (docs/rules.md, "The mailbox as the
control panel"): a label, category or folder `ghostwatch/mute`, `ghostwatch/vip` or
`ghostwatch/leave-alone` that the user sets in their own mail client is read at the next
poll, through the same sync, and taking it off undoes exactly what it did.

A provider's test module subclasses `MarksContract` and names its `provider`; the rig's
`mark(subject, name, on)` does what the user does in that client (Gmail: users.labels.create
and users.messages.modify; Outlook: PATCH `categories`; IMAP and Maildir: a copy in the
folder `ghostwatch/mute`, removed to undo). The mailbox is examples/mailbox at NOW, where
Kathy's "Proposal: Ghostwatch for Contoso" has a nudge due.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from ghostwatch.model.decisions import State
from tests.contracts.contract_cycle import NOW, opened
from tests.support.builder import ME
from tests.support.provider_rigs import CycleRig

PROPOSAL = "Proposal: Ghostwatch for Contoso"
"""Kathy's conversation: a nudge is due at NOW."""
PRICING = "Pricing for 25 seats"
"""Marco's conversation: a nudge is due at NOW too (the one a mark must not touch)."""
OTHERS_DUE = (PRICING, "Onboarding timeline for Q1", "Sandbox access for Adatum")
"""The other drafts written at NOW: without the label, two of them come first."""
KATHY = "kathy.lopez@contoso.example"
MUTE, VIP, LEAVE_ALONE = "ghostwatch/mute", "ghostwatch/vip", "ghostwatch/leave-alone"


class MarkingRig(CycleRig, Protocol):
    def mark(self, subject: str, name: str, on: bool = True) -> None: ...


def _tracked(rig: CycleRig) -> dict[str, tuple[str, State]]:
    """Subject → (conversation id, state) the last committed cycle saved, for tracked
    conversations (a stranger's mail may share a subject: it is `not_tracked`)."""
    with rig.store.transaction() as tx:
        account = tx.account(rig.account, rig.provider, ME)
        saved = tx.snapshots(account).items()
        return {s.subject: (c, State(s.state)) for c, s in saved if s.state != State.NOT_TRACKED}


def states(rig: CycleRig) -> dict[str, State]:
    return {subject: state for subject, (_, state) in _tracked(rig).items()}


def conversation_id(rig: CycleRig, subject: str) -> str:
    return _tracked(rig)[subject][0]


class MarksContract:
    provider: str

    @pytest.fixture
    def rig(self, tmp_path: Path) -> Iterator[MarkingRig]:
        with opened(self.provider, tmp_path) as rig:
            yield rig  # type: ignore[misc]

    def test_a_mute_label_mutes_the_conversation_at_the_next_poll_and_removing_it_undoes_it(
        self, rig: MarkingRig
    ) -> None:
        rig.cycle(NOW)
        drafts = rig.steps()
        assert states(rig)[PROPOSAL] == State.DUE
        rig.mark(PROPOSAL, MUTE)
        report = rig.cycle(NOW)
        assert states(rig)[PROPOSAL] == State.MUTED
        assert states(rig)[PRICING] == State.DUE  # only the labelled conversation
        # Its unedited draft is withdrawn, as for any mute (docs/rules.md "Drafts stay true").
        assert report.drafts_withdrawn == 1
        assert sum(rig.steps().values()) == sum(drafts.values()) - 1
        rig.mark(PROPOSAL, MUTE, on=False)
        rig.cycle(NOW)
        assert states(rig)[PROPOSAL] == State.DUE
        assert rig.steps() == drafts  # due again, written again

    def test_removing_the_label_leaves_an_admins_mute_in_place(self, rig: MarkingRig) -> None:
        rig.cycle(NOW)
        proposal = conversation_id(rig, PROPOSAL)
        with rig.store.transaction() as tx:
            account = tx.account(rig.account, rig.provider, ME)
            tx.set_conversation(account, proposal, muted=True)
        rig.mark(PROPOSAL, MUTE)
        rig.cycle(NOW)
        rig.mark(PROPOSAL, MUTE, on=False)
        rig.cycle(NOW)
        assert states(rig)[PROPOSAL] == State.MUTED  # `ghostwatch mute` is another fact

    def test_a_vip_label_puts_the_conversation_first_in_the_digest(self, rig: MarkingRig) -> None:
        rig.cycle(NOW)
        rig.mark(PROPOSAL, VIP)
        rig.cycle(NOW, digest=True)
        text = rig.digest_text()
        drafts = text[text.index("Drafts written") :]
        badge = drafts.index("High value")
        assert drafts.index(PROPOSAL) - badge < 40  # the badge is the Proposal's
        assert all(drafts.index(PROPOSAL) < drafts.index(s) for s in OTHERS_DUE)
        assert text.count("High value") == 1

    def test_leave_alone_stops_the_person_everywhere_until_the_label_goes(
        self, rig: MarkingRig
    ) -> None:
        rig.cycle(NOW)
        rig.mark(PROPOSAL, LEAVE_ALONE)
        rig.cycle(NOW)
        assert states(rig)[PROPOSAL] == State.MUTED
        assert states(rig)[PRICING] == State.DUE
        with rig.store.transaction() as tx:
            # Not an opt-out Kathy asked for: nothing is kept once the label goes.
            assert KATHY not in tx.opt_outs(tx.account(rig.account, rig.provider, ME))
        rig.mark(PROPOSAL, LEAVE_ALONE, on=False)
        rig.cycle(NOW)
        assert states(rig)[PROPOSAL] == State.DUE
