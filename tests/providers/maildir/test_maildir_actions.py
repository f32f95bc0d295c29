"""The service cycle on a Maildir: the cycle contract on a real Maildir++ tree, and what
only a Maildir shows; then the account wiring that picks it (and Gmail) from the
configuration.

`TestMaildirCycle` runs every story of `tests/contracts/contract_cycle.py` (drafts once, never
twice, never lost; one rescue; one digest a day; dry runs write nothing) through `MaildirActions`
on a copy of examples/mailbox in a temporary folder, with a SQLite store in tmp; its own
test adds what is a Maildir's alone: flags, and the folders the files land in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ghostwatch import config
from ghostwatch.errors import UserError
from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.service.wiring import ProviderRegistry, default_registry, rules_for, sender_for
from ghostwatch_sandbox.google import GmailSandbox
from tests.contracts.contract_cycle import EXAMPLE, NOW, CycleContract
from tests.support.builder import ME
from tests.support.maildir_rig import MaildirRig
from tests.support.provider_rigs import DIGEST_ID, STEP


def _account(root: Path) -> config.AccountConfig:
    return config.AccountConfig(
        name="alex",
        provider="maildir",
        address=ME,
        time_zone="Europe/London",
        maildir=config.MaildirOptions(path=root),
    )


class TestMaildirCycle(CycleContract):
    provider = "maildir"
    search_cannot_fail = (
        "MaildirActions.find_digest reads local files: there is no search call to arm, "
        "and a tree it cannot read fails the scan first, before any digest is looked for"
    )

    def test_a_cycle_writes_as_a_maildir_does(
        self, rig: MaildirRig, previewed: list[Draft]
    ) -> None:
        """Drafts in .Drafts/cur/ flagged D (https://cr.yp.to/proto/maildir.html), the
        digest unseen in the INBOX's new/, the rescued reply renamed into cur/ with its
        name kept; nothing left in tmp/."""
        junk = {p.name for p in rig.files(Folder.JUNK)}
        report = rig.cycle(NOW, junk_rescue=True, digest=True)
        counts = (report.drafts_created, report.rescued, report.digest_delivered)
        assert (report.errors, counts) == ([], (len(previewed), 1, True))
        made = {p for p in rig.mutations() if p.exists()}
        drafts = {p for p in made if STEP in p.read_text(errors="replace")}
        assert len(drafts) == len(previewed)
        assert {(p.parent, p.name[-4:]) for p in drafts} == {(rig.root / ".Drafts/cur", ":2,D")}
        [digest] = [p for p in made if DIGEST_ID in p.read_text(errors="replace")]
        assert digest.parent == rig.root / "new"
        [rescued] = made - drafts - {digest}
        assert (rescued.parent, rescued.name in junk) == (rig.root / "cur", True)
        assert [p.name for p in rig.root.glob("**/tmp/*") if p.name != ".gitkeep"] == []


# --- wiring -----------------------------------------------------------------------------


def test_the_registry_opens_maildir_and_gmail_and_refuses_what_it_lacks(tmp_path: Path) -> None:
    with GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox:
        gmail = config.AccountConfig(
            name="g", provider="gmail", address=ME, gmail=config.GmailOptions.sandbox(sandbox.url)
        )
        registry = default_registry(lambda account: sandbox.credentials())
        opened = registry.open(gmail)
        assert isinstance(opened.source, GmailSource)
        through_gmail = {m.message_id for m in opened.source.read_headers()}
    local = registry.open(_account(EXAMPLE))
    # The Gmail sync reads what bears on decisions (port.py), the Maildir reader all.
    assert through_gmail < {m.message_id for m in local.source.read_headers()}
    outlook = config.AccountConfig(name="o", provider="outlook", address=ME)
    with pytest.raises(UserError, match="ghostwatch auth microsoft --account o"):
        registry.open(outlook)
    with pytest.raises(UserError, match="not available"):
        ProviderRegistry().open(outlook)
    with pytest.raises(UserError, match="ghostwatch auth google --account g"):
        default_registry().open(gmail)


def test_settings_become_rules_and_sender(tmp_path: Path) -> None:
    account = _account(EXAMPLE).model_copy(
        update={
            "aliases": ["alex.morgan@ghostwatch.example"],
            "holiday_country": "GB",
            "display_name": "Alex Morgan",
            "cadence": config.CadenceConfig.model_validate(
                {"steps": [{"action": "nudge", "after": 2}], "let_go_after": 5}
            ),
        }
    )
    rules = rules_for(account)
    assert rules.me.is_me("alex.morgan@ghostwatch.example")
    assert not rules.calendar.is_business_day(datetime(2026, 12, 25).date())
    assert [s.after_business_days for s in rules.cadence.steps] == [2]
    sender = sender_for(account)
    assert (sender.name, sender.address, sender.signature) == ("Alex Morgan", ME, "Alex Morgan")
    assert isinstance(sender, Sender)
