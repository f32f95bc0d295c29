"""One account inside the daemon: when its cycles run, and their isolation.

Every failure of one account is caught here and recorded (health, metrics, the store's
last error, and the trouble its next digest reports), so one broken account never stops
the others. The account's jobs share a
lock: a mail poll, a calendar poll and the digest never run at once for one mailbox.

On a shared PostgreSQL (several replicas), a cycle runs only while this replica holds
the account's lease (service/leasing.py), and acts under it: every transaction checks
the lease (`Store.fenced`) and every mailbox write first asks whether it is still held
(`FencedActions`), so a replica that lost the account stops before another starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import structlog

from ghostwatch.config import AccountConfig
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import GhostwatchError, LeaseLost, UserError, WrongMailbox
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.mail import Content, Message
from ghostwatch.model.outbox import Sender
from ghostwatch.model.sync import SyncDelta
from ghostwatch.providers.port import IncrementalSource, MailSource
from ghostwatch.service.cycle import CycleReport, run_cycle
from ghostwatch.service.fencing import FencedActions
from ghostwatch.service.health import HealthState
from ghostwatch.service.leasing import Leaser
from ghostwatch.service.metrics import Metrics
from ghostwatch.service.wiring import Mailbox, rules_for, sender_for
from ghostwatch.store import Store
from ghostwatch.store.store import FencedStore

log = structlog.get_logger(__name__)

Progress = Callable[[str], Callable[[int], None]]
"""Account name → a callback told how many messages were read (a terminal's counter)."""


class CalendarCache:
    """A `MailSource` whose calendar is re-read only when a calendar poll asks for it:
    mail polls (every 5 minutes) reuse the events the last calendar poll (every 15) read."""

    def __init__(self, inner: MailSource) -> None:
        self.inner = inner
        self._events: tuple[CalendarEvent, ...] | None = None
        self._start: datetime | None = None

    def refresh(self) -> None:
        self._events = None

    def read_headers(self, progress: Callable[[int], None] | None = None) -> list[Message]:
        return self.inner.read_headers(progress)

    def load_content(self, keys: Iterable[str]) -> dict[str, Content]:
        return self.inner.load_content(keys)

    def events(self, start: datetime, end: datetime) -> tuple[CalendarEvent, ...]:
        if self._events is None or self._start is None or start < self._start:
            self._events, self._start = self.inner.events(start, end), start
        return self._events


class IncrementalCalendarCache(CalendarCache):
    """The same, for a source that syncs incrementally: the cycle sees it is one and
    resumes and commits it through here."""

    def __init__(self, inner: MailSource, synced: IncrementalSource) -> None:
        super().__init__(inner)
        self.synced = synced
        self.sync_name = synced.sync_name

    def resume(self, cursor: str | None, headers: Iterable[Message]) -> None:
        self.synced.resume(cursor, headers)

    @property
    def resumed(self) -> bool:
        return self.synced.resumed

    def delta(self) -> SyncDelta | None:
        return self.synced.delta()

    def committed(self) -> None:
        self.synced.committed()


def cached(source: MailSource) -> CalendarCache:
    if isinstance(source, IncrementalSource):
        return IncrementalCalendarCache(source, source)
    return CalendarCache(source)


class AccountRunner:
    def __init__(
        self,
        account: AccountConfig,
        open_mailbox: Callable[[AccountConfig], Mailbox],
        store: Store,
        clock: Callable[[], datetime],
        health: HealthState,
        metrics: Metrics,
        progress: Progress | None = None,
        leaser: Leaser | None = None,
    ) -> None:
        self.account = account
        self.leaser = leaser
        self._progress = progress
        self._open = open_mailbox
        self.store = store
        self.clock = clock
        self.health = health
        self.metrics = metrics
        self.rules: Rules = rules_for(account)
        self.sender: Sender = sender_for(account)
        self.lock = threading.Lock()
        self._mailbox: Mailbox | None = None
        self._source: CalendarCache | None = None

    @property
    def name(self) -> str:
        return self.account.name

    # --- what the schedule calls --------------------------------------------------------

    def poll(self, calendar: bool = False) -> CycleReport | None:
        """A mail (or calendar) poll: a cycle in working hours on working days, by the
        replica holding the account's lease (others skip it: not theirs to poll)."""
        if self.leaser is not None and self.leaser.generation(self.name) is None:
            return None
        now = self.clock()
        if not self.working(now):
            self.health.checked(self.name, now)  # idle by design is healthy
            return None
        return self.cycle(calendar=calendar)

    def digest(self) -> CycleReport | None:
        """The digest's own time: a cycle that delivers it, on business days only."""
        if not self.rules.calendar.is_business_day(self.local(self.clock()).date()):
            return None
        return self.cycle(digest=True)

    def working(self, now: datetime) -> bool:
        local = self.local(now)
        return self._working_day(local.date()) and self.account.working_hours.contains(local.time())

    def _working_day(self, day: date) -> bool:
        """One of `working_hours.days` that is not a holiday."""
        hours = self.account.working_hours
        return hours.works_on(day.weekday()) and day not in self.rules.calendar.holidays

    def next_work(self, now: datetime) -> tuple[datetime, str | None]:
        """When a mail poll will next read the mailbox (local time), and why not now
        ("outside working hours", "the weekend", "a holiday"; None: it is working now).
        What the daemon's start says, since polls outside these hours are silent."""
        local = self.local(now)
        if self.working(now):
            return local, None
        calendar, start = self.rules.calendar, self.account.working_hours.start
        today = local.date()
        early = self._working_day(today) and local.time() < start
        day = today if early else today + timedelta(days=1)
        for _ in range(366):  # every weekday is a holiday in no calendar for a whole year
            if self._working_day(day):
                break
            day += timedelta(days=1)
        if self._working_day(today):
            why = "outside working hours"
        else:
            weekend = not self.account.working_hours.works_on(today.weekday())
            why = "the weekend" if weekend else "a holiday"
        return calendar.at(day, start), why

    def digest_owed(self, now: datetime) -> bool:
        """Past today's digest time on a business day, and before the working day ends:
        a poll delivers a digest the scheduler missed (the daemon was down at 07:30).
        The ledger keeps it to one a day however many cycles ask."""
        local = self.local(now)
        late = self.account.digest_time <= local.time() < self.account.working_hours.end
        return self.account.digest and late and self.rules.calendar.is_business_day(local.date())

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.account.zone)

    # --- one isolated cycle -------------------------------------------------------------

    def cycle(self, *, calendar: bool = False, digest: bool = False) -> CycleReport | None:
        with self.lock:
            store = self._store_for_cycle()
            if store is None:
                return None  # another replica's account now
            started, now = time.perf_counter(), self.clock()
            log.info("cycle_started", account=self.name, at=time.time())
            try:
                report = self._run(store, now, calendar=calendar, digest=digest)
                if not report.errors and not self.account.gets_digest:
                    self._forget_trouble(store)
            except LeaseLost as error:
                # Not this account's failure: the replica holding it now carries on.
                log.warning("lease_lost_in_cycle", account=self.name, error=str(error))
                self.metrics.lease_fenced.inc()
                return None
            except Exception as error:  # noqa: BLE001 - one account must never stop the others
                self._failed(store, now, error, time.perf_counter() - started)
                return None
            finally:
                self._count_budget()
                log.info("cycle_ended", account=self.name, at=time.time())
            self.metrics.cycle_done(self.name, report, time.perf_counter() - started)
            self.health.checked(self.name, now, _kind(report.errors[0]) if report.errors else None)
            return report

    def _store_for_cycle(self) -> Store | None:
        """The store a cycle acts through: fenced by the lease on a shared database
        (None: not held), the store itself otherwise."""
        if self.leaser is None:
            return self.store
        fence = self.leaser.fence(self.name)
        if fence is None:
            return None
        leaser = self.leaser

        def held() -> bool:
            return leaser.generation(fence.account) == fence.generation

        return self.store.fenced(fence, held)

    def _count_budget(self) -> None:
        budget = self._mailbox.budget if self._mailbox is not None else None
        if budget is not None:
            self.metrics.budget(self.name, budget.spent)

    def _forget_trouble(self, store: Store) -> None:
        """Without a digest to report it, a good cycle ends the trouble: otherwise
        `ghostwatch accounts` would say "failing" for ever after one bad night."""
        with store.transaction() as tx:
            account_id = tx.account(self.name, self.account.provider, self.account.address)
            trouble = tx.trouble(account_id)
            if trouble is not None:
                tx.clear_trouble(account_id, trouble)

    def _run(self, store: Store, now: datetime, *, calendar: bool, digest: bool) -> CycleReport:
        source = self._source_for_cycle()
        if calendar:
            source.refresh()
        assert self._mailbox is not None  # opened with the source
        actions = self._mailbox.actions
        if isinstance(store, FencedStore):
            actions = FencedActions(actions, store.held)
        return run_cycle(
            self.name,
            source,
            actions,
            store,
            self.rules,
            self.sender,
            now,
            self.account.zone,
            junk_rescue=self.account.junk_rescue,
            digest=self.account.digest and (digest or self.digest_owed(now)),
            dry_run=self.account.dry_run,
            provider=self._mailbox.provider,
            progress=self._ticks(),
        )

    def signed_in_as_configured(self) -> str | None:
        """Open the mailbox now (at start): the refusal when its sign-in reads another
        address than the account's (`WrongMailbox`), else None. Any other failure is left
        to the first cycle, which reports it as it reports every cycle's failure."""
        try:
            self._source_for_cycle()
        except WrongMailbox as error:
            return str(error)
        except Exception as error:  # noqa: BLE001 - the first cycle meets it and reports it
            log.info("account_not_opened_at_start", account=self.name, kind=type(error).__name__)
        return None

    def _ticks(self) -> Callable[[int], None]:
        """Messages read, as they are: counted in /metrics (a long first sync shows its
        progress there and in its log lines) and shown on a terminal when one watches."""
        shown = self._progress(self.name) if self._progress else None
        counted = self.metrics.messages_read.labels(self.name)

        def tick(count: int) -> None:
            counted.inc(count)
            if shown is not None:
                shown(count)

        return tick

    def _source_for_cycle(self) -> CalendarCache:
        """Opened on first use: an account whose sign-in is missing fails its own cycles
        (and shows unhealthy) instead of stopping the daemon from starting."""
        if self._source is None:
            self._mailbox = self._open(self.account)
            self._source = cached(self._mailbox.source)
        return self._source

    def _failed(self, store: Store, now: datetime, error: Exception, seconds: float) -> None:
        kind, message = _described(error)
        detail = message or kind
        log.error("cycle_failed", account=self.name, kind=kind, error=detail)
        self.metrics.cycle_failed(self.name, kind, seconds)
        self.health.checked(self.name, now, kind)
        self._record_error(store, now, kind, message, needs_you=isinstance(error, UserError))
        if not isinstance(error, GhostwatchError) or isinstance(error, UserError):
            # Reconnect next time: the client may be what broke, or the user did what the
            # message asked (`ghostwatch auth ...` again) and the vault holds a sign-in
            # that only a fresh client reads.
            self._source = None

    def _record_error(
        self, store: Store, now: datetime, kind: str, message: str, *, needs_you: bool
    ) -> None:
        """The last error for `ghostwatch accounts`, and one more failure for the next
        digest's notice."""
        try:
            with store.transaction() as tx:
                account_id = tx.account(self.name, self.account.provider, self.account.address)
                tx.record_cycle(account_id, now, message or kind)
                tx.record_failure(account_id, now, kind, message, needs_you=needs_you)
        except Exception as error:  # noqa: BLE001 - the database may be what failed
            log.error("cycle_error_unrecorded", account=self.name, kind=type(error).__name__)


def _described(error: Exception) -> tuple[str, str]:
    """(kind, message). Our own errors carry a message written for people; anything else
    may quote provider payloads, so only its kind is kept (message '')."""
    return type(error).__name__, str(error) if isinstance(error, GhostwatchError) else ""


def _kind(error: str) -> str:
    return error.partition(":")[0]
