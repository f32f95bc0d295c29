"""`ghostwatch health`: the container's HEALTHCHECK, with no curl in the image.

It asks the running daemon's own health server for `/healthz` (or `/readyz`) and exits 0 when
the answer is 200, 1 otherwise (Docker reads exactly that: 0 healthy, 1 unhealthy; see the
Dockerfile reference, "HEALTHCHECK"). It talks to loopback: a server bound to every interface
(0.0.0.0 in Kubernetes) is reached there too. The address is the one the daemon reads:
`health.address` of the configuration (`--config`, env GHOSTWATCH_CONFIG), with its
environment override, unless `--address` names another.
"""

from __future__ import annotations

import http.client
import ipaddress
import sys
from pathlib import Path

import click

from ghostwatch.cli.place import config_option, find_place
from ghostwatch.cli.terminal import shown
from ghostwatch.errors import GhostwatchError, UserError

DEFAULT_ADDRESS = "127.0.0.1:8787"


def target(address: str) -> tuple[str, int]:
    """HOST:PORT as the server binds it → the host and port to connect to."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserError(
            f"{address!r} is not HOST:PORT: write e.g. 127.0.0.1:8787 "
            "(--address or GHOSTWATCH_HEALTH__ADDRESS)"
        )
    return _reachable(host.removeprefix("[").removesuffix("]")), int(port_text)


def _reachable(host: str) -> str:
    """A server bound to every interface (0.0.0.0, ::) answers on loopback; connect() to the
    unspecified address itself is not portable."""
    if not host:
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a host name such as localhost
        return host
    if not ip.is_unspecified:
        return host
    return "::1" if ip.version == 6 else "127.0.0.1"


def probe(address: str, path: str, timeout: float) -> str | None:
    """None when `path` answers 200, else one line saying what went wrong."""
    host, port = target(address)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "ghostwatch-health"})
        response = connection.getresponse()
        response.read()
    except OSError as error:  # refused, reset, timed out: all mean "not healthy"
        return f"http://{host}:{port}{path}: {error}"
    finally:
        connection.close()
    if response.status != 200:
        return f"http://{host}:{port}{path}: HTTP {response.status} {response.reason}"
    return None


@click.command(name="health")
@config_option
@click.option(
    "--address",
    envvar="GHOSTWATCH_HEALTH__ADDRESS",
    default=None,
    help="The health server's HOST:PORT (env GHOSTWATCH_HEALTH__ADDRESS); default: the "
    f"configuration's health.address, as the daemon reads it, else {DEFAULT_ADDRESS}.",
)
@click.option("--ready", is_flag=True, help="Ask /readyz (database, recent cycles), not /healthz.")
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for the answer.")
def health(config_path: Path | None, address: str | None, ready: bool, timeout: float) -> None:
    """Exit 0 when the running daemon answers its health check, 1 when it does not."""
    if address is None:
        address = _configured(config_path)
    try:
        problem = probe(address, "/readyz" if ready else "/healthz", timeout)
    except UserError as error:
        raise click.BadParameter(str(error), param_hint="--address") from None
    if problem is not None:
        click.echo(f"unhealthy: {problem}", err=True)
        sys.exit(1)
    click.echo("healthy")


def _configured(config_path: Path | None) -> str:
    """The address the daemon listens on with this configuration; a configuration that
    cannot be read is "unhealthy" (1), as a container's health check must say (Docker
    reserves exit code 2)."""
    try:
        settings = find_place(config_path, key=False).settings
    except GhostwatchError as error:
        click.echo(f"unhealthy: {shown(str(error))}", err=True)
        sys.exit(1)
    return settings.health.address if settings is not None else DEFAULT_ADDRESS
