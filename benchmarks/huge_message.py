"""What a stranger's huge message costs: a cycle, and `classify`, with a 40 MB message.

    .venv/bin/python benchmarks/huge_message.py [--mb 40] [--count 1] [--limit BYTES]

The example mailbox is copied and given `--count` HTML "undelivered" reports of `--mb`
MB each, answering my latest sent message (so the engine loads their bodies). Then, each
in a child process exactly as a user runs it, the parent measures wall time and peak RSS
(os.wait4), and its CPU seconds (the figure a loaded machine does not distort), of:
- `ghostwatch run --once` on that Maildir account (a full cycle: scan, drafts, digest),
- `ghostwatch classify` on one huge file.
`--limit` sets the account's `max_body_bytes` (default: ghostwatch's own default); a
limit above the message's size shows what it cost before bodies were capped.

Issue 15's target: under 10 s and under 300 MB for the cycle. The last stdout line is one
JSON object with the figures and the load average they were measured under.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
NOW = "2026-11-20T15:00:00+00:00"
GHOSTWATCH = Path(sys.executable).parent / "ghostwatch"


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def latest_sent(mail: Path) -> tuple[str, str]:
    """(Message-ID, To) of the newest message in Sent (by file name: epoch first)."""
    newest = sorted((mail / ".Sent" / "cur").iterdir())[-1]
    fields: dict[str, str] = {}
    for line in newest.read_text(encoding="utf-8").splitlines():
        if not line:
            break
        name, _, value = line.partition(":")
        fields.setdefault(name.lower(), value.strip())
    return fields["message-id"], fields["to"]


def huge_report(megabytes: int, answered: str, recipient: str, n: int) -> bytes:
    """An HTML delivery report of about `megabytes` MB (the shape the issue found)."""
    head = (
        "From: Mail Delivery System <mailer-daemon@mx.alpineskihouse.example>\r\n"
        f"To: {ME}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 19 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <huge-{n}@mx.alpineskihouse.example>\r\n"
        f"In-Reply-To: {answered}\r\n"
        f"References: {answered}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "\r\n"
    ).encode()
    opening = (
        f"<html><body><p>Delivery to {recipient} failed permanently.</p>"
        "<p>550 5.1.1 The email account that you tried to reach does not exist.</p>"
    ).encode()
    row = b"<div><span>" + b"x" * 80 + b"</span></div>\r\n"
    body = opening + row * (megabytes * 1024 * 1024 // len(row)) + b"</body></html>\r\n"
    return head + body


def measured(command: list[str]) -> dict[str, object]:
    """Run `command` as a child; its wall seconds, peak RSS (MB), exit code, stderr."""
    started = time.perf_counter()
    child = subprocess.Popen(  # the benchmark's own command lines, no shell
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        # CPU time says what the work costs whatever else shares the machine.
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        "exit": child.returncode,
        "stderr": stderr.decode("utf-8", "replace"),
    }


def bodies_loaded(stderr: str) -> int:
    for line in stderr.splitlines():
        if '"scan_done"' in line:
            return int(json.loads(line).get("bodies_loaded", 0))
    return -1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=40, help="size of each huge message")
    parser.add_argument("--count", type=int, default=1, help="how many huge messages")
    parser.add_argument("--limit", type=int, default=None, help="max_body_bytes (bytes)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ghostwatch-huge-"))
    try:
        mail = root / "mail"
        shutil.copytree(EXAMPLE, mail)
        answered, recipient = latest_sent(mail)
        for n in range(args.count):
            raw = huge_report(args.mb, answered, recipient, n)
            (mail / "new" / f"1795000000.M{n}P1.bench").write_bytes(raw)
        log(f"{args.count} message(s) of {len(raw) / 1e6:.1f} MB answering {answered}")
        account = {
            "name": "box", "provider": "maildir", "address": ME, "time_zone": "Europe/London",
            "maildir": {"path": str(mail)},
            **({"max_body_bytes": args.limit} if args.limit else {}),
        }  # fmt: skip
        config = root / "ghostwatch.yaml"
        settings = {"data_dir": str(root / "data"), "log_format": "json", "accounts": [account]}
        config.write_text(json.dumps(settings))
        cycle = measured([str(GHOSTWATCH), "run", "--once", "--now", NOW, "--config", str(config)])
        huge = next((mail / "new").glob("*.bench"))
        classified = measured([str(GHOSTWATCH), "classify", "--json", str(huge)])
        load = os.getloadavg()
        result = {
            "message_mb": round(len(raw) / 1e6, 1),
            "count": args.count,
            "max_body_bytes": args.limit or "default",
            "cycle": {k: v for k, v in cycle.items() if k != "stderr"},
            "cycle_bodies_loaded": bodies_loaded(str(cycle["stderr"])),
            "classify": {k: v for k, v in classified.items() if k != "stderr"},
            "load_average": [round(x, 2) for x in load],
            "cpus": os.cpu_count(),
        }
        if cycle["exit"] != 0:
            log(str(cycle["stderr"])[-2000:])
        print(json.dumps(result))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
