"""A tiny real HTTP server that answers each path with the status a test chooses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class StatusServer(ThreadingHTTPServer):
    """Answers GET PATH with `statuses[PATH]` (404 for others) and records the paths."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses: dict[str, int] = {}
        self.asked: list[str] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: StatusServer

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        status = self.server.statuses.get(self.path, 404)
        body = b"ok\n" if status == 200 else b"not ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


@pytest.fixture
def server() -> Iterator[StatusServer]:
    with StatusServer() as running:
        thread = threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield running
        running.shutdown()
