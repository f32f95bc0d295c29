"""How a user's mistake leaves any command: one line on stderr and exit code 2.

Every command wraps its work in `user_errors()`, so every error of ours (errors.py) reads
the same everywhere, and never as a traceback: a `UserError` (a bad configuration, a
missing key, a folder that is not a Maildir), a database that fails a command
(`StoreError`), and a service that did not answer (`IdentityUnavailable`, a
`ProviderError`), whose message says to check the network and run the command again.
Libraries' own exceptions are translated into these where they are raised (`raise …
from`), so this is the one place a command line turns them into words.
click's `UsageError` would add "Usage: … Try '… --help'", which misleads when the
command line itself was fine; click's own argument errors keep it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ghostwatch.cli.terminal import shown
from ghostwatch.errors import GhostwatchError


class UserProblem(click.ClickException):
    """`Error: …` on one line, exit code 2 (as click's usage errors), no usage text."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except GhostwatchError as error:
        # The message may quote a file name or a provider's words: shown, never obeyed.
        raise UserProblem(shown(str(error))) from error
