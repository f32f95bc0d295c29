"""The whole service cycle, metered: what an idle cycle costs once the drafts are written.

Shared by gmail_sync.py and graph_sync.py. `idle_cycle` runs `run_cycle` (read, decide,
reconcile the ledger against the mailbox, act, record) on a provider that has done its
first sync, with a SQLite store in a temporary folder: one cycle writes the due drafts,
one more reads them back from the mailbox's changes, and the next — nothing changed —
is measured from the sandbox's meter. The source is wrapped as the daemon wraps it
(`runner.cached`): the calendar is read by its own job, not by every mail poll.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.port import MailActions, MailSource
from ghostwatch.service.cycle import CycleReport, run_cycle
from ghostwatch.service.runner import cached
from ghostwatch.store import Store

LOOK_BACK = timedelta(days=90)


def _cycle(source: MailSource, actions: MailActions, store: Store, me: str, now: datetime,
           provider: str) -> CycleReport:  # fmt: skip
    rules = Rules(me=Identity.of([me]), look_back=LOOK_BACK)
    sender = Sender(name="Jordan", address=me, signature="Jordan")
    return run_cycle("bench", source, actions, store, rules, sender, now, ZoneInfo("UTC"),
                     provider=provider)  # fmt: skip


def idle_cycle(
    source: MailSource, actions: MailActions, meter: Any, me: str, now: datetime, provider: str
) -> dict[str, Any]:
    """The meter's figures for an idle cycle (requests, calls, units, methods), with how
    many drafts the first cycle wrote and the errors any cycle met."""
    source = cached(source)
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(f"sqlite:///{Path(folder) / 'bench.db'}") as store,
    ):
        store.upgrade()
        first = _cycle(source, actions, store, me, now, provider)
        second = _cycle(source, actions, store, me, now, provider)
        meter.reset()
        idle = _cycle(source, actions, store, me, now, provider)
    return {
        "requests": meter.requests,
        "calls": meter.calls,
        "quota_units": meter.units,
        "methods": dict(meter.methods),
        "drafts_written": first.drafts_created,
        "errors": first.errors + second.errors + idle.errors,
    }
