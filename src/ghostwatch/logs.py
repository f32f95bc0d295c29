"""structlog set-up: readable on a terminal, JSON lines otherwise, always on stderr.

stdout belongs to command output (`scan --json` is a contract), so logs never go there.
Never log a token, a password or a message body: log keys, counts and reasons.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog


class _Stderr:
    """`sys.stderr` as it is when a line is written, not when logging was set up: a
    progress display (rich's `Progress(redirect_stderr=True)`, cli/progress.py) swaps it
    for a proxy that prints each line above the bar, so a log line never runs into the
    counter."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "warning", stream: TextIO | None = None, fmt: str = "auto") -> None:
    """`fmt`: "auto" (pretty on a terminal, JSON otherwise), "json" or "console"."""
    pretty = (stream or sys.stderr).isatty() if fmt == "auto" else fmt == "console"
    out: Any = stream or _Stderr()
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if pretty
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


# Keep client libraries from logging tokens, whatever level the process logs at.
#
# requests-oauthlib logs the whole token request and answer at DEBUG (the Basic
# authorization header with the client secret, the access and refresh tokens), and
# urllib3 logs request lines, which carry the one-time authorization code on the loopback
# redirect. These loggers are held at WARNING once ghostwatch talks to a token endpoint;
# what they say at WARNING and above carries no token.
TOKEN_TALKERS = ("requests_oauthlib", "oauthlib", "urllib3", "msal")


def silence_token_loggers() -> None:
    for name in TOKEN_TALKERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
