"""Benchmark reading an Outlook mailbox through the provider, against the Graph sandbox.

    .venv/bin/python benchmarks/graph_sync.py [--messages 20000] [--changed 10] [--folders 0]
        [--look-back-days 90] [--compare]

Seeds the Graph sandbox from a synthetic Maildir (`synth.py`, cached in /tmp, shared
with gmail_sync.py), then measures, from the sandbox's own meter, what the Outlook
provider (`OutlookSource`: the folder tree's delta and one delta per mail folder, in
JSON batches of 20) costs:

- initial: the first read of the mailbox, as the daemon's first sync makes it: every
  folder's delta from the look-back's start, then every conversation that holds a
  message of it read whole (`providers/microsoft/older.py`);
- idle_poll: a second read with nothing changed;
- idle_cycle: the whole service cycle with nothing changed (read, reconcile the action
  ledger against Drafts, act, record: `cycles.py`), once the due drafts are written;
- poll_with_changes: a read after `--changed` new messages arrived in the Inbox.

The sandbox enforces Outlook's default limits per mailbox (10,000 requests in 10
minutes, 4 at once; `--no-limits` turns them off) and the provider is paced by the
mailbox's budget, as the daemon's is.

Prints progress to stderr and, last, one JSON line:
    {"initial": {"requests", "calls", "seconds", "sent_threads", "calls_per_sent_thread",
     "throttled", "failures", "peak_concurrency"}, "idle_poll": {"requests", "calls"},
     "idle_cycle": {"requests", "calls"}, "poll_with_changes": {"changed", "requests", "calls"}}
`requests` are HTTP requests (a JSON batch is one), `calls` the Graph calls in them
(what the per-mailbox limit counts: Graph has no units), `throttled` the 429 answers.
`--look-back-days N` (default 90, the daemon's `look_back_days`) reads the mail received
in the N days before synth's NOW and the conversations it reaches; 0 reads everything.
`--compare` also reads the mailbox in full (unmetered) and decides from both reads at
synth's NOW: `compared` counts the conversations tracked and those decided otherwise
(the suggestions apart, which name people seen in the mail read).
`--folders N` adds a Clients folder holding N folders (Client 1 … N, empty), as rules
and filing make them: each is one more delta per poll.
The issues' targets: an idle poll and an idle cycle are 1 request (while there are fewer
than 20 folders);
a poll with k changes costs O(k / page size) requests; the first read uses Graph's
largest delta page (1000).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from cycles import idle_cycle
from ghostwatch import logs
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import State
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.drafts import DraftWatch
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.service.pipeline import run_scan
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import outlook_source
from synth import ME, NOW, cached_maildir


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def mailbox(messages: int) -> Path:
    return cached_maildir("ghostwatch-gmail-bench", messages)


def metered(graph: GraphSandbox, read: OutlookSource) -> dict[str, Any]:
    graph.meter.reset()
    started = time.perf_counter()
    failures, held = 0, []
    try:
        held = read.read_headers()
    except GhostwatchError as error:
        log(f"the read failed: {type(error).__name__}: {error}")
        failures = 1
    seconds = round(time.perf_counter() - started, 2)
    threads = len({m.thread_id for m in held if m.folder.value == "sent"})
    return {"requests": graph.meter.requests, "calls": graph.meter.calls, "seconds": seconds,
            "messages": len(held), "sent_threads": threads,
            "calls_per_sent_thread": round(graph.meter.calls / max(1, threads), 1),
            "throttled": graph.meter.rejected, "failures": failures,
            "peak_concurrency": graph.slots.peak}  # fmt: skip


def same_decisions(graph: GraphSandbox, since: datetime | None) -> dict[str, int]:
    """How many conversations a first sync from `since` decides otherwise than a full
    read (fresh sources, so neither carries the other's state), apart from the
    suggestions (who else at the organization to ask: drawn from the mail read), and
    how many differ in those."""
    now = datetime.fromisoformat(NOW)
    rules = Rules(me=Identity.of([ME]), look_back=now - since if since else timedelta(days=90))
    plans = []
    for start in (None, since):
        source = outlook_source(graph)
        source.client.http = httpx.Client(timeout=httpx.Timeout(600.0, connect=10.0))
        read = OutlookSource(source.client, source.calendar, since=start)
        plans.append({d.id: d for d in run_scan(read, rules, now).plan.conversations
                      if d.state != State.NOT_TRACKED})  # fmt: skip
    keys = plans[0].keys() | plans[1].keys()
    advice = [k for k in keys if plans[0].get(k) != plans[1].get(k)]
    bare = [{k: replace(d, suggestions=()) for k, d in plan.items()} for plan in plans]
    different = sorted(k for k in keys if bare[0].get(k) != bare[1].get(k))
    log(f"decisions: {len(plans[0])} tracked; {len(different)} differ {different[:5]}")
    return {"tracked": len(plans[0]), "decisions_differ": len(different),
            "suggestions_differ": len(advice) - len(different)}  # fmt: skip


def load() -> str:
    """The machine's load while measuring (seconds mean little without it)."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def arrive(graph: GraphSandbox, count: int) -> None:
    """New mail from prospects, as Exchange would deliver it to the Inbox."""
    for n in range(count):
        graph.deliver(
            (
                f"From: Prospect {n} <p{n}@arrivals.example>\r\nTo: {ME}\r\n"
                f"Subject: New question {n}\r\nMessage-ID: <arrival-{n}@arrivals.example>\r\n"
                "Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nHello!\r\n"
            ).encode()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument(
        "--look-back-days", type=int, default=90, help="the look-back (0: read everything)"
    )
    parser.add_argument("--compare", action="store_true", help="decide as a full read too")
    parser.add_argument("--folders", type=int, default=0, help="folders of the user's own")
    parser.add_argument("--no-limits", action="store_true", help="no per-mailbox limits")
    args = parser.parse_args()
    logs.configure("info", sys.stderr)  # progress on stderr; stdout ends with the JSON line
    root = mailbox(args.messages)
    started = time.perf_counter()
    limits: dict[str, Any] = (
        {"throttle_limit": 10**9, "concurrency": 10**6} if args.no_limits else {}
    )
    with GraphSandbox.serve(seed=root, user=ME, **limits) as graph:
        log(f"seeded the Graph sandbox in {time.perf_counter() - started:.1f}s, {load()}")
        if args.folders:
            graph.add_folder("Clients")
        for n in range(args.folders):
            graph.add_folder(f"Clients/Client {n + 1}")
        read = outlook_source(graph)
        # The emulator renders a batch of 1000-message delta pages far slower than Graph,
        # more so on a loaded machine: the benchmark waits longer for it than the
        # provider's 30 s does, or it would measure the emulator's speed, not the sync.
        read.client.http = httpx.Client(timeout=httpx.Timeout(600.0, connect=10.0))
        since = None
        if args.look_back_days:
            since = datetime.fromisoformat(NOW) - timedelta(days=args.look_back_days)
        # As the daemon builds it: the mail poll tells the actions when Drafts changed.
        drafts = DraftWatch()
        read = OutlookSource(read.client, read.calendar, since=since, drafts=drafts)
        actions = OutlookActions(read.client, drafts)
        # From an empty store, as the daemon's first cycle resumes it: the idle cycle's
        # `run_cycle` then goes on from this read instead of starting it again.
        read.resume(None, ())
        initial = metered(graph, read)
        log(f"initial read: {initial}, {load()}")
        idle = metered(graph, read)
        log(f"idle poll: {idle}")
        cycle = idle_cycle(read, actions, graph.meter, ME, datetime.fromisoformat(NOW), "outlook")
        log(f"idle cycle: {cycle}")
        same = same_decisions(graph, since) if args.compare else None
        arrive(graph, args.changed)
        changes = metered(graph, read)
        log(f"poll after {args.changed} new messages: {changes}")
    kept = ("requests", "calls", "seconds", "messages", "sent_threads", "calls_per_sent_thread",
            "throttled", "failures", "peak_concurrency")  # fmt: skip
    result = {
        "messages": args.messages,
        "limits": not args.no_limits,
        "initial": {k: initial[k] for k in kept},
        "idle_poll": {k: idle[k] for k in ("requests", "calls")},
        "idle_cycle": {k: cycle[k] for k in ("requests", "calls")},
        "poll_with_changes": {"changed": args.changed}
        | {k: changes[k] for k in ("requests", "calls")},
        "load_average": load(),
    }
    if same is not None:
        result["compared"] = same
    print(json.dumps(result))


if __name__ == "__main__":
    main()
