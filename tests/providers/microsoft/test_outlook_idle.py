"""An idle Outlook cycle is one request — the mail poll's `$batch` of deltas — and the
ledger still sees every draft the user deleted or edited, because that poll reads the
Drafts folder's delta too (issue 18).

The whole cycle is counted: the real Graph client over HTTP against the sandbox seeded
from examples/mailbox, its meter counting requests and Graph calls, and `run_cycle` with
the source wrapped as the daemon wraps it (`runner.cached`: the calendar has its own job).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.runner import CalendarCache, cached
from ghostwatch.store import LedgerStatus
from tests.contracts.contract_cycle import EXAMPLE, NOW, entry
from tests.support.provider_rigs import OutlookRig, one_cycle, rig_for, sqlite_store

pytestmark = pytest.mark.server


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[OutlookRig]:
    with sqlite_store(tmp_path / "gw.db") as store, rig_for("outlook", EXAMPLE, store) as made:
        assert isinstance(made, OutlookRig)
        yield made


def _cycle(rig: OutlookRig, source: CalendarCache) -> CycleReport:
    rig.graph.meter.reset()
    report = one_cycle(rig, source, NOW, None)
    assert report.errors == []
    return report


def _settled(rig: OutlookRig) -> CalendarCache:
    """The drafts written, and the cycle after it, which sees them in Drafts' delta."""
    source = cached(rig.source)
    assert _cycle(rig, source).drafts_created > 0
    _cycle(rig, source)
    return source


def _requests(rig: OutlookRig) -> int:
    return rig.graph.meter.requests


def test_an_idle_cycle_is_one_request(rig: OutlookRig) -> None:
    source = _settled(rig)
    for _ in range(3):
        report = _cycle(rig, source)
        assert (report.drafts_created, report.steps_abandoned) == (0, 0)
        assert _requests(rig) == 1
        # The folder tree and every mail folder's delta, the bodies it decides from
        # already read: nothing but deltas.
        assert set(rig.graph.meter.methods) == {"mailFolders.delta", "messages.delta"}


def test_a_draft_the_user_deletes_is_noticed_from_the_poll(rig: OutlookRig) -> None:
    source = _settled(rig)
    steps = rig.actions.existing_steps()
    gone = sorted(steps)[0]
    _cycle(rig, source)
    assert _requests(rig) == 1
    rig.delete_draft(steps[gone])
    report = _cycle(rig, source)
    assert (report.steps_abandoned, report.drafts_created) == (1, 0)
    assert _requests(rig) == 2  # the poll, which saw Drafts change, and a delta of Drafts
    abandoned = entry(rig, f"draft:{gone}")
    assert abandoned is not None
    assert abandoned.status == LedgerStatus.ABANDONED
    _cycle(rig, source)
    assert _requests(rig) == 1


def test_a_draft_the_user_edits_keeps_its_ledger_entry(rig: OutlookRig) -> None:
    source = _settled(rig)
    steps = rig.actions.existing_steps()
    edited = sorted(steps)[0]
    _cycle(rig, source)
    rig.edit_draft(steps[edited], "I rewrote this myself.")
    report = _cycle(rig, source)
    assert (report.drafts_created, report.steps_abandoned) == (0, 0)
    assert _requests(rig) == 2
    kept = entry(rig, f"draft:{edited}")
    assert kept is not None
    assert (kept.status, kept.provider_ref) == (LedgerStatus.DONE, steps[edited])


def test_actions_no_poll_vouches_for_read_drafts_every_time(rig: OutlookRig) -> None:
    _settled(rig)
    alone = OutlookActions(rig.source.client)
    rig.graph.meter.reset()
    first, second = alone.draft_listing(), alone.draft_listing()
    assert first == second
    assert rig.graph.meter.requests == 2


def test_a_body_is_read_once_while_its_message_is_unchanged(rig: OutlookRig) -> None:
    """Bodies are kept while their message is unchanged; one the poll brings again (here:
    moved to Junk) is read anew."""
    _settled(rig)
    assert "messages.getMime" not in rig.graph.meter.methods  # the bodies were kept
    inbox = [m for m in rig.source.read_headers() if m.folder.value == "inbox"]
    key = inbox[0].key
    assert rig.source.load_content([key])
    rig.graph.meter.reset()
    assert rig.source.load_content([key])
    assert rig.graph.meter.requests == 0
    rig.actions.client.request("POST", f"/me/messages/{key}/move",
                               json={"destinationId": "junkemail"})  # fmt: skip
    rig.source.read_headers()
    rig.graph.meter.reset()
    assert rig.source.load_content([key])
    assert rig.graph.meter.methods["messages.getMime"] == 1
