"""The command line. User mistakes end in one line on stderr and exit code 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ghostwatch import logs, parse, report
from ghostwatch.engine.cadence import BusinessCalendar, holiday_dates
from ghostwatch.engine.classify import classify
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import UserError
from ghostwatch.model import Folder, plausible
from ghostwatch.providers.maildir import MaildirMailbox
from ghostwatch.scan import scan_maildir

EXIT_USAGE = 2


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a tzdata folder
        raise click.BadParameter(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC",
            param_hint="--tz",
        ) from None


def _now(value: str | None, zone: ZoneInfo) -> datetime:
    if value is None:
        return datetime.now(zone)
    example = "write e.g. 2026-11-20T15:00:00+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time: {example}", param_hint="--now"
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=zone)
    if not plausible(when):  # checked on the local reading: no conversion can overflow
        raise click.BadParameter(
            f"{value!r} is not a plausible time: {example}", param_hint="--now"
        )
    return when


def _identity(value: str) -> Identity:
    addresses = [a.strip() for a in value.split(",") if a.strip()]
    bad = [a for a in addresses if "@" not in a or a.startswith("@") or a.endswith("@")]
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
def _user_errors() -> Iterator[None]:
    """Turn our own `UserError`s into click's one-line message with exit code 2."""
    try:
        yield
    except UserError as error:
        raise click.UsageError(str(error)) from error


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


@click.group()
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """ghostwatch: finds the conversations where a prospect went silent."""
    logs.configure(log_level)


@main.command()
@click.option(
    "--maildir",
    "maildir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Root of a Maildir++ tree (INBOX at the root, .Sent, .Junk, ...).",
)
@click.option("--me", "me", required=True, help="Your address(es), comma-separated.")
@click.option("--now", "now_text", default=None, help="Decide as of this ISO 8601 time.")
@click.option(
    "--tz", "tz_name", default="UTC", show_default=True, help="Your time zone, for business days."
)
@click.option("--country", default=None, help="Skip this country's public holidays (ISO code).")
@click.option("--mute", default="", help="Conversation ids to leave alone, comma-separated.")
@click.option("--all", "show_all", is_flag=True, help="Also list conversations not tracked.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract of DESIGN.md §2.")
def scan(
    maildir: Path,
    me: str,
    now_text: str | None,
    tz_name: str,
    country: str | None,
    mute: str,
    show_all: bool,
    as_json: bool,
) -> None:
    """Decide, for every conversation and meeting, what (if anything) is due."""
    zone = _zone(tz_name)
    rules = Rules(
        me=_identity(me),
        calendar=_calendar(zone, country),
        muted=frozenset(m.strip() for m in mute.split(",") if m.strip()),
    )
    now = _now(now_text, zone)
    with _user_errors():
        mailbox = MaildirMailbox(maildir)
        total = mailbox.count() if sys.stderr.isatty() else None
        with _progress(total, "reading mail") as tick:
            plan, _ = scan_maildir(mailbox, rules, now, tick)
    if as_json:
        _emit_json(report.plan_json(plan, zone, show_all))
    else:
        click.echo(report.plan_table(plan, zone, show_all))


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


if __name__ == "__main__":  # pragma: no cover
    main()
