"""Benchmark reading a Gmail mailbox through the provider, against the Gmail sandbox.

    .venv/bin/python benchmarks/gmail_sync.py [--messages 20000] [--changed 10]
                                              [--quota 15000] [--all-sent]

Seeds the sandbox from a synthetic Maildir (`synth.py`, cached in /tmp), then measures,
from the sandbox's own meter, what the Gmail provider costs, with the sandbox enforcing
Gmail's default per-user quota (15,000 units a minute; `--quota 0` turns it off) and
the provider paced by the per-user budget a deployed one draws from:

- initial: the first sync, 90-day look-back (sent threads the look-back reaches,
  contacts' mail, daemons): requests, units, seconds, units per sent thread, the
  answers Gmail refused for rate (`throttled`) and `failures` (0: it completed);
- idle_poll: a second read with nothing changed (one history.list);
- idle_cycle: the whole service cycle with nothing changed (read, reconcile the action
  ledger against Drafts, act, record: `cycles.py`), once the due drafts are written;
- poll_with_changes: a read after `--changed` new messages arrived (messages.insert).

`--all-sent` also measures a first sync without a look-back (all sent mail ever), for
comparison. Prints progress to stderr and, last, one JSON line:
    {"initial": {"requests", "calls", "quota_units", "seconds", "sent_threads",
     "units_per_sent_thread", "throttled", "failures", "waited_seconds"},
     "idle_poll": {"requests", "quota_units"}, "idle_cycle": {"requests", "quota_units"},
     "poll_with_changes": {...}}
`initial` also has `units_by_method` (where the first sync's units go).
The issues' targets: <= 15 units per sent thread, zero failures under the quota; an idle
poll and an idle cycle are 1 request and <= 2 quota units; a poll with k changed threads
costs O(k) units.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datetime import datetime, timedelta

from cycles import idle_cycle
from ghostwatch import logs
from ghostwatch.errors import GhostwatchError
from ghostwatch.providers.budget import gmail_user
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.drafts import DraftWatch
from ghostwatch.providers.google.gmail import GmailSource, gmail_service
from ghostwatch.providers.google.quota import units
from ghostwatch_sandbox.google import GmailSandbox
from synth import ME, NOW, cached_maildir

LOOKBACK = timedelta(days=90)


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def mailbox(messages: int) -> Path:
    return cached_maildir("ghostwatch-gmail-bench", messages)


def metered(box: Any, read: GmailSource) -> dict[str, Any]:
    box.meter.reset()
    waited = read.budget.spent.waited if read.budget is not None else 0.0
    started = time.perf_counter()
    failures = 0
    try:
        read.read_headers()
    except GhostwatchError as error:
        log(f"the read failed: {type(error).__name__}: {error}")
        failures = 1
    seconds = round(time.perf_counter() - started, 2)
    requests, calls = box.meter.requests, box.meter.calls
    spent = read.budget.spent.waited if read.budget is not None else 0.0
    return {
        "requests": requests,
        "calls": calls,
        "calls_per_request": round(calls / max(1, requests), 1),
        "quota_units": box.meter.units,
        "seconds": seconds,
        "throttled": box.meter.rejected,
        "failures": failures,
        "waited_seconds": round(spent - waited, 1),
        "units_by_method": {m: n * units(m) for m, n in box.meter.methods.most_common()},
    }


def provider(box: Any, since: datetime | None) -> tuple[GmailSource, GmailActions]:
    """The provider as the daemon builds it: paced by the per-user budget, the source's
    history telling the actions when Drafts changed."""
    service = gmail_service(box.url, box.credentials())
    budget, drafts = gmail_user(ME), DraftWatch()
    source = GmailSource(service, batch_uri=box.batch_uri, since=since, budget=budget,
                         drafts=drafts)  # fmt: skip
    return source, GmailActions(service, box.batch_uri, budget=budget, drafts=drafts)


def arrive(service: Any, count: int) -> None:
    """New mail from a prospect, as Gmail would receive it."""
    for n in range(count):
        raw = (
            f"From: Prospect {n} <p{n}@arrivals.example>\r\nTo: {ME}\r\n"
            f"Subject: New question {n}\r\nMessage-ID: <arrival-{n}@arrivals.example>\r\n"
            "Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nHello!\r\n"
        ).encode()
        body = {"raw": base64.urlsafe_b64encode(raw).decode(), "labelIds": ["INBOX", "UNREAD"]}
        service.users().messages().insert(userId="me", body=body).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--quota", type=int, default=15_000, help="units a minute (0: off)")
    parser.add_argument("--all-sent", action="store_true", help="also read all sent mail")
    args = parser.parse_args()
    logs.configure("info", sys.stderr)  # stdout ends with the one JSON line
    root = mailbox(args.messages)
    quota = args.quota or 10**12
    started = time.perf_counter()
    with GmailSandbox.serve(seed=root, user=ME, quota_limit=quota) as box:
        log(f"seeded the Gmail sandbox in {time.perf_counter() - started:.1f}s, {load()}")
        result: dict[str, Any] = {"messages": args.messages, "quota_per_minute": args.quota}
        if args.all_sent:
            everything = metered(box, provider(box, None)[0])
            log(f"first sync of all sent mail ever: {everything}")
            result["initial_all_sent_mail"] = everything
        since = datetime.fromisoformat(NOW) - LOOKBACK
        read, actions = provider(box, since)
        initial = metered(box, read)
        assert read.state is not None
        held = read.state.headers.values()
        threads = len({m.thread_id for m in held if m.folder.value == "sent"})
        per_thread = round(initial["quota_units"] / max(1, threads), 1)
        initial |= {"sent_threads": threads, "units_per_sent_thread": per_thread}
        log(f"first sync, {LOOKBACK.days}-day look-back: {initial}, {load()}")
        idle = metered(box, read)
        log(f"idle poll: {idle}")
        now = datetime.fromisoformat(NOW)
        cycle = idle_cycle(read, actions, box.meter, ME, now, "gmail")
        log(f"idle cycle: {cycle}")
        arrive(gmail_service(box.url, box.credentials()), args.changed)
        changes = metered(box, read)
        log(f"poll after {args.changed} new messages: {changes}")
    result |= {
        "initial": initial,
        "idle_poll": {k: idle[k] for k in ("requests", "quota_units")},
        "idle_cycle": {k: cycle[k] for k in ("requests", "quota_units")},
        "poll_with_changes": {"changed": args.changed}
        | {k: changes[k] for k in ("requests", "quota_units")},
        "load_average": load(),
    }
    print(json.dumps(result))


def load() -> str:
    """The machine's load while measuring (seconds mean little without it)."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


if __name__ == "__main__":
    main()
