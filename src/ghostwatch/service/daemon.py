"""The daemon: every enabled account on its schedule (APScheduler 3), health and metrics.

Per account: a mail poll every `schedule.mail_minutes` and a calendar poll every
`schedule.calendar_minutes` (interval triggers with jitter, so accounts spread out), and
the digest at the account's local `digest_time` on weekdays (a cron trigger in the
account's zone; holidays are skipped by the runner). Every job has `max_instances=1` and
`coalesce=True`: a poll still running is not started twice, and polls missed while the
process slept run once, not once per miss (APScheduler 3 user guide, "Limiting the
number of concurrently executing instances of a job", "Missed job executions and
coalescing").

Stopping (SIGTERM/SIGINT): no new jobs start, the cycles in flight finish, then the
process exits; a cycle that does not finish in time is abandoned, which the action
ledger makes safe (the next start settles its pending intents).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ghostwatch.clock import utc_now
from ghostwatch.config import AccountConfig, Settings
from ghostwatch.errors import WrongMailbox
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.health import HealthState, database_probe
from ghostwatch.service.metrics import Metrics
from ghostwatch.service.runner import AccountRunner, Progress
from ghostwatch.service.wiring import Mailbox
from ghostwatch.store import Store

log = structlog.get_logger(__name__)

STOP_TIMEOUT = 25.0
"""Seconds a stop waits for cycles in flight: inside the 30 s orchestrators allow
(Kubernetes' default terminationGracePeriodSeconds, `docker stop`'s 10 s is configurable)."""


class Daemon:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        open_mailbox: Callable[[AccountConfig], Mailbox],
        *,
        clock: Callable[[], datetime] = utc_now,
        metrics: Metrics | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = metrics or Metrics()
        accounts = settings.enabled_accounts()
        stale = timedelta(minutes=settings.schedule.stale_after_minutes)
        names = [a.name for a in accounts]
        self.health = HealthState(names, stale, clock, database_probe(store))
        self.runners = [
            AccountRunner(a, open_mailbox, store, clock, self.health, self.metrics, progress)
            for a in accounts
        ]
        self._stopping = threading.Event()

    def refuse_wrong_mailboxes(self) -> None:
        """At start: every account whose sign-in reads another address than its own,
        in one `WrongMailbox` (exit 2) before any cycle reads or writes a thing."""
        wrong = [said for r in self.runners if (said := r.signed_in_as_configured())]
        if wrong:
            raise WrongMailbox("; ".join(wrong))

    def run_once(self) -> dict[str, CycleReport | None]:
        """Every enabled account once (cron, CI, the demo): a calendar-refreshing cycle,
        with the digest when one is owed now; None for an account that failed."""
        return {r.name: r.cycle(calendar=True) for r in self.runners}

    # --- the schedule -------------------------------------------------------------------

    def schedule(self, scheduler: BaseScheduler, first_run: datetime | None = None) -> None:
        """Add every account's jobs; the first polls start at `first_run` (default now),
        each account a random part of the jitter later so they do not start together."""
        start = first_run or self.clock()
        plan = self.settings.schedule
        jitter = plan.jitter_seconds
        for runner in self.runners:
            # Jitter only spreads polls out; it guards nothing, so no cryptographic PRNG.
            seconds = random.uniform(0, jitter) if jitter else 0.0  # nosec B311
            offset = timedelta(seconds=seconds)
            common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
            scheduler.add_job(
                runner.poll,
                IntervalTrigger(minutes=plan.mail_minutes, jitter=jitter or None, start_date=start),
                id=f"{runner.name}:mail",
                next_run_time=start + offset,
                **common,
            )
            scheduler.add_job(
                runner.poll,
                IntervalTrigger(
                    minutes=plan.calendar_minutes, jitter=jitter or None, start_date=start
                ),
                kwargs={"calendar": True},
                id=f"{runner.name}:calendar",
                next_run_time=start + offset + timedelta(minutes=plan.calendar_minutes),
                **common,
            )
            if runner.account.digest:
                scheduler.add_job(
                    runner.digest,
                    _digest_trigger(runner.account),
                    id=f"{runner.name}:digest",
                    **common,
                )

    # --- running until told to stop -------------------------------------------------------

    def serve(self) -> bool:
        """Run the schedule until `stop()`; True if every cycle in flight finished."""
        scheduler = BackgroundScheduler(timezone="UTC")
        self.schedule(scheduler)
        scheduler.start()
        log.info("daemon_started", accounts=len(self.runners))
        self._stopping.wait()
        log.info("daemon_stopping")
        scheduler.shutdown(wait=False)  # no new jobs; running ones continue
        finished = self._wait_for_cycles(STOP_TIMEOUT)
        log.info("daemon_stopped", clean=finished)
        return finished

    def stop(self) -> None:
        """Safe from a signal handler: only sets an event."""
        self._stopping.set()

    def _wait_for_cycles(self, timeout: float) -> bool:
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            for runner in self.runners:
                while not runner.lock.acquire(timeout=0.2):
                    if deadline.is_set():
                        return False
                runner.lock.release()
            return True
        finally:
            timer.cancel()


def _digest_trigger(account: AccountConfig) -> CronTrigger:
    when = account.digest_time
    return CronTrigger(
        day_of_week="mon-fri", hour=when.hour, minute=when.minute, timezone=account.zone
    )
