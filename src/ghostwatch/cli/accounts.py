"""What an admin asks of the store about the accounts: `accounts` (each one's sign-in,
last cycle and failures) and what the next cycle does with one conversation: `mute`,
`unmute` (a conversation, or a person's opt-out) and `note` (why it matters, high value).

Registered in cli/main.py one line each; the settings come from `settings_options`
(cli/service.py), built at the entry point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ghostwatch import config
from ghostwatch.cli import terminal
from ghostwatch.cli.errors import user_errors
from ghostwatch.cli.service import settings_options


@contextmanager
def _store(settings: config.Settings) -> Iterator[Any]:
    from ghostwatch.service.app import open_store

    with user_errors(), open_store(settings) as store:
        yield store


@click.command(name="accounts")
@settings_options
def accounts(settings: config.Settings) -> None:
    """Each account's sign-in, last cycle and last error (from the store)."""
    from ghostwatch.service.accounts import statuses
    from ghostwatch.service.app import settings_vault

    with _store(settings) as store:
        rows = statuses(settings, store, settings_vault(settings, store))
    for row in rows:
        state = "" if row.enabled else " (disabled)"
        terminal.echo(f"{row.name}: {row.provider}{state}")
        click.echo(f"  sign-in: {row.auth}")
        last = row.last_cycle.isoformat(timespec="seconds") if row.last_cycle else "never"
        click.echo(f"  last cycle: {last}")
        terminal.echo(f"  last error: {row.last_error or 'none'}")
        if row.trouble is not None:
            since = row.trouble.since.isoformat(timespec="seconds")
            until = "reported in the next digest" if row.digest else "until a cycle succeeds"
            click.echo(f"  failing: {row.trouble.failures} cycle(s) since {since}, {until}")


account_option = click.option(
    "--account", "account_name", default=None, help="The account (default: the only one)."
)


def _change(
    settings: config.Settings, account_name: str | None, conversation: str, **what: Any
) -> None:
    from ghostwatch.service.accounts import pick_account, set_conversation

    with _store(settings) as store:
        account = pick_account(settings, account_name)
        set_conversation(store, account, conversation, **what)


@click.command(name="mute")
@settings_options
@click.argument("conversation")
@account_option
def mute(settings: config.Settings, conversation: str, account_name: str | None) -> None:
    """Leave CONVERSATION alone: no drafts, no digest entry, until unmuted."""
    _change(settings, account_name, conversation, muted=True)
    click.echo(f"muted {conversation}")


@click.command(name="unmute")
@settings_options
@click.argument("conversation")
@account_option
def unmute(settings: config.Settings, conversation: str, account_name: str | None) -> None:
    """Follow CONVERSATION up again; or, given an ADDRESS, lift that person's opt-out
    ("please remove me"): their conversations are followed up as usual again."""
    if "@" not in conversation:
        _change(settings, account_name, conversation, muted=False)
        click.echo(f"unmuted {conversation}")
        return
    from ghostwatch.clock import utc_now
    from ghostwatch.service.accounts import lift_opt_out, pick_account

    with _store(settings) as store:
        account = pick_account(settings, account_name)
        address = lift_opt_out(store, account, conversation, utc_now())
    terminal.echo(f"unmuted {address}: they may be contacted again")


@click.command(name="note")
@settings_options
@click.argument("conversation")
@click.argument("text", required=False, default="")
@account_option
@click.option(
    "--high-value/--not-high-value",
    "high_value",
    default=None,
    help="Mark the deal high-value (escalation suggestions in the digest), or unmark it.",
)
def note(
    settings: config.Settings,
    conversation: str,
    text: str,
    account_name: str | None,
    high_value: bool | None,
) -> None:
    """Why CONVERSATION matters: TEXT feeds the draft's "reason they cared" line. An empty
    TEXT clears the note, unless only --high-value/--not-high-value is being changed."""
    keep = text == "" and high_value is not None
    _change(
        settings, account_name, conversation, note=None if keep else text, high_value=high_value
    )
    click.echo(_noted(conversation, text, high_value))


def _noted(conversation: str, text: str, high_value: bool | None) -> str:
    """What `note` changed, in a sentence (not Python's True or False)."""
    if high_value is None:
        return f"noted {conversation}" if text else f"cleared the note on {conversation}"
    valued = (
        "now marked high value: shown first in the digest, with escalation suggested"
        if high_value
        else "no longer marked high value"
    )
    return f"noted {conversation}; it is {valued}" if text else f"{conversation} is {valued}"
