"""Ctrl-C, the same way for every command: one line, `interrupted`, and exit code 130.

Python turns SIGINT into `KeyboardInterrupt` wherever the main thread is; click turns it
(and a prompt's) into `Abort`, printed as `Aborted!` with exit code 1, while the daemon
and the sandbox catch the signal themselves and stop cleanly. 130 is 128 + SIGINT's
number, what a shell reports for a program Ctrl-C killed (Bash manual, "Exit Status"),
so a script can tell "interrupted" from "failed" (1) and "fix this" (2). A prompt that
reads the end of its input (EOF, not Ctrl-C) stays click's `Aborted!`.
"""

from __future__ import annotations

import signal

import click

from ghostwatch.cli.lazy import LazyGroup

INTERRUPTED = 128 + signal.SIGINT


def interrupted() -> click.exceptions.Exit:
    """Say it once and leave with 130: for the commands that catch SIGINT themselves."""
    click.echo("interrupted", err=True)
    return click.exceptions.Exit(INTERRUPTED)


class Interruptible(LazyGroup):
    """The root group: a Ctrl-C anywhere below it ends as `interrupted()`."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(err=True)  # ends the terminal's `^C` line
            raise interrupted() from None
        except click.Abort as abort:
            if isinstance(abort.__cause__ or abort.__context__, KeyboardInterrupt):
                click.echo(err=True)
                raise interrupted() from None
            raise
