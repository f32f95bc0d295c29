"""Flood the health server from one client and measure what it holds and who still gets in.

    .venv/bin/python benchmarks/health_flood.py [--connections 1500] [--seconds 12]

Serves /healthz, /readyz and /metrics exactly as the daemon does (`service.health.serve`)
and, from one client address (127.0.0.1), opens `--connections` connections that send a
request line and then one byte a second, never finishing (slowloris). Meanwhile another
client (127.0.0.2: Linux answers on all of 127.0.0.0/8) asks /healthz every 100 ms. It
measures the server's threads (the process's, less the flooder's own), the answers the
flooder got, and the other client's answers and their latency.

Prints progress to stderr and, last, one JSON line:
    {"connections", "peak_threads", "flooder": {"refused_503", "cut_by_server"},
     "probes": {"asked", "answered_200", "p50_ms", "max_ms"}}
Before the bounded server (ThreadingHTTPServer), such a client held a thread per
connection (1,228 threads were seen).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from ghostwatch.service import health
from ghostwatch.service.metrics import Metrics

ELSEWHERE = "127.0.0.2"


def _flood(port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        connection.setblocking(False)
        held.append(connection)
    return held


def _dribble(held: list[socket.socket], outcome: dict[str, int]) -> None:
    """One byte on each live connection; count the 503s and the connections cut."""
    for connection in list(held):
        try:
            answer = connection.recv(64)
        except BlockingIOError:
            answer = None
        except OSError:
            answer = b""
        if answer is None:
            try:
                connection.send(b"X")
                continue
            except OSError:
                answer = b""
        key = "refused_503" if answer.startswith(b"HTTP/1.1 503") else "cut_by_server"
        outcome[key] += 1
        held.remove(connection)
        connection.close()


def _probe(port: int) -> float | None:
    started = time.monotonic()
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=3, source_address=(ELSEWHERE, 0)
        ) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status = connection.recv(64).split()[1]
    except (OSError, IndexError):
        return None
    return (time.monotonic() - started) * 1000 if status == b"200" else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    state = health.HealthState([], timedelta(minutes=20), lambda: datetime.now(UTC), lambda: None)
    before = threading.active_count()
    with health.serve("127.0.0.1", 0, state, Metrics()) as url:
        port = int(url.rsplit(":", 1)[1])
        held = _flood(port, args.connections)
        print(f"{len(held)} connections open", file=sys.stderr)
        outcome = {"refused_503": 0, "cut_by_server": 0}
        latencies: list[float | None] = []
        peak = 0
        ends = time.monotonic() + args.seconds
        while time.monotonic() < ends:
            peak = max(peak, threading.active_count() - before)
            _dribble(held, outcome)
            latencies.append(_probe(port))
            time.sleep(0.1)
        for connection in held:
            connection.close()
    answered = [ms for ms in latencies if ms is not None]
    result = {
        "connections": args.connections,
        "peak_threads": peak,
        "flooder": outcome,
        "probes": {
            "asked": len(latencies),
            "answered_200": len(answered),
            "p50_ms": round(statistics.median(answered), 1) if answered else None,
            "max_ms": round(max(answered), 1) if answered else None,
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
