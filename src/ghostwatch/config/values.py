"""The values a setting may hold, each checked where it is read: an email address, a clock
time, a time zone, a country's holidays, an account name, an API root, HOST:PORT.

Validators raise `ValueError` with a message that says how to fix the value; `config.load`
lists them all at once. `Section` is the base of every nested block of the YAML file.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from ghostwatch.engine.cadence import holiday_dates

# One local part, one @, one domain; the same shape `--me` accepts (cli.py).
_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not an email address: write it as name@company.com")
    return value.strip().lower()


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" alone is a tzdata folder
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None
    return value


def _country(value: str) -> str:
    try:
        holiday_dates(value)
    except NotImplementedError:
        raise ValueError(
            f"no holiday calendar for {value!r}: use an ISO 3166 country code such as US or DE"
        ) from None
    return value.upper()


def _account_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot name an account: use lower-case letters, digits, '-', '_' "
            "or '.', starting with a letter or digit (e.g. alex or sales-team)"
        )
    return value


def _endpoint(value: str) -> str:
    """An API root ghostwatch sends a bearer token to: https, or plain http only on this
    machine (a sandbox on 127.0.0.1), where nothing on the network can read the token
    (RFC 6750 section 5.3: bearer tokens only over TLS)."""
    url = urlsplit(value)
    if url.scheme == "https" and url.hostname:
        return value
    if url.scheme == "http" and _loopback(url.hostname or ""):
        return value
    raise ValueError(
        f"{value!r} would carry the mailbox's access token in clear: use an https:// URL "
        "(plain http only for a sandbox on 127.0.0.1 or localhost)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_port(value: str) -> str:
    match = _HOST_PORT.fullmatch(value)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(
            f"{value!r} is not HOST:PORT: write e.g. 127.0.0.1:8787 "
            "(0.0.0.0:8787 to answer probes from other hosts)"
        )
    return value


def _not_a_number(value: Any) -> Any:
    # pydantic reads a number as seconds after midnight: `start: 8` would be 00:00:08.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r} is a number, not a clock time: write HH:MM in quotes, e.g. '08:00'"
        )
    return value


def _local(value: time) -> time:
    # The account's time_zone places every clock time; one with its own offset cannot be
    # compared with the local clock (and numbers came back from pydantic as UTC).
    if value.tzinfo is not None:
        raise ValueError(
            f"{value:%H:%M%z} carries a UTC offset: write the local time alone, e.g. "
            "'07:30' (the account's time_zone says where)"
        )
    return value


Address = Annotated[str, AfterValidator(_address)]
Clock = Annotated[time, BeforeValidator(_not_a_number), AfterValidator(_local)]
"""A local time of day written HH:MM (`'07:30'`): never a number, never with an offset."""
TimeZoneName = Annotated[str, AfterValidator(_zone)]
Country = Annotated[str, AfterValidator(_country)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]
AccountName = Annotated[str, AfterValidator(_account_name)]
HostPort = Annotated[str, AfterValidator(_host_port)]


class Section(BaseModel):
    """Unknown keys are errors: a misspelt key silently ignored is a setting lost."""

    model_config = ConfigDict(extra="forbid")
