"""`ghostwatch health`, the container's HEALTHCHECK, against a tiny real HTTP server.

The server answers each path with a status the test chooses, so the command is proved on
a healthy daemon, a failing one, one that never answers and one that is not there.
"""

from __future__ import annotations

import socket
import time

import pytest
from click.testing import CliRunner, Result

from ghostwatch.cli.health import target
from ghostwatch.cli.main import main
from tests.support.health_server import StatusServer, server

__all__ = ["server"]  # the fixture


def _health(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["health", *args], env=env)


def test_healthy_daemon_exits_0_after_one_get_of_healthz(server: StatusServer) -> None:
    server.statuses["/healthz"] = 200
    result = _health("--address", f"127.0.0.1:{server.port}")
    assert result.exit_code == 0, result.output
    assert server.asked == ["/healthz"]


@pytest.mark.parametrize("status", [500, 503, 404])
def test_any_other_status_is_unhealthy_with_one_line(server: StatusServer, status: int) -> None:
    server.statuses["/healthz"] = status
    result = _health("--address", f"127.0.0.1:{server.port}")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"HTTP {status}" in result.stderr


def test_ready_asks_readyz(server: StatusServer) -> None:
    server.statuses.update({"/healthz": 200, "/readyz": 503})
    assert _health("--ready", "--address", f"127.0.0.1:{server.port}").exit_code == 1
    assert server.asked == ["/readyz"]


def test_address_comes_from_the_daemons_own_setting(server: StatusServer) -> None:
    """GHOSTWATCH_HEALTH__ADDRESS configures the daemon's bind; the check follows it, and a
    bind to every interface (as in Kubernetes) is reached on loopback."""
    server.statuses["/healthz"] = 200
    result = _health(env={"GHOSTWATCH_HEALTH__ADDRESS": f"0.0.0.0:{server.port}"})
    assert result.exit_code == 0, result.output
    assert server.asked == ["/healthz"]


def test_nothing_listening_is_unhealthy() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free now, closed before the check runs
    result = _health("--address", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "unhealthy" in result.stderr


def test_a_daemon_that_never_answers_is_unhealthy_within_the_timeout() -> None:
    # A listening socket nobody accepts from: connect succeeds, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        start = time.monotonic()
        result = _health("--timeout", "0.5", "--address", f"127.0.0.1:{silent.getsockname()[1]}")
        elapsed = time.monotonic() - start
    assert result.exit_code == 1
    assert "timed out" in result.stderr
    assert elapsed < 3


@pytest.mark.parametrize("address", ["8787", "localhost:", "127.0.0.1:http", "127.0.0.1:70000"])
def test_a_bad_address_is_a_usage_error(address: str) -> None:
    result = _health("--address", address)
    assert result.exit_code == 2
    assert "HOST:PORT" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:8787", ("127.0.0.1", 8787)),
        ("0.0.0.0:9000", ("127.0.0.1", 9000)),
        ("[::]:8787", ("::1", 8787)),
        ("[::1]:8787", ("::1", 8787)),
        (":8787", ("127.0.0.1", 8787)),
        ("localhost:8787", ("localhost", 8787)),
    ],
)
def test_bind_addresses_map_to_where_a_local_check_connects(
    address: str, expected: tuple[str, int]
) -> None:
    assert target(address) == expected
