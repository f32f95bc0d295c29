"""A TCP forwarder that cuts the connection at a chosen point of an IMAP conversation.

A connection dropped mid-FETCH or mid-APPEND is what a flaky network, a NAT timeout or a
server restart does to a client; this puts the cut exactly where a test wants it, on
the real bytes between the real client and the real server: after so many bytes from
the server, or just before the first chunk (in either direction) holding some text.
The cut chunk is never forwarded. A cut fires `times` times; connections after it pass.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Cut:
    """When to cut: after `after_server_bytes` from the server, or at `text`."""

    after_server_bytes: int | None = None
    text: bytes | None = None
    from_client: bool = False
    times: int = 1
    """How many connections to cut (a server that fails every retry)."""
    fired: bool = False


@dataclass
class CuttingProxy:
    target: tuple[str, int]
    port: int = 0
    cut: Cut | None = None
    cuts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None

    def arm(self, cut: Cut) -> None:
        with self._lock:
            self.cut = cut

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            pair = (client, server)
            for source, sink, from_client in ((client, server, True), (server, client, False)):
                args = (source, sink, from_client, pair)
                threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        from_client: bool,
        pair: tuple[socket.socket, socket.socket],
    ) -> None:
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk or self._cuts_here(chunk, from_client):
                for end in pair:
                    with contextlib.suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)
                    end.close()
                return
            try:
                sink.sendall(chunk)
            except OSError:
                return

    def _cuts_here(self, chunk: bytes, from_client: bool) -> bool:
        with self._lock:
            cut = self.cut
            if cut is None or cut.fired:
                return False
            if cut.text is not None:
                hit = cut.from_client == from_client and cut.text in chunk
            elif from_client or cut.after_server_bytes is None:
                return False
            else:
                cut.after_server_bytes -= len(chunk)
                hit = cut.after_server_bytes < 0
            if hit:
                self.cuts += 1
                cut.times -= 1
                cut.fired = cut.times <= 0
            return hit


@contextmanager
def cutting_proxy(target: tuple[str, int]) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(target)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
