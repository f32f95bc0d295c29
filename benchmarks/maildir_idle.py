"""Benchmark a daemon's Maildir reads: the first, an idle one, one after a few arrivals.

    .venv/bin/python benchmarks/maildir_idle.py [--messages 20000] [--changed 10]

Copies a synthetic Maildir (`synth.py`, cached in /tmp) to a temporary folder, reads it
with the Maildir provider (`MaildirMailbox.read_headers`, one process, as a daemon's
cycle does) three times on the same reader — first, with nothing changed, and after
`--changed` messages were delivered (written to `new/`, as an MTA does) — and counts
the files whose headers each read parsed (the reader's `progress`) and its seconds. The
issue's target (18): an idle read parses no file, a read after k arrivals parses k.
Last stdout line, one JSON object:
    {"messages", "first_read": {"files_read", "seconds"}, "idle_read": {...},
     "read_after_changes": {"changed", "files_read", "seconds"}}
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghostwatch.providers.maildir.source import RACY_NS, MaildirMailbox
from synth import ME, cached_maildir


def measured(reader: MaildirMailbox) -> dict[str, Any]:
    counted: list[int] = []
    started = time.perf_counter()
    messages = reader.read_headers(progress=counted.append, workers=1)
    seconds = round(time.perf_counter() - started, 3)
    return {"files_read": sum(counted), "seconds": seconds, "messages": len(messages)}


def arrive(root: Path, count: int) -> None:
    for n in range(count):
        raw = (
            f"From: Prospect {n} <p{n}@arrivals.example>\r\nTo: {ME}\r\n"
            f"Subject: New question {n}\r\nMessage-ID: <arrival-{n}@arrivals.example>\r\n"
            "Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nHello!\r\n"
        ).encode()
        (root / "new" / f"1790000000.A{n}P1.bench").write_bytes(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=10)
    args = parser.parse_args()
    source = cached_maildir("ghostwatch-gmail-bench", args.messages)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "mail"
        shutil.copytree(source, root)
        # A directory changed this recently is listed again on purpose (`RACY_NS`): the
        # daemon's next poll comes minutes later, so wait as long before reading.
        time.sleep(RACY_NS / 1e9 + 0.1)
        reader = MaildirMailbox(root)
        first = measured(reader)
        idle = measured(reader)
        arrive(root, args.changed)
        time.sleep(RACY_NS / 1e9 + 0.1)
        changes = measured(reader)
    result = {
        "messages": args.messages,
        "first_read": first,
        "idle_read": idle,
        "read_after_changes": {"changed": args.changed} | changes,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
