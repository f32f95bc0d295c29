"""How a user's mistake leaves any command: one line on stderr and exit code 2.

Every command wraps its work in `user_errors()`, so our own `UserError` (a bad
configuration, a missing key, a folder that is not a Maildir) and a database that
fails a command (`StoreError`) read the same everywhere, and never as a traceback.
click's `UsageError` would add "Usage: … Try '… --help'", which misleads when the
command line itself was fine; click's own argument errors keep it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ghostwatch.cli.terminal import shown
from ghostwatch.errors import StoreError, UserError


class UserProblem(click.ClickException):
    """`Error: …` on one line, exit code 2 (as click's usage errors), no usage text."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except (UserError, StoreError) as error:
        # The message may quote a file name or a provider's words: shown, never obeyed.
        raise UserProblem(shown(str(error))) from error
