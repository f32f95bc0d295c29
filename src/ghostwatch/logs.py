"""structlog set-up: readable on a terminal, JSON lines otherwise, always on stderr.

stdout belongs to command output (`scan --json` is a contract), so logs never go there.
Never log a token, a password or a message body: log keys, counts and reasons.

Libraries log through the standard `logging` module, and what no handler of theirs takes
(APScheduler's "job skipped: maximum number of running instances reached", a traceback a
job raised, Python's own warnings) reaches `logging.lastResort`, which printed it as plain
text: that handler now renders it by the same processors as ghostwatch's own events, so
stderr off a terminal is JSON lines a collector parses, never a plain-text line between.
Libraries that silence themselves (urllib3's NullHandler) stay silent.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, TextIO

import structlog

_WRITING = threading.Lock()


class _Lines:
    """Where log lines go, one whole line per write under one lock: structlog's events
    and the standard library's records come from several threads (the scheduler's, each
    job's) and must not run into each other on one line.

    Without a stream: `sys.stderr` as it is when a line is written, not when logging was
    set up: a progress display (rich's `Progress(redirect_stderr=True)`, cli/progress.py)
    swaps it for a proxy that prints each line above the bar, so a log line never runs
    into the counter."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _WRITING:
            return (self._stream or sys.stderr).write(text)

    def flush(self) -> None:
        with _WRITING:
            (self._stream or sys.stderr).flush()


def configure(level: str = "warning", stream: TextIO | None = None, fmt: str = "auto") -> None:
    """`fmt`: "auto" (pretty on a terminal, JSON otherwise), "json" or "console"."""
    pretty = (stream or sys.stderr).isatty() if fmt == "auto" else fmt == "console"
    out: Any = _Lines(stream)
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if pretty
        else structlog.processors.JSONRenderer()
    )
    stamped: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamped, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        # WriteLogger writes line and newline at once (PrintLogger's print() writes them
        # apart, and another thread's line could land in between).
        logger_factory=structlog.WriteLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    library = [structlog.stdlib.add_logger_name, *stamped]
    _route_library_logs(out, library, renderer, pretty, max(threshold, LIBRARY_LEVEL))


LIBRARY_LEVEL = logging.WARNING
"""Libraries are heard from WARNING up (as Python's last resort hears them), whatever
`level` says: their INFO is every job's start and end (APScheduler), their DEBUG may hold
a token (`TOKEN_TALKERS`)."""


def _route_library_logs(
    out: Any,
    stamped: list[structlog.typing.Processor],
    renderer: structlog.typing.Processor,
    pretty: bool,
    threshold: int,
) -> None:
    """The handler of last resort renders a record as structlog renders an event
    (`"logger": "apscheduler.scheduler"` says whose it is; a traceback becomes the JSON
    line's `exception`), and Python's warnings become records (logging.captureWarnings).
    Python's documentation of `logging.lastResort`: it may be replaced."""
    handler = logging.StreamHandler(out)
    handler.setLevel(threshold)
    traceback = [] if pretty else [structlog.processors.format_exc_info]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=stamped,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *traceback,
                renderer,
            ],
        )
    )
    logging.lastResort = handler
    logging.captureWarnings(True)


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
