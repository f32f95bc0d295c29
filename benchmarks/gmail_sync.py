"""Benchmark reading a Gmail mailbox through the provider, against the Gmail sandbox.

    .venv/bin/python benchmarks/gmail_sync.py [--messages 20000] [--changed 10]

Seeds the sandbox from a synthetic Maildir (`synth.py`, cached in /tmp), then measures,
from the sandbox's own meter, what the Gmail provider costs:

- initial: the first sync (sent threads in the look-back, contacts' mail, daemons);
- idle_poll: a second read with nothing changed (one history.list);
- poll_with_changes: a read after `--changed` new messages arrived (messages.insert).

It also prints the first sync's cost per sent thread, and the same first sync without a
look-back (all sent mail ever: what `--through gmail` reads) for comparison.

Prints progress to stderr and, last, one JSON line:
    {"initial": {"requests", "quota_units", "seconds"}, "idle_poll": {"requests",
     "quota_units"}, "poll_with_changes": {"changed", "requests", "quota_units"}}
The issue's targets: an idle poll is 1 request and <= 2 quota units; a poll with k changed
threads costs O(k) units; the first read grows with sent threads, not mailbox size.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datetime import datetime, timedelta

from ghostwatch import logs
from ghostwatch.providers.google.gmail import GmailSource, gmail_service
from ghostwatch_sandbox.google import GmailSandbox
from synth import ME, NOW, cached_maildir

LOOKBACK = timedelta(days=90)


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def mailbox(messages: int) -> Path:
    return cached_maildir("ghostwatch-gmail-bench", messages)


def metered(box: Any, read: GmailSource) -> dict[str, Any]:
    box.meter.reset()
    started = time.perf_counter()
    read.read_headers()
    seconds = round(time.perf_counter() - started, 2)
    requests, calls = box.meter.requests, box.meter.calls
    return {
        "requests": requests,
        "calls": calls,
        "calls_per_request": round(calls / max(1, requests), 1),
        "quota_units": box.meter.units,
        "seconds": seconds,
    }


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
    args = parser.parse_args()
    logs.configure("info", sys.stderr)  # stdout ends with the one JSON line
    root = mailbox(args.messages)
    with GmailSandbox.serve(seed=root, user=ME, quota_limit=10**12) as box:
        service = gmail_service(box.url, box.credentials())
        everything = metered(box, GmailSource(service, batch_uri=box.batch_uri))
        log(f"first sync of all sent mail ever: {everything}")
        since = datetime.fromisoformat(NOW) - LOOKBACK
        read = GmailSource(service, batch_uri=box.batch_uri, since=since)
        initial = metered(box, read)
        assert read.state is not None
        held = read.state.headers.values()
        threads = len({m.thread_id for m in held if m.folder.value == "sent"})
        per_thread = round(initial["quota_units"] / max(1, threads), 1)
        initial |= {"sent_threads": threads, "units_per_sent_thread": per_thread}
        log(f"first sync, {LOOKBACK.days}-day look-back: {initial}")
        idle = metered(box, read)
        log(f"idle poll: {idle}")
        arrive(service, args.changed)
        changes = metered(box, read)
        log(f"poll after {args.changed} new messages: {changes}")
    result = {
        "initial": initial,
        "initial_all_sent_mail": everything,
        "idle_poll": {k: idle[k] for k in ("requests", "quota_units")},
        "poll_with_changes": {"changed": args.changed}
        | {k: changes[k] for k in ("requests", "quota_units")},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
