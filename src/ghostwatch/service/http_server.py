"""A small HTTP server no client can tie up: a bounded pool, a share per client, deadlines.

The standard library's ThreadingHTTPServer starts a thread per connection and waits on
each socket forever: one client that opens connections and sends nothing held 1,228
threads of the daemon. Here:

- at most `WORKERS` connections are served at once, each by a thread of one fixed pool;
- one client address holds at most `PER_CLIENT` of them, so a prober elsewhere (the
  kubelet, Prometheus, `ghostwatch health`) still gets an answer while it floods;
- every socket read or write gives up after `IO_TIMEOUT` seconds, and a connection still
  open `DEADLINE` seconds after it was accepted is shut down, however slowly its client
  dribbles bytes (a per-read timeout alone is reset by every byte);
- a connection beyond those limits is answered 503 at once and closed, by the accepting
  thread, without a worker.

Waitress was considered (a well-kept pure-Python server, bounded threads): a slow client
there holds a socket rather than a thread, but a client that keeps sending a byte now and
then keeps its connections past `channel_timeout` and can fill `connection_limit`, with
nothing to say one client may not take them all. What is needed is three limits on top of
http.server, so they are written here, each with its test (tests/service/test_http_server.py).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

WORKERS = 8
PER_CLIENT = 4
IO_TIMEOUT = 5.0
DEADLINE = 10.0
# What a refused connection is told (RFC 9110 section 15.6.4: 503 and Retry-After).
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


class TimeoutHandler(BaseHTTPRequestHandler):
    """A request handler whose socket reads and writes time out (StreamRequestHandler
    applies `timeout` with settimeout), and which never keeps a connection alive."""

    timeout = IO_TIMEOUT
    protocol_version = "HTTP/1.0"  # one request per connection: nothing idles between them

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds would drown the cycle lines


class BoundedHTTPServer(HTTPServer):
    """HTTPServer serving each connection on a fixed pool, within the limits above."""

    # listen(2)'s backlog: socketserver's 5 leaves a flood's later connections waiting in
    # the kernel for SYN-ACK retries, seconds before they are accepted even to be refused.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="health")
        self._lock = threading.Lock()
        self._clients: Counter[str] = Counter()
        self._open: dict[socket.socket, float] = {}  # connection → when it must be done
        self.refused = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        client = str(client_address[0])
        with self._lock:
            full = len(self._open) >= WORKERS or self._clients[client] >= PER_CLIENT
            if not full:
                self._clients[client] += 1
                self._open[request] = time.monotonic() + DEADLINE
            else:
                self.refused += 1
        if full:
            _refuse(request)
            return
        self._pool.submit(self._serve, request, client_address, client)

    def _serve(self, request: socket.socket, client_address: Any, client: str) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a client gone mid-answer; as socketserver does
            self.handle_error(request, client_address)
        finally:
            with self._lock:
                self._open.pop(request, None)
                self._clients[client] -= 1
                if self._clients[client] <= 0:
                    del self._clients[client]
            self.shutdown_request(request)

    def service_actions(self) -> None:
        """Called by serve_forever between polls: end connections past their deadline.
        shutdown(2) wakes the worker blocked on that socket, which then finishes."""
        now = time.monotonic()
        with self._lock:
            late = [conn for conn, deadline in self._open.items() if deadline <= now]
        for connection in late:
            _shut(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a timeout or reset is the client's business, not a traceback on stderr

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            still = list(self._open)
        for connection in still:
            _shut(connection)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def active(self) -> int:
        with self._lock:
            return len(self._open)


def _refuse(request: socket.socket) -> None:
    with contextlib.suppress(OSError):
        request.setblocking(False)  # never wait on a client the server has no room for
        request.send(REFUSAL)
    _shut(request)
    request.close()


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its worker
        connection.shutdown(socket.SHUT_RDWR)
