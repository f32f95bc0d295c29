"""The daemon's Prometheus metrics (prometheus_client), in a registry of its own.

Names follow the Prometheus naming guide (https://prometheus.io/docs/practices/naming/):
`_total` on counters (the client adds it), base units (seconds). Labels are the account
name, the provider and fixed words, never an address or a subject.

API calls are counted where the Google client builds each request (`requestBuilder`), so
a batch of 100 gets counts 100 calls, as Google charges them; quota units come from
Gmail's published per-method table (the sandbox's meter charges by the same table).
"""

from __future__ import annotations

from typing import Any

from googleapiclient.http import HttpRequest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ghostwatch.providers.budget import Spent
from ghostwatch.providers.google.quota import request_units
from ghostwatch.service.cycle import CycleReport

_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.cycles = Counter(
            "ghostwatch_cycles",
            "Account cycles run, by outcome.",
            ["account", "outcome"],
            registry=r,
        )
        self.cycle_seconds = Histogram(
            "ghostwatch_cycle_duration_seconds",
            "How long one account's cycle took.",
            ["account"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "ghostwatch_errors", "Errors, by account and kind.", ["account", "kind"], registry=r
        )
        self.api_calls = Counter(
            "ghostwatch_api_requests", "Provider API calls made.", ["provider"], registry=r
        )
        self.api_units = Counter(
            "ghostwatch_api_quota_units",
            "Quota units those calls cost, as the provider counts them.",
            ["provider"],
            registry=r,
        )
        self.drafts = Counter(
            "ghostwatch_drafts_created", "Follow-up drafts written.", ["account"], registry=r
        )
        self.rescued = Counter(
            "ghostwatch_replies_rescued", "Replies moved out of junk.", ["account"], registry=r
        )
        self.digests = Counter(
            "ghostwatch_digests_delivered", "Morning digests delivered.", ["account"], registry=r
        )
        self.skipped = Counter(
            "ghostwatch_items_skipped",
            "Items a cycle left out because handling them failed (one bad message, "
            "invitation or draft), by kind.",
            ["account", "kind"],
            registry=r,
        )
        self.throttled = Counter(
            "ghostwatch_api_throttled",
            "Provider answers refusing a call for rate (429, a rate-limit 403): each one "
            "shrinks the account's quota budget.",
            ["account"],
            registry=r,
        )
        self.quota_wait = Counter(
            "ghostwatch_quota_wait_seconds",
            "Seconds the account's calls waited for room in its quota budget (pacing).",
            ["account"],
            registry=r,
        )
        self.messages_read = Counter(
            "ghostwatch_messages_read",
            "Message headers read from the mailbox, as they are read (a first sync's "
            "progress; a poll counts what it holds).",
            ["account"],
            registry=r,
        )
        self.leased = Gauge(
            "ghostwatch_leased_accounts",
            "Accounts this replica holds the lease of (a shared PostgreSQL; docs/scaling.md).",
            registry=r,
        )
        self.lease_losses = Counter(
            "ghostwatch_lease_losses",
            "Leases lost without giving them up: not renewed in time (a pause, the "
            "database out of reach) or taken by another replica after they ran out.",
            registry=r,
        )
        self.lease_fenced = Counter(
            "ghostwatch_lease_fenced_cycles",
            "Cycles stopped mid-way because the lease was gone: what they were about to "
            "record or write was refused.",
            registry=r,
        )
        self._spent: dict[str, Spent] = {}
        self.conversations = Gauge(
            "ghostwatch_conversations",
            "Conversations by state at the last cycle.",
            ["account", "state"],
            registry=r,
        )

    def cycle_done(self, account: str, report: CycleReport, seconds: float) -> None:
        outcome = "error" if report.errors else "ok"
        self.cycles.labels(account, outcome).inc()
        self.cycle_seconds.labels(account).observe(seconds)
        self.drafts.labels(account).inc(report.drafts_created)
        self.rescued.labels(account).inc(report.rescued)
        if report.digest_delivered:
            self.digests.labels(account).inc()
        for error in report.errors:
            self.errors.labels(account, error.partition(":")[0]).inc()
        for item in report.skipped:
            self.skipped.labels(account, item.kind).inc()
        for state, count in report.states.items():
            self.conversations.labels(account, state).set(count)

    def budget(self, account: str, spent: Spent) -> None:
        """What the account's budget counted since the last call (it counts from its start)."""
        before = self._spent.get(account, Spent(0, 0, 0.0))
        self.throttled.labels(account).inc(max(0, spent.throttled - before.throttled))
        self.quota_wait.labels(account).inc(max(0.0, spent.waited - before.waited))
        self._spent[account] = spent

    def leases(self, held: int, lost: int) -> None:
        self.leased.set(held)
        self.lease_losses.inc(lost)

    def cycle_failed(self, account: str, kind: str, seconds: float) -> None:
        self.cycles.labels(account, "failed").inc()
        self.cycle_seconds.labels(account).observe(seconds)
        self.errors.labels(account, kind).inc()

    def api_call(self, provider: str, method: str) -> None:
        self.api_calls.labels(provider).inc()
        self.api_units.labels(provider).inc(request_units(method))

    def request_builder(self, provider: str) -> type[HttpRequest]:
        """An `HttpRequest` class that counts itself: pass as `requestBuilder`."""
        metrics = self

        class MeteredRequest(HttpRequest):  # type: ignore[misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                metrics.api_call(provider, str(self.methodId or ""))

        return MeteredRequest

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
