"""Benchmark `ghostwatch scan` on a synthetic Maildir.

    .venv/bin/python benchmarks/scan_maildir.py [--messages 100000] [--seed 1] [--keep DIR]

The mailbox (see `synth.py`) is generated once and cached in /tmp/ghostwatch-bench-<N>-<seed>
(or in DIR with --keep); a finished mailbox is marked by a sibling `<dir>.complete` file naming
the generator version, so an interrupted or outdated generation is redone. The scan runs in
a child process, exactly as a user would run it; the parent measures its wall time and peak
RSS.

Progress goes to stderr; the last stdout line is one JSON object:
    {"messages": N, "seconds": S, "messages_per_second": R, "peak_rss_mb": M}
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import ME, NOW, VERSION, make_maildir


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="mailbox size")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--keep", type=Path, help="generate into / reuse this directory")
    return parser.parse_args(argv)


def ensure_mailbox(root: Path, messages: int, seed: int) -> None:
    """Generate the mailbox unless a complete one is already there."""
    stamp = root.with_name(root.name + ".complete")
    wanted = {"messages": messages, "seed": seed, "version": VERSION}
    if root.is_dir() and _stamped(stamp) == wanted:
        log(f"reusing {root}")
        return
    if root.exists():
        shutil.rmtree(root)
    log(f"generating {messages:,} messages (seed {seed}) into {root} ...")
    started = time.perf_counter()
    counts = make_maildir(root, messages, seed)
    seconds = time.perf_counter() - started
    per_folder = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    log(f"generated in {seconds:.1f} s ({per_folder})")
    stamp.write_text(json.dumps({**wanted, "counts": counts}) + "\n")


def _stamped(stamp: Path) -> dict[str, int] | None:
    """What a finished generation recorded (messages, seed, version), if anything."""
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    return {key: recorded.get(key) for key in ("messages", "seed", "version")}


def scan_command(root: Path) -> list[str]:
    """The installed console script next to this interpreter, else `python -m ghostwatch`."""
    script = Path(sys.executable).with_name("ghostwatch")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "ghostwatch"]
    scan = ["scan", "--maildir", str(root), "--me", ME, "--now", NOW, "--json"]
    return [*base, "--log-level", "info", *scan]


def run_scan(root: Path) -> tuple[float, float, Path]:
    """(wall seconds, child peak RSS in MB, path of the captured JSON output)."""
    output = Path(tempfile.mkstemp(prefix="ghostwatch-bench-", suffix=".json")[1])
    command = scan_command(root)
    log("running: " + " ".join(command))
    with output.open("wb") as sink:
        started = time.perf_counter()
        done = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"scan failed with exit code {done.returncode}")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = used.ru_maxrss  # KiB on Linux
    # CPU time is what a busy machine does not inflate: the figure to compare changes by.
    log(f"cpu: {used.ru_utime:.2f} s user + {used.ru_stime:.2f} s sys, all scan processes")
    log_phases(done.stderr.decode(errors="replace"))
    return seconds, peak_kb / 1024, output


def log_phases(stderr: str) -> None:
    """Where the scan spent its time, from its own `scan_done` summary line."""
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "scan_done":
            log(f"phases (s): {event.get('seconds')}; bodies read: {event.get('bodies_loaded')}")


def summarize(output: Path) -> None:
    """A sanity line: how many conversations landed in each state."""
    try:
        plan = json.loads(output.read_bytes())
    except (OSError, ValueError) as exc:
        log(f"could not read the scan output: {exc}")
        return
    states = Counter(c.get("state") for c in plan.get("conversations", []))
    log(
        f"conversations: {sum(states.values()):,} ({dict(states.most_common())}); "
        f"junk replies: {len(plan.get('junk_replies', [])):,}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    root = args.keep or Path(tempfile.gettempdir()) / (
        f"ghostwatch-bench-{args.messages}-{args.seed}"
    )
    ensure_mailbox(root, args.messages, args.seed)
    seconds, peak_mb, output = run_scan(root)
    log(f"scan took {seconds:.2f} s, peak RSS {peak_mb:.0f} MB")
    summarize(output)
    output.unlink(missing_ok=True)
    result = {
        "messages": args.messages,
        "seconds": round(seconds, 3),
        "messages_per_second": round(args.messages / seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
