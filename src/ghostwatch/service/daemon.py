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

On a shared PostgreSQL the daemon is one replica among several: every account keeps its
jobs, but a job runs a cycle only while this replica holds the account's lease. The
leases are claimed at start, then renewed every third of `replicas.lease_seconds` in a
thread of their own (service/leasing.py); an account gained is polled at once, not at
its next turn; a clean stop hands every lease back for the others to take. After each
round the process's shared budgets (a Gmail project's) aim at one over the live replicas
of their limit, so the replicas together aim at the project's (`Budget.resize` says why).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ghostwatch.clock import utc_now
from ghostwatch.config import AccountConfig, Settings
from ghostwatch.errors import WrongMailbox
from ghostwatch.providers.budget import Budget
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.health import HealthState, database_probe
from ghostwatch.service.leasing import Change, Leaser
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
        shared_budgets: Sequence[Budget] = (),
    ) -> None:
        self.settings = settings
        self.shared_budgets = tuple(shared_budgets)
        self.clock = clock
        self.metrics = metrics or Metrics()
        accounts = settings.enabled_accounts()
        stale = timedelta(minutes=settings.schedule.stale_after_minutes)
        names = [a.name for a in accounts]
        self.leaser = (
            Leaser(store, names, settings.replicas.lease_seconds) if store.shared else None
        )
        self.health = HealthState(names, stale, clock, database_probe(store), self.leaser)
        self.runners = [
            AccountRunner(
                a, open_mailbox, store, clock, self.health, self.metrics, progress, self.leaser
            )
            for a in accounts
        ]
        self._stopping = threading.Event()

    def refuse_wrong_mailboxes(self) -> None:
        """At start: every account whose sign-in reads another address than its own,
        in one `WrongMailbox` (exit 2) before any cycle reads or writes a thing. A
        replica checks the accounts it leased at start (claimed here, at once): opening
        every account of the company on every start would cost each replica a sign-in
        and a client per account; one gained later is checked by its first cycle."""
        runners = self.runners
        if self.leaser is not None:
            self._leases_changed(self.leaser.claim(), None)
            held = set(self.leaser.held())
            runners = [r for r in runners if r.name in held]
        wrong = [said for r in runners if (said := r.signed_in_as_configured())]
        if wrong:
            raise WrongMailbox("; ".join(wrong))

    def run_once(self) -> dict[str, CycleReport | None]:
        """Every enabled account once (cron, CI, the demo): a calendar-refreshing cycle,
        with the digest when one is owed now; None for an account that failed. On a
        shared database, the accounts this process could lease (all, when no replica
        runs); `release_leases` hands them back."""
        if self.leaser is None:
            return {r.name: r.cycle(calendar=True) for r in self.runners}
        self._leases_changed(self.leaser.claim(), None)
        held = set(self.leaser.held())
        return {r.name: r.cycle(calendar=True) for r in self.runners if r.name in held}

    def release_leases(self) -> None:
        """Hand every lease back (a process that ran once and leaves)."""
        if self.leaser is not None:
            self.leaser.release()

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
        leasing = None
        if self.leaser is not None:
            self._leases_changed(self.leaser.claim(), None)  # at once, not a round later
            leasing = threading.Thread(
                target=self._keep_leases, args=(self.leaser, scheduler), name="leases"
            )
        self.schedule(scheduler)
        scheduler.start()
        if leasing is not None:
            leasing.start()
        log.info("daemon_started", accounts=len(self.runners))
        self._stopping.wait()
        log.info("daemon_stopping")
        scheduler.shutdown(wait=False)  # no new jobs; running ones continue
        finished = self._wait_for_cycles(STOP_TIMEOUT)
        if leasing is not None and self.leaser is not None:
            leasing.join()
            self.leaser.release()
        log.info("daemon_stopped", clean=finished)
        return finished

    def _keep_leases(self, leaser: Leaser, scheduler: BaseScheduler) -> None:
        while not self._stopping.wait(self.settings.replicas.renew_seconds):
            self._leases_changed(leaser.claim(), scheduler)

    def _leases_changed(self, change: Change, scheduler: BaseScheduler | None) -> None:
        """Metrics, a log line, and a poll at once for every account gained."""
        assert self.leaser is not None  # only called by a replica
        self._share_budgets(change.replicas)
        self.metrics.leases(len(self.leaser.held()), len(change.lost))
        if change.gained or change.lost or change.released:
            log.info(
                "leases_changed",
                holder=self.leaser.holder,
                gained=len(change.gained),
                lost=len(change.lost),
                released=len(change.released),
                held=len(self.leaser.held()),
            )
        if scheduler is None:
            return
        now = self.clock()
        for name in sorted(change.gained):
            try:
                scheduler.modify_job(f"{name}:mail", next_run_time=now)
            except JobLookupError:
                continue  # stopping: its jobs are gone

    def _share_budgets(self, replicas: int) -> None:
        """Each shared budget to one `replicas`-th of its limit; a failed round (0)
        leaves the last part, as its leases are kept until they lapse."""
        if replicas:
            for budget in self.shared_budgets:
                budget.share_with(replicas)

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
