"""What every step of a cycle shares: who it acts for, what it did, and how a failing
call or item is kept from stopping the rest.

`service/cycle.py` runs the steps; `service/digest_delivery.py` and
`service/withdraw.py` are steps of their own. They all take one `Cycle`, add to its
`CycleReport`, and call the mailbox through `guarded` (a provider error is reported and
the cycle goes on; a lost lease ends it) and compose through `item` (whatever one item's
pure step raises skips that item alone). Kept apart from the cycle so those steps can
share it without importing the module that calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import ParamSpec, TypeVar

import structlog

from ghostwatch.errors import GhostwatchError, LeaseLost
from ghostwatch.model.outbox import OutdatedDraft, Sender, Skipped
from ghostwatch.providers.port import MailActions
from ghostwatch.service.pipeline import skipped_item
from ghostwatch.store import Store

log = structlog.get_logger(__name__)

# The kinds of action ledger entry a cycle makes (service/withdraw.py adds its own).
DRAFT, RESCUE, DIGEST = "draft", "rescue", "digest"
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(slots=True)
class CycleReport:
    """What one cycle did (counts only: the summary line never holds mail or addresses)."""

    drafts_due: int = 0
    drafts_created: int = 0
    drafts_reconciled: int = 0
    """Pending or unrecorded drafts the mailbox proved exist, now confirmed."""
    steps_abandoned: int = 0
    """Drafts the user deleted unsent: counted as taken, never made again."""
    drafts_withdrawn: int = 0
    """ghostwatch's own unedited drafts deleted because the conversation no longer
    wants them (service/withdraw.py)."""
    outdated: list[OutdatedDraft] = field(default_factory=list)
    """Drafts the conversation no longer wants but the user edited: kept, and listed."""
    rescued: int = 0
    digest_delivered: bool = False
    errors: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    """Items left out because handling them failed (poison): every other one went on."""
    states: dict[str, int] = field(default_factory=dict)
    """Conversations by state after the scan (for /metrics)."""


@dataclass(slots=True)
class Cycle:
    """What the act steps share: who, the decisions, and the intents to retry now."""

    account_id: int
    actions: MailActions
    store: Store
    sender: Sender
    now: datetime
    tz: tzinfo
    report: CycleReport
    digest_key: str
    """The random part of this account's digest Message-IDs (store: Tx.digest_key)."""
    retry: set[str] = field(default_factory=set)
    """Pending keys whose effect the mailbox shows never happened: make them now."""


def guarded(
    cycle: Cycle, what: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """One provider call; a ghostwatch error is reported and the cycle goes on (None).
    A lost lease ends the cycle: the replica holding the account now acts for it."""
    try:
        return call(*args, **kwargs)
    except LeaseLost:
        raise
    except GhostwatchError as error:
        failed(cycle, what, error)
        return None


def item(
    cycle: Cycle, kind: str, title: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """One item's pure step (a draft's or the digest's MIME): whatever it raises skips
    that item alone, named in the report (the digest, /metrics), and the cycle goes on."""
    try:
        return call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - one item's text must never stop the rest
        cycle.report.skipped.append(skipped_item(kind, title, error))
        return None


def failed(cycle: Cycle, what: str, error: GhostwatchError) -> None:
    cycle.report.errors.append(f"{what}: {error}")
    log.warning("cycle_action_failed", action=what, error=str(error))


def summary(account: str, report: CycleReport, dry_run: bool, seconds: float) -> None:
    log.info(
        "cycle_done",
        account=account,
        dry_run=dry_run,
        drafts_due=report.drafts_due,
        drafts=report.drafts_created,
        reconciled=report.drafts_reconciled,
        abandoned=report.steps_abandoned,
        withdrawn=report.drafts_withdrawn,
        outdated=len(report.outdated),
        rescued=report.rescued,
        digest=report.digest_delivered,
        skipped=len(report.skipped),
        errors=len(report.errors),
        seconds=round(seconds, 3),
    )
