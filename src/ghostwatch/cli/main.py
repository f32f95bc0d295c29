"""The command line's root: `ghostwatch …`. User mistakes end in one line on stderr and
exit code 2 (`cli/errors.py`); Ctrl-C ends any command with one line, `interrupted`, and
exit code 130 (128 + SIGINT, what a shell reports for a program killed by Ctrl-C), where
click alone would say `Aborted!` with 1; `--version` says which version is installed.

Every command's module is imported only when that command runs (`cli/lazy.py`), so a plain
`scan` never loads the service, the database or a provider's client library.
"""

from __future__ import annotations

import click

from ghostwatch import logs
from ghostwatch.cli.interrupt import Interruptible

_LAZY_COMMANDS = {
    "scan": "ghostwatch.cli.mailbox:scan",
    "preview": "ghostwatch.cli.mailbox:preview",
    "digest": "ghostwatch.cli.mailbox:digest",
    "classify": "ghostwatch.cli.mailbox:classify_command",
    "db": "ghostwatch.cli.service:db",
    "config": "ghostwatch.cli.service:config_group",
    "init": "ghostwatch.cli.service:init",
    "run": "ghostwatch.cli.service:run",
    "accounts": "ghostwatch.cli.accounts:accounts",
    "mute": "ghostwatch.cli.accounts:mute",
    "unmute": "ghostwatch.cli.accounts:unmute",
    "note": "ghostwatch.cli.accounts:note",
    "auth": "ghostwatch.cli.auth:auth",
    "health": "ghostwatch.cli.health:health",
    "sandbox": "ghostwatch.cli.playground:sandbox",
    "templates": "ghostwatch.cli.templates:templates",
}


@click.group(cls=Interruptible, lazy=_LAZY_COMMANDS)
@click.version_option(package_name="ghostwatch", message="ghostwatch %(version)s")
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """ghostwatch: finds the conversations where a prospect went silent."""
    logs.configure(log_level)


if __name__ == "__main__":  # pragma: no cover
    main()
