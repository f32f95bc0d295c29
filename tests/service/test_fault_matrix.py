"""The fault matrix: every provider × everything a mail API does wrong, through whole cycles.

Each cell tells the same story (`tests/support/provider_rigs.py`): cycle one writes Kathy's
nudge; then Kathy answers and I write to Raj; the fault is armed for cycle two, the poll
that must see that new mail (withdraw Kathy's nudge, write Raj's). Cycle two must recover,
or fail with a named `GhostwatchError`; then, faults cleared, the same process and a restarted
one (new objects, the same database) must show Kathy's conversation `replied` and Raj's
nudge written: the stored cursor skipped nothing, and no step's draft exists twice.
Meanwhile a second account on another mailbox, in the same database, goes on working.
Retry waits come from a recording `sleep`: "honours Retry-After" is measured, not slept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import State
from tests.support.builder import Mailbox
from tests.support.provider_rigs import (
    FIRST,
    PROVIDERS,
    SECOND,
    SENDER,
    GmailRig,
    OutlookRig,
    Rig,
    i_write_to_raj,
    kathy_answers,
    message,
    rig_for,
    sqlite_store,
    states,
    story_mailbox,
)

Rigs = tuple[Rig, Rig]


@dataclass(frozen=True)
class Cell:
    """One fault: `kind` (ghostwatch_sandbox/faults.py) on `method`, `count` times in a row."""

    kind: str
    method: str | None
    count: int = 1
    retry_after: int = 1
    recovers: bool = True
    """False: cycle two must fail with a named error (and the next one recover)."""
    arm: Callable[[Rig], None] | None = None
    """A fault that is not an armed answer (an expired cursor, a revoked grant)."""

    def __str__(self) -> str:
        method = (self.method or "").replace("$", "")
        return "-".join(filter(None, (self.kind, method, f"x{self.count}")))


def _expire_history(rig: Rig) -> None:
    assert isinstance(rig, GmailRig)
    rig.sandbox.expire_history()


def _expire_access_tokens(rig: Rig) -> None:
    assert isinstance(rig, GmailRig)
    rig.sandbox.expire_tokens()


def _revoke_grant(rig: Rig) -> None:
    if isinstance(rig, GmailRig):
        rig.sandbox.revoke(rig.refresh_token)
        rig.sandbox.expire_tokens()
    else:
        assert isinstance(rig, OutlookRig)
        rig.graph.tokens.revoke(rig.token)


def _expire_delta(rig: Rig) -> None:
    assert isinstance(rig, OutlookRig)
    rig.graph.expire_delta()


GMAIL = [
    Cell("429", "history.list", 2, retry_after=7),
    Cell("403", "history.list", 1, retry_after=5),
    Cell("500", "history.list", 2),
    Cell("502", "history.list", 1),
    Cell("503", "history.list", 1),  # Google sends no Retry-After with a 503
    Cell("503", "history.list", 10, recovers=False),
    Cell("slow", "history.list"),
    Cell("drop", "history.list"),
    Cell("drop", "history.list", 10, recovers=False),  # Google unreachable for a while
    Cell("truncate", "history.list"),
    Cell("malformed", "history.list"),
    # Batch parts: the new mail's headers come back in one batch; one part fails.
    Cell("429", "messages.get", 1, retry_after=4),
    Cell("500", "messages.get", 1),
    Cell("malformed", "messages.get", 1),
    # The write side: a create refused for rate, failed, or maybe done (connection lost).
    Cell("429", "drafts.create", 1, retry_after=3),
    Cell("500", "drafts.create", 1),
    Cell("drop", "drafts.create", 1),
    Cell("expired-history", None, arm=_expire_history),
    Cell("expired-access-token", None, arm=_expire_access_tokens),
    Cell("revoked-grant", None, recovers=False, arm=_revoke_grant),
]
OUTLOOK = [
    # Delta rounds of all watched folders travel in one JSON batch: one part fails.
    Cell("429", "messages.delta", 2, retry_after=7),
    Cell("500", "messages.delta", 1),
    Cell("502", "messages.delta", 1),
    Cell("503", "messages.delta", 1, retry_after=3),
    Cell("503", "messages.delta", 20, recovers=False),
    # The batch request itself: throttled, slow, cut, broken.
    Cell("429", "$batch", 1, retry_after=6),
    Cell("503", "$batch", 1),
    Cell("slow", "$batch"),
    Cell("drop", "$batch"),
    Cell("drop", "$batch", 20, recovers=False),  # Graph unreachable for a while
    Cell("truncate", "$batch"),
    Cell("malformed", "$batch"),
    # The write side: a reply draft refused for rate, failed, or maybe done.
    Cell("429", "messages.createReply", 1, retry_after=3),
    Cell("500", "messages.createReply", 1),
    Cell("drop", "messages.createReply", 1),
    Cell("expired-delta", None, arm=_expire_delta),
    Cell("revoked-token", None, recovers=False, arm=_revoke_grant),
]


def _may_have_happened(fault: Cell) -> bool:
    """A write that failed after the server may have acted is left to the next cycle's
    ledger (never retried blindly): the cycle reports it instead of recovering."""
    writes = ("drafts.create", "messages.createReply", "messages.update")
    return fault.method in writes and fault.kind != "429"


MATRIX = [("gmail", c) for c in GMAIL] + [("outlook", c) for c in OUTLOOK]
IDS = [f"gmail-{c}" for c in GMAIL] + [f"outlook-{c}" for c in OUTLOOK]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("story")
    story_mailbox(root)
    return root


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The second account's mailbox: one conversation gone quiet, due on cycle two."""
    root = tmp_path_factory.mktemp("other")
    Mailbox(root).add("Sent", "alex@ghostwatch.example", "Lee <lee@fabrikam.example>",
                      "Renewal", "2026-11-10 09:00")  # fmt: skip
    return root


@pytest.fixture(params=MATRIX, ids=IDS)
def cell(request: pytest.FixtureRequest) -> tuple[str, Cell]:
    value: tuple[str, Cell] = request.param
    return value


@contextmanager
def _rigs(provider: str, seed: Path, other_seed: Path, tmp_path: Path) -> Iterator[Rigs]:
    with (
        sqlite_store(tmp_path / "ghostwatch.db") as store,
        rig_for(provider, seed, store) as rig,
        rig_for(provider, other_seed, store, account="other") as other,
    ):
        yield rig, other


@pytest.fixture
def rigs(cell: tuple[str, Cell], seed: Path, other_seed: Path, tmp_path: Path) -> Iterator[Rigs]:
    with _rigs(cell[0], seed, other_seed, tmp_path) as found:
        yield found


def _second_cycle(rig: Rig, cell: Cell) -> GhostwatchError | None:
    """Cycle two under the fault: its outcome, as the daemon's loop would see it."""
    try:
        report = rig.cycle(SECOND)
    except GhostwatchError as error:
        return error
    return GhostwatchError("; ".join(report.errors)) if report.errors else None


def test_a_fault_is_recovered_or_named_and_nothing_is_lost_or_doubled(
    cell: tuple[str, Cell], rigs: Rigs
) -> None:
    provider, fault = cell
    rig, other = rigs
    first = rig.cycle(FIRST)
    assert (first.drafts_created, first.errors) == (1, [])
    rig.deliver(kathy_answers())
    rig.deliver(i_write_to_raj(), sent=True)
    rig.deliver(message("Lee <lee@fabrikam.example>", "alex@ghostwatch.example", "Lunch?",
                        "2026-11-18 12:00", "Free on Friday?\n"))  # fmt: skip
    rig.sleeps.clear()
    if fault.arm is not None:
        fault.arm(rig)
    else:
        rig.arm(fault.kind, fault.method, fault.count, fault.retry_after)

    failed = _second_cycle(rig, fault)

    if fault.arm is None:
        assert rig.fired(), f"{fault} never fired: the cell tests nothing"
    if fault.recovers and not _may_have_happened(fault):
        assert failed is None, f"{provider} did not recover from {fault}: {failed}"
    if not fault.recovers:
        assert failed is not None, f"{provider} hid a lasting {fault}"
    if failed is not None:
        # Its class is the `kind` in logs, /metrics and the digest's notice: a public name.
        assert not type(failed).__name__.startswith("_"), type(failed)
    if fault.retry_after > 1 and fault.recovers:
        assert rig.sleeps, f"{provider} did not wait after {fault}"
        assert all(s >= fault.retry_after for s in rig.sleeps[: fault.count]), rig.sleeps
    if failed is not None:
        # The daemon moves on to the next account, in the same database.
        other_report = other.cycle(SECOND)
        assert (other_report.drafts_created, other_report.errors) == (1, [])

    rig.clear_faults()
    if fault.kind.startswith("revoked"):
        _sign_in_again(rig)
    rig.cycle(SECOND)
    _assert_settled(rig)
    rig.restart()
    again = rig.cycle(SECOND)
    assert again.errors == []
    assert again.drafts_created == 0
    _assert_settled(rig)
    assert rig.sent() == []


def _assert_settled(rig: Rig) -> None:
    """Kathy's answer was seen, Raj's nudge written, each step's draft exactly once, and
    Kathy's nudge, unsent and as written, withdrawn once (docs/rules.md, "Drafts stay
    true")."""
    found = states(rig)
    assert found.get("Proposal") == State.REPLIED, found
    steps = rig.steps()
    assert len(steps) == 1, steps  # Raj's nudge (cycle two); Kathy's (cycle one) withdrawn
    assert set(steps.values()) == {1}, steps
    deletes = [w for w in rig.mutations() if w.method in ("drafts.delete", "messages.delete")]
    assert len(deletes) == 1, deletes
    bodies = rig.draft_bodies()
    assert all(SENDER.signature in body for body in bodies.values()), bodies  # whole drafts
    with rig.store.transaction() as tx:
        account = tx.account(rig.account, rig.provider, "alex@ghostwatch.example")
        assert tx.pending(account) == []


def _sign_in_again(rig: Rig) -> None:
    """What `ghostwatch auth … --account` does after a revoked grant: a new one."""
    if isinstance(rig, GmailRig):
        rig.refresh_token = rig.sandbox.tokens.grant(rig.sandbox.user)
    else:
        assert isinstance(rig, OutlookRig)
        rig.token = rig.graph.tokens.issue(rig.graph.user)
    rig.restart()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_story_holds_without_faults(
    provider: str, seed: Path, other_seed: Path, tmp_path: Path
) -> None:
    """The control: the story's expectations are met when nothing goes wrong."""
    with _rigs(provider, seed, other_seed, tmp_path) as (rig, _):
        _story_without_faults(rig)


def _story_without_faults(rig: Rig) -> None:
    rig.cycle(FIRST)
    assert states(rig)["Proposal"] != State.REPLIED
    rig.deliver(kathy_answers())
    rig.deliver(i_write_to_raj(), sent=True)
    assert rig.cycle(SECOND).drafts_created == 1
    _assert_settled(rig)


# The first sync itself, cut short: nothing it had not finished may count as read.
FIRST_SYNC_CUT = {"gmail": "threads.get", "outlook": "messages.delta"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_interrupted_first_sync_is_done_again_whole(
    provider: str, seed: Path, other_seed: Path, tmp_path: Path
) -> None:
    with _rigs(provider, seed, other_seed, tmp_path) as (rig, _):
        rig.arm("503", FIRST_SYNC_CUT[provider], count=20)
        with pytest.raises(GhostwatchError):
            rig.cycle(FIRST)
        rig.clear_faults()
        assert rig.cycle(FIRST).drafts_created == 1  # the same process, its state kept
        rig.restart()
        assert rig.cycle(FIRST).drafts_created == 0
        assert set(rig.steps().values()) == {1}
