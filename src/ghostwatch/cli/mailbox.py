"""The commands that read a Maildir and print what ghostwatch decides: `scan`, `preview`,
`digest`, and `classify` for single messages. They touch no mailbox."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import click

from ghostwatch.cli import report, terminal
from ghostwatch.cli.errors import user_errors
from ghostwatch.cli.options import (
    MailboxArgs,
    compose_options,
    drafts_for,
    emit_json,
    mailbox_options,
    parse_now,
    parse_zone,
    scanned,
)
from ghostwatch.compose.digest import build_digest, digest_message
from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.classify.intent import message_intent
from ghostwatch.engine.classify.verdict import classify
from ghostwatch.errors import UserError
from ghostwatch.mail import mime, parse
from ghostwatch.model.decisions import Classification
from ghostwatch.model.mail import Folder, Message


@click.command()
@mailbox_options
@click.option("--all", "show_all", is_flag=True, help="Also list conversations not tracked.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON contract of docs/scan-contract.md."
)
def scan(args: MailboxArgs, show_all: bool, as_json: bool) -> None:
    """Decide, for every conversation and meeting, what (if anything) is due."""
    plan = scanned(args).plan
    if as_json:
        emit_json(report.plan_json(plan, args.zone, show_all))
    else:
        terminal.echo(report.plan_table(plan, args.zone, show_all))


@click.command()
@mailbox_options
@compose_options
@click.option("--json", "as_json", is_flag=True, help="One JSON list of drafts.")
def preview(
    args: MailboxArgs, signature: str | None, templates: Path | None, as_json: bool
) -> None:
    """Show the drafts ghostwatch would write now, without touching the mailbox."""
    _, _, drafts = drafts_for(args, signature, templates)
    if as_json:
        emit_json([report.draft_json(d) for d in drafts])
    else:
        terminal.echo(report.drafts_text(drafts) if drafts else "No drafts are due.")


@click.command()
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
    since = parse_now(since_text, args.zone, "--since") if since_text else None
    done, sender, drafts = drafts_for(args, signature, templates)
    with user_errors():
        # Nothing is written to the mailbox here: the digest says what is due, not done.
        made = build_digest(
            done.plan, drafts, sender, args.zone, since=since, templates=templates, written=False
        )
        _write(out, made.html.encode())
        if eml is not None:
            _write(eml, bytes(digest_message(made, sender, at=done.plan.now)))
    click.echo(f"digest written to {out}" + (f" and {eml}" if eml else ""), err=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from error


@click.command(name="classify")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, per line.")
@click.option(
    "--tz",
    "tz_name",
    default="UTC",
    show_default=True,
    help="Your time zone: a deferral's date is read in it ('next quarter' from which day).",
)
def classify_command(files: tuple[Path, ...], as_json: bool, tz_name: str) -> None:
    """Say whether each message is human, an out-of-office, an auto-ack or a bounce, and
    whether a person's reply asks to be left alone or contacted later."""
    calendar = BusinessCalendar(tz=parse_zone(tz_name))
    refused = 0
    for path in files:
        try:
            message = _read_message(path)
        except UserError as error:
            # One file that is no message, or cannot be read, gets its own line; the
            # others are still classified (one bad item never stops the rest).
            terminal.echo(f"Error: {error}", err=True)
            refused += 1
            continue
        found = classify(message)
        row = report.classification_json(str(path), found, message_intent(message, found, calendar))
        if as_json:
            emit_json(row)
        else:
            terminal.echo(_classification_line(path, row, found))
    if refused:
        raise click.exceptions.Exit(2)


def _read_message(path: Path) -> Message:
    try:
        with path.open("rb") as file:
            # Headers and the first parts: what lies beyond the cap only costs time.
            raw = file.read(mime.MAX_BODY_BYTES)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from error
    _a_message(path, raw)
    return parse.parse_message(raw, path.name, Folder.INBOX)


def _classification_line(path: Path, row: dict[str, Any], found: Classification) -> str:
    intent = f" [{row['intent']}" + (f" until {row['until']}" if row["until"] else "")
    intent = intent + "]" if row["intent"] else ""
    back = f" (back {row['return_date']})" if row["return_date"] else ""
    failed = f" failed: {', '.join(row['failed_recipients'])}" if found.failed_recipients else ""
    delayed = f" delayed: {', '.join(found.delayed_recipients)}" if found.delayed_recipients else ""
    signals = "; ".join(found.signals) or "no signals"
    # The signals quote the message's own words: one line, whatever they held.
    return terminal.cell(f"{path}: {row['class']}{intent}{back}{failed}{delayed} — {signals}")


def _a_message(path: Path, raw: bytes) -> None:
    """Refuse what is not a message at all: classified, an empty file or random bytes
    came out "human" (no signal of a machine), which reads as a verdict (issue 16)."""
    if not raw.strip():
        raise UserError(f"{path} is empty: give a message file as a mail client saves it (.eml)")
    # RFC 5322 §2.2: a message starts with header fields; none at all is not a message.
    if not BytesParser(policy=compat32).parsebytes(raw, headersonly=True).keys():
        raise UserError(
            f"{path} is not an email message (no header fields at its start): give a "
            "message file as a mail client saves it (.eml)"
        )
