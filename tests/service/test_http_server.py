"""The health server under a client that opens connections and never finishes them: the
daemon's threads stay bounded, another client still gets its answer, and every held
connection is cut at its deadline, however slowly it dribbles bytes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ghostwatch.service import health, http_server
from ghostwatch.service.metrics import Metrics

pytestmark = [pytest.mark.slow, pytest.mark.server]

# Linux answers on all of 127.0.0.0/8: a second loopback address is a second client.
ELSEWHERE = "127.0.0.2"


@pytest.fixture
def port() -> Iterator[int]:
    state = health.HealthState(
        ["alex"], timedelta(minutes=20), lambda: datetime.now(UTC), lambda: None
    )
    with health.serve("127.0.0.1", 0, state, Metrics()) as url:
        yield int(url.rsplit(":", 1)[1])


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def _get(port: int, path: str, source: str) -> tuple[int, float]:
    started = time.monotonic()
    with _connect(port, source) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = connection.recv(64)
    return int(answer.split()[1]), time.monotonic() - started


def _answer(connection: socket.socket) -> bytes:
    try:
        return connection.recv(256)
    except TimeoutError:
        return b"(timed out)"
    except OSError:
        return b"(reset)"


def test_one_client_cannot_hold_the_server(port: int) -> None:
    before = threading.active_count()
    started = time.monotonic()
    held = [_connect(port) for _ in range(300)]  # and never a byte from them
    time.sleep(0.5)
    grown = threading.active_count() - before
    assert grown <= http_server.WORKERS, grown
    status, took = _get(port, "/healthz", ELSEWHERE)
    assert (status, took < 2) == (200, True), took
    # Past this client's share, each connection is told 503 at once and closed...
    answers = []
    for connection in held:
        connection.settimeout(0.5)
        answers.append(_answer(connection))
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
    assert len(refused) == len(held) - http_server.PER_CLIENT, set(answers)
    # ...and the ones it got are cut at the deadline: recv() sees the end, not a timeout.
    kept = [c for c, a in zip(held, answers, strict=True) if a == b"(timed out)"]
    assert len(kept) == http_server.PER_CLIENT
    for connection in kept:
        connection.settimeout(http_server.DEADLINE + 5)
        assert _answer(connection) == b""
    assert time.monotonic() - started <= http_server.DEADLINE + 1.5
    for connection in held:
        connection.close()
    assert _get(port, "/readyz", "127.0.0.1")[0] == 503  # alex not checked yet: and served


def test_a_client_dribbling_bytes_is_cut_at_the_deadline(port: int) -> None:
    """A byte every second resets a per-read timeout forever; the deadline still ends it."""
    connection = _connect(port)
    started = time.monotonic()
    connection.sendall(b"GET /healthz HTTP/1.1\r\n")
    connection.settimeout(1)
    cut = None
    for _ in range(int(http_server.DEADLINE) + 5):
        connection.sendall(b"X")
        if _answer(connection) != b"(timed out)":  # the end, or a reset: cut
            cut = time.monotonic() - started
            break
    connection.close()
    assert cut is not None
    assert http_server.DEADLINE - 1 <= cut <= http_server.DEADLINE + 2


def test_a_silent_client_is_dropped_after_the_read_timeout(port: int) -> None:
    connection = _connect(port)
    connection.sendall(b"GET /healthz HTTP/1.1\r\n")  # then nothing
    started = time.monotonic()
    connection.settimeout(http_server.DEADLINE + 5)
    assert _answer(connection) == b""
    took = time.monotonic() - started
    connection.close()
    assert http_server.IO_TIMEOUT - 0.5 <= took <= http_server.IO_TIMEOUT + 1
