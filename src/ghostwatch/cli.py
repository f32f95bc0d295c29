"""The command line. User mistakes end in one line on stderr and exit code 2."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ghostwatch import logs, parse, report
from ghostwatch.cli_errors import user_errors
from ghostwatch.cli_lazy import LazyGroup
from ghostwatch.compose.digest import build_digest, digest_message
from ghostwatch.compose.values import Draft, Sender
from ghostwatch.engine.cadence import BusinessCalendar, holiday_dates
from ghostwatch.engine.classify import classify
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import UserError
from ghostwatch.model import Folder, plausible
from ghostwatch.preview import compose_drafts, sender_from_mail
from ghostwatch.providers.maildir import MaildirMailbox
from ghostwatch.providers.port import MailSource
from ghostwatch.scan import Scan, run_scan


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a tzdata folder
        raise click.BadParameter(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC",
            param_hint="--tz",
        ) from None


def _now(value: str | None, zone: ZoneInfo, option: str = "--now") -> datetime:
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


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr, only for a person watching a terminal."""
    if total is None or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))


# Commands whose modules pull in the service, auth or health stack load when used.
_LAZY_COMMANDS = {
    "config": "ghostwatch.cli_service:config_group",
    "init": "ghostwatch.cli_service:init",
    "run": "ghostwatch.cli_service:run",
    "accounts": "ghostwatch.cli_service:accounts",
    "mute": "ghostwatch.cli_service:mute",
    "unmute": "ghostwatch.cli_service:unmute",
    "note": "ghostwatch.cli_service:note",
    "auth": "ghostwatch.cli_auth:auth",
    "health": "ghostwatch.cli_health:health",
    "sandbox": "ghostwatch.cli_sandbox:sandbox",
}


@click.group(cls=LazyGroup, lazy=_LAZY_COMMANDS)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """ghostwatch: finds the conversations where a prospect went silent."""
    logs.configure(log_level)


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
    """--maildir, --me, --now, --tz, --country, --mute and --through → `MailboxArgs`."""
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
            "--through",
            type=click.Choice(["maildir", "gmail", "outlook"]),
            default="maildir",
            show_default=True,
            help="Read DIR directly, or load it into a local Gmail (or Microsoft Graph) "
            "sandbox and read it through the real Gmail (or Outlook) provider over HTTP.",
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
        through: str,
        **rest: Any,
    ) -> None:
        zone = _zone(tz_name)
        identity = _identity(me)
        rules = Rules(
            me=identity,
            calendar=_calendar(zone, country),
            muted=frozenset(m.strip() for m in mute.split(",") if m.strip()),
        )
        address = me.split(",")[0].strip().lower()
        now = _now(now_text, zone)
        with contextlib.ExitStack() as stack, user_errors():
            source = _source(stack, maildir, through, address)
            command(MailboxArgs(source, rules, zone, now, address), **rest)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _source(
    stack: contextlib.ExitStack[bool | None], maildir: Path, through: str, address: str
) -> MailSource:
    """The Maildir itself, or the same mail served by a Gmail or Graph sandbox it seeds."""
    mailbox = MaildirMailbox(maildir)
    if through == "maildir":
        return mailbox
    # Imported here: the sandboxes and Google's client load slowly and a plain scan skips them.
    from ghostwatch.cli_through import sandbox_source

    return sandbox_source(stack, maildir, through, address)


def _scan(args: MailboxArgs) -> Scan:
    with user_errors():
        source = args.mailbox
        # Only a Maildir can be counted up front, and a bar only helps a person watching.
        watched = sys.stderr.isatty()
        total = source.count() if watched and isinstance(source, MaildirMailbox) else None
        with _progress(total, "reading mail") as tick:
            return run_scan(args.mailbox, args.rules, args.now, tick)


@main.command()
@mailbox_options
@click.option("--all", "show_all", is_flag=True, help="Also list conversations not tracked.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract of DESIGN.md §2.")
def scan(args: MailboxArgs, show_all: bool, as_json: bool) -> None:
    """Decide, for every conversation and meeting, what (if anything) is due."""
    plan = _scan(args).plan
    if as_json:
        _emit_json(report.plan_json(plan, args.zone, show_all))
    else:
        click.echo(report.plan_table(plan, args.zone, show_all))


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


def _drafts(
    args: MailboxArgs, signature: str | None, templates: Path | None
) -> tuple[Scan, Sender, list[Draft]]:
    done = _scan(args)
    sender = sender_from_mail(done, args.rules.me, args.address, signature)
    with user_errors():
        drafts = compose_drafts(done, args.mailbox, sender, args.zone, templates=templates)
    return done, sender, drafts


@main.command()
@mailbox_options
@compose_options
@click.option("--json", "as_json", is_flag=True, help="One JSON list of drafts.")
def preview(
    args: MailboxArgs, signature: str | None, templates: Path | None, as_json: bool
) -> None:
    """Show the drafts ghostwatch would write now, without touching the mailbox."""
    _, _, drafts = _drafts(args, signature, templates)
    if as_json:
        _emit_json([report.draft_json(d) for d in drafts])
    else:
        click.echo(report.drafts_text(drafts) if drafts else "No drafts are due.")


@main.command()
@mailbox_options
@compose_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the digest's HTML here.",
)
@click.option(
    "--eml",
    "eml",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the whole message (.eml).",
)
@click.option(
    "--since",
    "since_text",
    default=None,
    help="The previous digest's time (ISO 8601): 'let go' lists what happened after it.",
)
def digest(
    args: MailboxArgs,
    signature: str | None,
    templates: Path | None,
    out: Path,
    eml: Path | None,
    since_text: str | None,
) -> None:
    """Write the morning digest: what needs you today, what waits, your numbers."""
    since = _now(since_text, args.zone, "--since") if since_text else None
    done, sender, drafts = _drafts(args, signature, templates)
    made = build_digest(done.plan, drafts, sender, args.zone, since=since, templates=templates)
    with user_errors():
        _write(out, made.html.encode())
        if eml is not None:
            _write(eml, bytes(digest_message(made, sender, at=done.plan.now)))
    click.echo(f"digest written to {out}" + (f" and {eml}" if eml else ""), err=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from error


@main.command(name="classify")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, per line.")
def classify_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Say whether each message is human, an out-of-office, an auto-ack or a bounce."""
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise click.UsageError(f"cannot read {path}: {error.strerror}") from error
        found = classify(parse.parse_message(raw, path.name, Folder.INBOX))
        row = report.classification_json(str(path), found)
        if as_json:
            _emit_json(row)
        else:
            back = f" (back {row['return_date']})" if row["return_date"] else ""
            failed = (
                f" failed: {', '.join(row['failed_recipients'])}" if found.failed_recipients else ""
            )
            signals = "; ".join(found.signals) or "no signals"
            click.echo(f"{path}: {row['class']}{back}{failed} — {signals}")


@main.group()
def db() -> None:
    """The state database: accounts, the action ledger, conversation snapshots."""


@db.command(name="upgrade")
@click.option(
    "--database-url",
    envvar="GHOSTWATCH_DATABASE_URL",
    default="sqlite:///ghostwatch.db",
    show_default=True,
    help="sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB "
    "(env GHOSTWATCH_DATABASE_URL).",
)
def db_upgrade(database_url: str) -> None:
    """Create or migrate the database's tables to this version's schema."""
    # Imported here: SQLAlchemy and Alembic take a while to load and only these commands need them.
    from ghostwatch.store import Store

    with user_errors(), Store.open(database_url) as store:
        store.upgrade()
        click.echo(f"database at revision {store.revision()} (head)")


if __name__ == "__main__":  # pragma: no cover
    main()
