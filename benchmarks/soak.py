"""A simulated day (or more) of the daemon over many accounts, with faults and new mail.

    .venv/bin/python benchmarks/soak.py [--accounts 50] [--hours 24] [--fault-rate 0.05]

Half the accounts are Gmail, half Outlook, each with its own sandbox seeded from the
example mailbox and living on a simulated clock. The real `Daemon` schedules every
account (APScheduler 3 triggers: mail polls, calendar polls, the digest); this script
plays the scheduler's loop on the simulated clock, firing each job at the time its own
trigger gives, so a day takes minutes. Every API request fails with `--fault-rate`
probability (429, 5xx, dropped connections, cut or broken JSON; 403 rate limits on
Gmail); retry waits pass on the simulated clock. New mail arrives all day: replies to
conversations, out-of-office notes, newsletters.

RSS is the whole process: daemon *and* sandboxes (which keep every new message, write and
meter entry). `rss_start_mb` is taken two working hours in (first syncs done, caches
filled; `rss_boot_mb` is before any cycle), `rss_end_mb` at the end.

Counted at the end, from the sandboxes themselves: `duplicates` (drafts sharing an
X-Ghostwatch-Step beyond the first) and `missing` (steps due at an account's last
successful cycle without a draft). The last stdout line is JSON:
    {"accounts", "hours", "jobs", "cycles", "failed_cycles", "faults_injected",
     "duplicates", "missing", "digests", "digests_expected", "rss_boot_mb", "rss_start_mb",
     "rss_end_mb", "rss_growth", "seconds"}
Target (issue 7): 0 duplicates, 0 missing, RSS growth under 10%.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from apscheduler.schedulers.background import BackgroundScheduler

from ghostwatch import config, logs
from ghostwatch.config import AccountConfig
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.api import google_service
from ghostwatch.providers.google.calendar import GoogleCalendar
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.daemon import Daemon
from ghostwatch.service.pipeline import compose_drafts, run_scan
from ghostwatch.service.wiring import Mailbox
from ghostwatch.store import Store
from ghostwatch_sandbox import faults as sandbox_faults
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft.app import GraphSandbox

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
STEP = "X-Ghostwatch-Step"


def log(text: str) -> None:
    print(f"[soak] {text}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        """Retry waits pass on the simulated clock."""
        self.now += timedelta(seconds=seconds)


@dataclass
class Fleet:
    """The sandboxes, one per account, and how to open each account's mailbox."""

    clock: Clock
    policy: RetryPolicy
    gmail: dict[str, GmailSandbox] = field(default_factory=dict)
    graph: dict[str, GraphSandbox] = field(default_factory=dict)

    def open(self, account: AccountConfig) -> Mailbox:
        if account.name in self.gmail:
            return self._gmail(self.gmail[account.name])
        return self._outlook(self.graph[account.name])

    def _gmail(self, box: GmailSandbox) -> Mailbox:
        granted = box.credentials()
        service = google_service("gmail", "v1", box.url, granted)
        calendar = GoogleCalendar(
            google_service("calendar", "v3", f"{box.url}/calendar/v3/", granted),
            google_service("meet", "v2", box.url, granted),
            retry=self.policy,
        )
        since = self.clock() - timedelta(days=90)
        source = GmailSource(service, box.batch_uri, calendar=calendar, retry=self.policy,
                             since=since)  # fmt: skip
        return Mailbox(source, GmailActions(service, box.batch_uri, retry=self.policy), "gmail")

    def _outlook(self, box: GraphSandbox) -> Mailbox:
        token = box.token
        client = GraphClient(lambda: token, base_url=box.base_url, retry=self.policy)
        source = OutlookSource(client, OutlookCalendar(client, box.user))
        return Mailbox(source, OutlookActions(client), "outlook")


def accounts(fleet: Fleet, count: int, stack: ExitStack, data: Path) -> list[AccountConfig]:
    made = []
    for n in range(count):
        name = f"acct{n:03d}"
        if n % 2 == 0:
            served = GmailSandbox.serve(
                seed=EXAMPLE, user=ME, clock=fleet.clock.stamp, quota_limit=10**9
            )
            box = stack.enter_context(served)
            fleet.gmail[name] = box
            options: dict[str, Any] = {"gmail": config.GmailOptions.sandbox(box.url)}
        else:
            graph = stack.enter_context(
                GraphSandbox.serve(seed=EXAMPLE, user=ME, clock=fleet.clock.stamp)
            )
            fleet.graph[name] = graph
            options = {"outlook": config.OutlookOptions(graph_endpoint=graph.base_url)}
        provider: Literal["gmail", "outlook"] = "gmail" if n % 2 == 0 else "outlook"
        made.append(
            AccountConfig(
                name=name, provider=provider, address=ME, time_zone="Europe/London",
                junk_rescue=True, **options,
            )
        )  # fmt: skip
    return made


REPLY = (
    "From: {who}\r\nTo: {me}\r\nSubject: Re: {subject}\r\nMessage-ID: <{mid}@soak.example>\r\n"
    "Date: {date}\r\n\r\n{body}\r\n"
)


def new_mail(fleet: Fleet, rng: random.Random, n: int) -> None:
    """One message into every mailbox: a newsletter, a note from a prospect, or an OOO."""
    date = fleet.clock().strftime("%a, %d %b %Y %H:%M:%S +0000")
    kind = rng.choice(("news", "prospect", "ooo"))
    who = {"news": "news@letters.example", "prospect": "kathy.lopez@contoso.example",
           "ooo": "marco.rossi@fourthcoffee.example"}[kind]  # fmt: skip
    body = "I am out of the office until Monday." if kind == "ooo" else "Thanks, more soon."
    boxes: dict[str, GmailSandbox | GraphSandbox] = {**fleet.gmail, **fleet.graph}
    for name, box in boxes.items():
        raw = REPLY.format(who=who, me=ME, subject=f"update {n}", mid=f"{name}-{n}",
                           date=date, body=body).encode()  # fmt: skip
        if isinstance(box, GmailSandbox):
            with box._lock:
                box.mailbox.add(raw, ["INBOX", "UNREAD"])
        else:
            box.deliver(raw)


def jobs(daemon: Daemon) -> list[Any]:
    scheduler = BackgroundScheduler(timezone="UTC")
    daemon.schedule(scheduler, first_run=START)
    return list(scheduler.get_jobs())


def _first(job: Any) -> datetime:
    """A job not yet started in a scheduler has `next_run_time` only when it was given."""
    given = getattr(job, "next_run_time", None)
    found = given or job.trigger.get_next_fire_time(None, START)
    assert isinstance(found, datetime)
    return found


WARM = START + timedelta(hours=10)
"""Two working hours in (polls start at 08:00): first syncs done, caches filled."""


def play(
    daemon: Daemon,
    fleet: Fleet,
    hours: float,
    rng: random.Random,
    rss: dict[str, float],
    trace: bool = False,
) -> int:
    """Fire each job at its trigger's next time, in order, on the simulated clock."""
    end = START + timedelta(hours=hours)
    queue = [(_first(job), n, job) for n, job in enumerate(jobs(daemon))]
    heapq.heapify(queue)
    fired, mail_every, next_mail, mails = 0, timedelta(minutes=20), START, 0
    while queue and queue[0][0] < end:
        when, n, job = heapq.heappop(queue)
        while next_mail <= when:
            fleet.clock.now = max(fleet.clock.now, next_mail)
            new_mail(fleet, rng, mails)
            mails, next_mail = mails + 1, next_mail + mail_every
        fleet.clock.now = max(fleet.clock.now, when)
        if "warm" not in rss and fleet.clock.now >= WARM:
            gc.collect()
            rss["warm"] = rss_mb()
            if trace:
                tracemalloc.start(TRACE_FRAMES)
        job.func(*job.args, **job.kwargs)
        fired += 1
        following = job.trigger.get_next_fire_time(when, fleet.clock.now)
        if following is not None:
            heapq.heappush(queue, (following, n, job))
        if fired % 500 == 0:
            log(f"{fired} jobs, simulated {fleet.clock.now:%a %H:%M}, rss {rss_mb()} MB")
    return fired


TRACE_FRAMES = 30
"""Deep enough to reach a sandbox handler's or the daemon's frame from any allocation."""


def held_since_warm() -> dict[str, float]:
    """MB allocated after warm-up and still alive, by who holds it: the sandboxes (every
    message, write and meter entry they keep), the daemon (any other ghostwatch frame),
    or neither (this script's own bookkeeping, the scheduler). RSS cannot tell them apart."""
    held: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    for stat in tracemalloc.take_snapshot().statistics("traceback"):
        who = _holder(stat.traceback)
        held[who] += stat.size
        if who == "daemon":
            sites[_innermost_own(stat.traceback)] += stat.size
    tracemalloc.stop()
    for site, size in sites.most_common(8):
        log(f"held by the daemon since warm-up: {size / 2**10:.0f} KB from {site}")
    return {who: round(size / 2**20, 1) for who, size in sorted(held.items())}


def _innermost_own(traceback: tracemalloc.Traceback) -> str:
    """The most recent ghostwatch frame: where in our code the allocation was made."""
    own = [f for f in traceback if "/ghostwatch/" in f.filename]
    frame = own[-1] if own else traceback[-1]
    return f"{frame.filename.rpartition('/src/')[2]}:{frame.lineno}"


def _holder(traceback: tracemalloc.Traceback) -> str:
    files = [frame.filename for frame in traceback]
    if any("/ghostwatch_sandbox/" in name for name in files):
        return "sandboxes"
    return "daemon" if any("/ghostwatch/" in name for name in files) else "other"


def counted(fleet: Fleet, store: Store, daemon: Daemon) -> dict[str, int]:
    """Duplicates and missing steps, from the mailboxes (faults off)."""
    duplicates = missing = 0
    last = {info.name: info.last_cycle_at for info in _accounts(store)}
    for runner in daemon.runners:
        mailbox = fleet.open(runner.account)
        steps = Counter(_steps(fleet, runner.name))
        duplicates += sum(n - 1 for n in steps.values())
        at = last.get(runner.name)
        if at is None:
            continue
        scan = run_scan(mailbox.source, runner.rules, at)
        owed = {
            d.step_key
            for d in compose_drafts(scan, mailbox.source, runner.sender, runner.account.zone)
        }
        missing += len(owed - set(steps))
    return {"duplicates": duplicates, "missing": missing}


def cycles(daemon: Daemon) -> dict[str, int]:
    """Cycles run, from the daemon's own Prometheus counters, and digests delivered."""
    outcomes: Counter[str] = Counter()
    digests = 0
    for metric in daemon.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "ghostwatch_cycles_total":
                outcomes[sample.labels["outcome"]] += int(sample.value)
            elif sample.name == "ghostwatch_digests_delivered_total":
                digests += int(sample.value)
    return {
        "cycles": sum(outcomes.values()),
        "failed_cycles": outcomes["failed"] + outcomes["error"],
        "digests_counted_by_metrics": digests,
    }


def digests(fleet: Fleet) -> Counter[str]:
    """Digests found in each mailbox (their Message-IDs are ghostwatch-digest-…)."""
    found: Counter[str] = Counter()
    for name, box in fleet.gmail.items():
        found[name] += sum(1 for m in box.mailbox.messages.values() if _digest(m.rfc_id))
    for name, graph in fleet.graph.items():
        found[name] += sum(1 for m in graph.mailbox.in_folder("inbox")
                           if _digest(m.internet_message_id))  # fmt: skip
    return found


def _digest(message_id: str | None) -> bool:
    return (message_id or "").strip("<").startswith("ghostwatch-digest-")


def business_mornings(hours: float) -> int:
    """Weekdays whose 07:30 (London) falls inside the simulated window."""
    days = (START + timedelta(hours=n * 24) for n in range(int(hours // 24) + 1))
    end = START + timedelta(hours=hours)
    return sum(1 for day in days if day.weekday() < 5 and day + timedelta(hours=7.5) < end)


def _accounts(store: Store) -> list[Any]:
    with store.transaction() as tx:
        return tx.accounts()


def _steps(fleet: Fleet, name: str) -> Iterator[str]:
    if name in fleet.gmail:
        for stored in fleet.gmail[name].mailbox.messages.values():
            if "DRAFT" in stored.labels and stored.header(STEP):
                yield stored.header(STEP)
    else:
        for message in fleet.graph[name].mailbox.in_folder("drafts"):
            yield from (v for k, v in message.headers if k == STEP)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--trace-memory", action="store_true",
        help="also split what is held since warm-up between sandboxes and daemon "
        "(tracemalloc: about 3x slower)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logs.configure("error", sys.stderr)
    rng, clock = random.Random(args.seed), Clock()
    policy = RetryPolicy(sleep=clock.sleep, now=clock)
    fleet = Fleet(clock, policy)
    started = time.perf_counter()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as data:
        configured = accounts(fleet, args.accounts, stack, Path(data))
        noise = sandbox_faults.Noise(args.fault_rate, rng)
        every: list[GmailSandbox | GraphSandbox] = [*fleet.gmail.values(), *fleet.graph.values()]
        for box in every:
            box.faults.noise = noise
        settings = config.Settings(data_dir=Path(data), accounts=configured)
        store = stack.enter_context(Store.open(f"sqlite:///{Path(data) / 'gw.db'}"))
        store.upgrade()
        daemon = Daemon(settings, store, fleet.open, clock=clock)
        gc.collect()
        rss = {"boot": rss_mb()}
        fired = play(daemon, fleet, args.hours, rng, rss, args.trace_memory)
        gc.collect()
        rss_end = rss_mb()
        held = held_since_warm() if tracemalloc.is_tracing() else None
        noise.rate = 0.0
        result: dict[str, Any] = {
            "accounts": args.accounts, "hours": args.hours, "jobs": fired,
            "faults_injected": noise.injected,
        } | cycles(daemon)  # fmt: skip
        result |= counted(fleet, store, daemon)
        found = digests(fleet)
        result |= {"digests": sum(found.values()),
                   "digests_expected": args.accounts * business_mornings(args.hours)}  # fmt: skip
        warm = rss.get("warm", rss["boot"])
        result |= {"rss_boot_mb": rss["boot"], "rss_start_mb": warm, "rss_end_mb": rss_end,
                   "rss_growth": round(rss_end / warm - 1, 3),
                   "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
        if held is not None:
            result["held_since_warm_mb"] = held
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
