"""Many Gmail sandboxes in one process, for `benchmarks/replicas.py`.

    .venv/bin/python benchmarks/replica_sandboxes.py --first 0 --boxes 500

Hosts `--boxes` `GmailSandbox` mailboxes (users rep00000@bench.example, ...) behind one
HTTP server on 127.0.0.1, mailbox i under the path prefix /u/i/ (its API, its batch
endpoint and its OAuth token endpoint), so a thousand mailboxes need a few processes and
ports, not a thousand. The benchmark runs these in processes of their own so that their
CPU is not counted as the replicas'. Controls for the benchmark under /control/: insert
a message, list every draft (its X-Ghostwatch-Step and Subject), read the meters.

Prints one JSON line when serving: {"url", "first", "refresh_tokens"}; runs until
stdin closes.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghostwatch.providers.google.signin import google_scopes
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.server import Request, Response, serve


def address(index: int) -> str:
    return f"rep{index:05d}@bench.example"


class Prefixed(GmailSandbox):
    """A sandbox served under /u/INDEX: the client puts the prefix on batch parts too."""

    prefix = ""

    def call(self, request: Request) -> Response:
        if request.path.startswith(self.prefix):
            request = dataclasses.replace(request, path=request.path[len(self.prefix) :])
        return super().call(request)


class Hosts:
    def __init__(self, first: int, count: int) -> None:
        self.first = first
        self.boxes: dict[int, Prefixed] = {}
        self.tokens: list[str] = []
        scopes = tuple(google_scopes(junk_rescue=False))
        for index in range(first, first + count):
            box = Prefixed(address(index))
            box.prefix = f"/u/{index}"
            self.boxes[index] = box
            self.tokens.append(box.tokens.grant(box.user, scopes=scopes))

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/control/"):
            return self._control(request)
        _, _, index, *rest = request.path.split("/", 3)
        box = self.boxes.get(int(index)) if index.isdigit() else None
        if box is None:
            return Response.json(404, {"error": "no such mailbox"})
        inner = "/" + (rest[0] if rest else "")
        return box.handle(dataclasses.replace(request, path=inner))

    def _control(self, request: Request) -> Response:
        if request.path == "/control/insert":
            order = request.json()
            box = self.boxes[int(order["box"])]
            raw = base64.b64decode(order["raw"])
            with box._lock:  # the API's own lock: a poll sees it whole or not at all
                box.mailbox.add(raw, order["labels"])
            return Response.json(200, {"ok": True})
        if request.path == "/control/drafts":
            found: list[list[Any]] = []
            for index, box in self.boxes.items():
                with box._lock:
                    for message_id in box.mailbox.drafts.values():
                        stored = box.mailbox.messages[message_id]
                        step = stored.header("X-Ghostwatch-Step")
                        found.append([index, step, stored.header("Subject")])
            return Response.json(200, {"drafts": found})
        if request.path == "/control/meter":
            meters = [box.meter for box in self.boxes.values()]
            total = {
                "requests": sum(m.requests for m in meters),
                "units": sum(m.units for m in meters),
                "sends": sum(len(box.sent) for box in self.boxes.values()),
            }
            return Response.json(200, total)
        return Response.json(404, {"error": "no such control"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--boxes", type=int, default=10)
    args = parser.parse_args()
    hosts = Hosts(args.first, args.boxes)
    with serve(hosts) as running:
        line = {"url": running.url, "first": args.first, "refresh_tokens": hosts.tokens}
        print(json.dumps(line), flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin (or dies)


if __name__ == "__main__":
    main()
