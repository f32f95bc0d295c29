"""What the mailbox commands share: the options that name a Maildir, who I am and when,
turned into one `MailboxArgs`; the scan and drafts they all start from; JSON output."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ghostwatch.cli import progress, terminal
from ghostwatch.cli.errors import user_errors
from ghostwatch.compose import templating
from ghostwatch.engine.cadence import BusinessCalendar, holiday_dates
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import LOOK_BACK, Rules
from ghostwatch.model.mail import plausible
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.providers.port import MailSource
from ghostwatch.service.pipeline import Scan, compose_all, run_scan, sender_from_mail


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a tzdata folder
        raise click.BadParameter(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC",
            param_hint="--tz",
        ) from None


def parse_now(value: str | None, zone: ZoneInfo, option: str = "--now") -> datetime:
    if value is None:
        return datetime.now(zone)
    example = "write e.g. 2026-11-20T15:00:00+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time: {example}", param_hint=option
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=zone)
    if not plausible(when):  # checked on the local reading: no conversion can overflow
        raise click.BadParameter(f"{value!r} is not a plausible time: {example}", param_hint=option)
    return when


# One local part, one @, one domain with a dot or not (intranets), no spaces or brackets.
_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")


def _identity(value: str) -> Identity:
    addresses = [a.strip() for a in value.split(",") if a.strip()]
    bad = [a for a in addresses if not _ADDRESS.fullmatch(a)]
    if not addresses or bad:
        raise click.BadParameter(
            f"{', '.join(bad) or value!r} is not an email address: "
            "give your own address(es), comma-separated, e.g. --me you@company.com",
            param_hint="--me",
        )
    return Identity.of(addresses)


def _calendar(zone: ZoneInfo, country: str | None) -> BusinessCalendar:
    try:
        return BusinessCalendar(zone, holiday_dates(country))
    except NotImplementedError:
        raise click.BadParameter(
            f"no holiday calendar for {country!r}: use an ISO 3166 country code such as US or DE",
            param_hint="--country",
        ) from None


def emit_json(payload: Any) -> None:
    click.echo(terminal.json_text(payload))


@dataclass(frozen=True)
class MailboxArgs:
    """What every command that scans a Maildir is told: where, who, when."""

    mailbox: MailSource
    rules: Rules
    zone: ZoneInfo
    now: datetime
    address: str
    """The first --me address: drafts and the digest are from and to it."""


def mailbox_options(command: Callable[..., None]) -> Callable[..., None]:
    """--maildir, --me, --now, --tz, --country, --mute, --look-back-days and --through →
    `MailboxArgs`."""
    options = [
        click.option(
            "--maildir",
            "maildir",
            required=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Root of a Maildir++ tree (INBOX at the root, .Sent, .Junk, ...).",
        ),
        click.option("--me", "me", required=True, help="Your address(es), comma-separated."),
        click.option("--now", "now_text", default=None, help="Decide as of this ISO 8601 time."),
        click.option(
            "--tz",
            "tz_name",
            default="UTC",
            show_default=True,
            help="Your time zone, for business days.",
        ),
        click.option(
            "--country", default=None, help="Skip this country's public holidays (ISO code)."
        ),
        click.option(
            "--mute", default="", help="Conversation ids to leave alone, comma-separated."
        ),
        click.option(
            "--look-back-days",
            "look_back_days",
            type=click.IntRange(1, 3650),
            default=LOOK_BACK.days,
            show_default=True,
            help="Conversations quiet for longer are not followed up (the horizon); "
            "--through gmail reads this far back, as the service's first sync does.",
        ),
        click.option(
            "--through",
            type=click.Choice(["maildir", "gmail", "outlook", "imap"]),
            default="maildir",
            show_default=True,
            help="Read DIR directly, or load it into a local Gmail (or Microsoft Graph) "
            "sandbox and read it through the real Gmail (or Outlook) provider over HTTP, "
            "or into a real Dovecot (and Radicale) read through the IMAP provider.",
        ),
    ]

    @functools.wraps(command)
    def wrapper(
        maildir: Path,
        me: str,
        now_text: str | None,
        tz_name: str,
        country: str | None,
        mute: str,
        look_back_days: int,
        through: str,
        **rest: Any,
    ) -> None:
        zone = parse_zone(tz_name)
        identity = _identity(me)
        rules = Rules(
            me=identity,
            calendar=_calendar(zone, country),
            muted=frozenset(m.strip() for m in mute.split(",") if m.strip()),
            look_back=timedelta(days=look_back_days),
        )
        address = me.split(",")[0].strip().lower()
        now = parse_now(now_text, zone)
        since = now - timedelta(days=look_back_days)
        with contextlib.ExitStack() as stack, user_errors():
            source = _source(stack, maildir, through, address, since)
            command(MailboxArgs(source, rules, zone, now, address), **rest)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _source(
    stack: contextlib.ExitStack[bool | None],
    maildir: Path,
    through: str,
    address: str,
    since: datetime,
) -> MailSource:
    """The Maildir itself, or the same mail served by a sandbox (or a real IMAP server);
    a synced provider's first sync reads from `since` (the look-back), as the daemon's."""
    mailbox = MaildirMailbox(maildir)
    if through == "maildir":
        return mailbox
    # Imported here: the sandboxes and Google's client load slowly and a plain scan skips them.
    from ghostwatch.cli.playground import sandbox_source

    return sandbox_source(stack, maildir, through, address, since)


def scanned(args: MailboxArgs) -> Scan:
    with user_errors():
        source = args.mailbox
        # Only a Maildir can be counted up front, and a bar only helps a person watching.
        watched = sys.stderr.isatty()
        total = source.count() if watched and isinstance(source, MaildirMailbox) else None
        with progress.bar(total, "reading mail") as tick:
            return run_scan(args.mailbox, args.rules, args.now, tick)


def compose_options(command: Callable[..., None]) -> Callable[..., None]:
    """--signature and --templates: how drafts read."""
    command = click.option(
        "--signature", default=None, help="Text to sign drafts with (default: your name)."
    )(command)
    return click.option(
        "--templates",
        default=None,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="A folder of templates that replace the built-in ones.",
    )(command)


def drafts_for(
    args: MailboxArgs, signature: str | None, templates: Path | None
) -> tuple[Scan, Sender, list[Draft]]:
    with user_errors():  # a mistyped variable is said before minutes of reading mail
        templating.check(templates)
    done = scanned(args)
    sender = sender_from_mail(done, args.rules.me, args.address, signature)
    with user_errors():
        composed = compose_all(done, args.mailbox, sender, args.zone, templates=templates)
    for item in composed.skipped:
        terminal.echo(
            f"left out: the {item.kind} “{terminal.cell(item.title)}”: {item.reason}", err=True
        )
    return done, sender, composed.drafts
