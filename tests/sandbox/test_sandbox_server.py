"""The one way every sandbox is put on the network: seeded first, then served over real
HTTP on 127.0.0.1 at the URL it is told, and gone when the block ends."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ghostwatch_sandbox.server import Request, Response, hosted, seeded_and_hosted


class Echo:
    """An emulator that says what it was asked and what it was seeded from."""

    def __init__(self) -> None:
        self.url = ""
        self.seeded: list[str] = []

    def seed(self, root: Path) -> int:
        self.seeded.append(root.name)
        return 0

    def handle(self, request: Request) -> Response:
        return Response.json(200, {"path": request.path, "seeded": self.seeded})


def test_a_sandbox_is_seeded_before_its_first_request_and_served_at_its_url(
    tmp_path: Path,
) -> None:
    echo = Echo()
    with seeded_and_hosted(echo, tmp_path / "mailbox") as served:
        assert served is echo
        assert echo.url.startswith("http://127.0.0.1:")
        answer = httpx.get(f"{echo.url}/v1/ping")
        assert answer.json() == {"path": "/v1/ping", "seeded": ["mailbox"]}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{echo.url}/v1/ping")


def test_without_a_seed_nothing_is_seeded() -> None:
    with seeded_and_hosted(Echo(), None) as echo:
        assert httpx.get(f"{echo.url}/").json() == {"path": "/", "seeded": []}


def test_an_app_without_a_seed_is_hosted_alone() -> None:
    echo = Echo()
    with hosted(echo):
        assert httpx.get(f"{echo.url}/x").json()["path"] == "/x"
