"""Progress for a person at a terminal, on stderr, that log lines do not run into.

A first sync of a large mailbox takes minutes, so `scan` and `run --once` show how far
they are; nothing is shown when stderr is not a terminal (cron, CI, a pipe). rich's
`Progress` draws the bar (a kept library: the terminal handling, redrawing and clearing
are its job, not ours) and, with `redirect_stderr`, prints whatever else is written to
stderr meanwhile — the log, which writes to the current `sys.stderr` (logs.py) — above
the bar instead of into it. The bar is removed when done (`transient`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

Tick = Callable[[int], None]


def _progress(*columns: TextColumn | BarColumn | MofNCompleteColumn) -> Progress:
    # soft_wrap: a log line is printed whole, as the terminal wraps it, never cut by rich.
    console = Console(file=sys.stderr, soft_wrap=True)
    return Progress(
        *columns, console=console, transient=True, redirect_stderr=True, redirect_stdout=False
    )


@contextmanager
def bar(total: int | None, label: str) -> Iterator[Tick | None]:
    """A bar to `total` (messages); a running count when the total is not known in
    advance (a first sync through a provider: minutes for a large mailbox under its
    quota); None where nobody watches."""
    if not sys.stderr.isatty():
        yield None
        return
    if total is None:
        with _progress(TextColumn("{task.description}: {task.completed} messages")) as shown:
            task = shown.add_task(label, total=None)
            yield lambda count: shown.advance(task, count)
        return
    with _progress(TextColumn(label), BarColumn(), MofNCompleteColumn()) as shown:
        task = shown.add_task(label, total=total)
        yield lambda count: shown.advance(task, count)


@contextmanager
def counter() -> Iterator[Callable[[str], Tick] | None]:
    """A running count of messages read, one line per account (the total is not known
    before a provider has been read), or None where nobody watches."""
    if not sys.stderr.isatty():
        yield None
        return
    with _progress(TextColumn("{task.description}: {task.completed} messages read")) as shown:

        def for_account(name: str) -> Tick:
            task = shown.add_task(name, total=None)
            return lambda count: shown.advance(task, count)

        yield for_account
