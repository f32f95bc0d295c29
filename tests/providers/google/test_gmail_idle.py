"""An idle Gmail cycle is one `history.list` (2 units), and the ledger still sees every
draft the user deleted, sent or edited, because history shows it (issue 18).

The whole cycle is counted, not only the read: the real Gmail client over HTTP against the
sandbox seeded from examples/mailbox, its meter counting requests, calls and units, and
`run_cycle` with the source wrapped as the daemon wraps it (`runner.cached`: the calendar
is read by its own job, not by every mail poll).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.runner import CalendarCache, cached
from ghostwatch.store import LedgerStatus
from tests.contracts.contract_cycle import EXAMPLE, NOW, entry
from tests.support.provider_rigs import GmailRig, one_cycle, rig_for, sqlite_store

pytestmark = pytest.mark.server


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[GmailRig]:
    with sqlite_store(tmp_path / "gw.db") as store, rig_for("gmail", EXAMPLE, store) as made:
        assert isinstance(made, GmailRig)
        yield made


def _cycle(rig: GmailRig, source: CalendarCache) -> CycleReport:
    rig.sandbox.meter.reset()
    report = one_cycle(rig, source, NOW, None)
    assert report.errors == []
    return report


def _settled(rig: GmailRig) -> CalendarCache:
    """The drafts written, and the cycle after it, which reads them back from history."""
    source = cached(rig.source)
    assert _cycle(rig, source).drafts_created > 0
    _cycle(rig, source)
    return source


def _idle(rig: GmailRig) -> tuple[int, int, dict[str, int]]:
    meter = rig.sandbox.meter
    return meter.requests, meter.units, dict(meter.methods)


def test_an_idle_cycle_is_one_history_list(rig: GmailRig) -> None:
    source = _settled(rig)
    for _ in range(3):
        report = _cycle(rig, source)
        assert (report.drafts_created, report.steps_abandoned) == (0, 0)
        assert _idle(rig) == (1, 2, {"history.list": 1})


def test_a_draft_the_user_deletes_is_noticed_from_history(rig: GmailRig) -> None:
    source = _settled(rig)
    steps = rig.actions.existing_steps()
    gone = sorted(steps)[0]
    _cycle(rig, source)  # idle again after that listing
    assert _idle(rig) == (1, 2, {"history.list": 1})
    rig.delete_draft(steps[gone])
    report = _cycle(rig, source)
    assert (report.steps_abandoned, report.drafts_created) == (1, 0)
    # Drafts were listed again because history showed the deletion; every other draft's
    # step header was known already, so none was read again.
    methods = rig.sandbox.meter.methods
    assert (methods["drafts.list"], methods["messages.get"]) == (1, 0)
    abandoned = entry(rig, f"draft:{gone}")
    assert abandoned is not None
    assert abandoned.status == LedgerStatus.ABANDONED
    _cycle(rig, source)
    assert _idle(rig) == (1, 2, {"history.list": 1})


def test_a_draft_the_user_sends_is_noticed_from_history(rig: GmailRig) -> None:
    """Sending deletes the draft and creates a new message with SENT
    (https://developers.google.com/gmail/api/guides/drafts): the step is no longer due,
    nothing is made again and nothing is written off."""
    source = _settled(rig)
    steps = rig.actions.existing_steps()
    before = _cycle(rig, source)
    sent = sorted(steps)[0]
    raw = rig.sandbox.mailbox.draft(steps[sent]).raw
    rig.delete_draft(steps[sent])
    rig.deliver(raw, sent=True)
    report = _cycle(rig, source)
    assert (report.drafts_created, report.steps_abandoned) == (0, 0)
    assert report.drafts_due == before.drafts_due - 1
    assert rig.sandbox.meter.methods["drafts.list"] == 1
    kept = entry(rig, f"draft:{sent}")
    assert kept is not None
    assert (kept.status, kept.provider_ref) == (LedgerStatus.DONE, steps[sent])


def test_a_draft_the_user_edits_keeps_its_ledger_entry(rig: GmailRig) -> None:
    """An edit is a new message in the same draft: listed again, its one new message's
    header read, the step still done under the same draft id."""
    source = _settled(rig)
    steps = rig.actions.existing_steps()
    edited = sorted(steps)[0]
    _cycle(rig, source)
    rig.edit_draft(steps[edited], "I rewrote this myself.")
    report = _cycle(rig, source)
    assert (report.drafts_created, report.steps_abandoned) == (0, 0)
    assert rig.sandbox.meter.methods["drafts.list"] == 1
    kept = entry(rig, f"draft:{edited}")
    assert kept is not None
    assert (kept.status, kept.provider_ref) == (LedgerStatus.DONE, steps[edited])
    _cycle(rig, source)
    assert _idle(rig) == (1, 2, {"history.list": 1})


def test_actions_no_history_vouches_for_list_drafts_every_time(rig: GmailRig) -> None:
    """A `GmailActions` whose watch no source feeds cannot know Drafts are unchanged."""
    _settled(rig)
    alone = GmailActions(rig.service, batch_uri=rig.sandbox.batch_uri)
    rig.sandbox.meter.reset()
    first, second = alone.draft_listing(), alone.draft_listing()
    assert first == second
    assert rig.sandbox.meter.methods["drafts.list"] == 2
