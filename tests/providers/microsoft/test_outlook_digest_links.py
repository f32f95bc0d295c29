"""A digest you can act on, through Outlook: each draft the digest lists links to its
`webLink` (resources/message), read from Graph when the digest is made."""

from __future__ import annotations

import html
from pathlib import Path

from ghostwatch.config import AccountConfig, OutlookOptions
from ghostwatch.service.wiring import default_registry
from ghostwatch_sandbox.microsoft.render import message_json
from tests.contracts.contract_cycle import NOW, opened
from tests.support.builder import ME
from tests.support.provider_rigs import OutlookRig, graph_digest, graph_step


def test_each_draft_in_the_digest_opens_in_outlook_on_the_web(tmp_path: Path) -> None:
    with opened("outlook", tmp_path) as rig:
        assert isinstance(rig, OutlookRig)
        rig.cycle(NOW)
        rig.graph.meter.reset()
        rig.cycle(NOW, digest=True)
        box = rig.graph.mailbox
        ours = [m for m in box.in_folder("drafts") if graph_step(m)]
        links = [message_json(box, m, ("webLink",), True)["webLink"] for m in ours]
        [digest] = [m for m in box.in_folder("inbox") if graph_digest(m)]
        batches = rig.graph.meter.methods.get("messages.get", 0)
    assert len(links) == 5
    for link in links:
        assert link.startswith("https://outlook.office365.com/owa/?ItemID=")
        assert f'href="{html.escape(link)}"' in digest.body
    assert batches == 5  # the five drafts' webLink, asked once, in one batch


def test_an_account_wired_to_a_sandbox_links_to_nothing(tmp_path: Path) -> None:
    """Outlook on the web does not hold a sandbox's drafts: an account whose Graph is not
    Microsoft's gets no links (service/wiring.py), rather than dead ones."""
    with opened("outlook", tmp_path) as rig:
        assert isinstance(rig, OutlookRig)
        rig.cycle(NOW)
        drafts = [m.immutable_id for m in rig.graph.mailbox.in_folder("drafts") if graph_step(m)]
        assert rig.actions.draft_links(drafts).keys() == set(drafts)  # the sandbox has them
        options = OutlookOptions(graph_endpoint=rig.graph.base_url)
        account = AccountConfig(name="o", provider="outlook", address=ME, outlook=options)
        token = rig.graph.token
        wired = default_registry(microsoft_tokens=lambda _account: lambda: token).open(account)
        assert wired.actions.draft_links(drafts) == {}
