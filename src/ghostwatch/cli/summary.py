"""What `ghostwatch run` tells a person on stdout (the log stays on stderr): after
`--once`, a line per account ("sandbox: 5 drafts, 1 rescued from Junk, digest
delivered"); at the daemon's start, each account's next poll and why it is not now
("outside working hours until Mon 07 Dec 08:00"), since polls outside working hours are
silent by design. Counts and times only: never an address, a subject or a token."""

from __future__ import annotations

from datetime import datetime

from ghostwatch.config import Settings
from ghostwatch.service.cycle import CycleReport
from ghostwatch.service.daemon import Daemon

WHEN = "%a %d %b %H:%M"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def cycle_line(name: str, report: CycleReport | None, dry_run: bool) -> str:
    """One account's `run --once`, in words."""
    if report is None:
        return f"{name}: failed: the log says why, `ghostwatch accounts` shows the last error"
    if dry_run:
        parts = [f"{_plural(report.drafts_due, 'draft')} due (dry run: nothing written)"]
    else:
        parts = [_plural(report.drafts_created, "draft")] if report.drafts_created else []
    if report.drafts_reconciled:
        parts.append(f"{report.drafts_reconciled} found written by an earlier run")
    # A draft taken back (muted, replied, bounced) is something done to the mailbox: a
    # summary saying "nothing new" after `ghostwatch mute` would hide that it worked.
    if report.drafts_withdrawn:
        parts.append(f"{_plural(report.drafts_withdrawn, 'draft')} withdrawn (no longer needed)")
    if report.outdated:
        parts.append(f"{_plural(len(report.outdated), 'edited draft')} out of date (in the digest)")
    if report.rescued:
        parts.append(f"{report.rescued} rescued from Junk")
    if report.digest_delivered:
        parts.append("digest delivered")
    if report.skipped:
        parts.append(f"{_plural(len(report.skipped), 'item')} left out (named in the digest)")
    if report.errors:
        parts.append(f"{_plural(len(report.errors), 'action')} failed: {report.errors[0]}")
    return f"{name}: {', '.join(parts) or 'nothing new'}"


def once_lines(settings: Settings, reports: dict[str, CycleReport | None]) -> list[str]:
    dry = {a.name: a.dry_run for a in settings.accounts}
    return [cycle_line(name, report, dry.get(name, False)) for name, report in reports.items()]


def start_lines(daemon: Daemon, now: datetime) -> list[str]:
    """The daemon's plan as it starts: every account, its next poll and why."""
    schedule = daemon.settings.schedule
    health = daemon.settings.health
    where = f"health on {health.address}" if health.enabled else "no health server"
    lines = [f"ghostwatch running: {_plural(len(daemon.runners), 'account')}, {where}"]
    for runner in daemon.runners:
        account = runner.account
        when, why = runner.next_work(now)
        if why is None:
            first = f"first poll within {schedule.jitter_seconds} s"
            until = account.working_hours.end.strftime("%H:%M")
            # :g, since `mail_minutes: 5` in a file validates to 5.0 (the field takes 0.5).
            poll = f"{first}, then every {schedule.mail_minutes:g} min until {until}"
        else:
            poll = f"next poll {when.strftime(WHEN)}: {why} until then"
        digest = f"digest at {account.digest_time:%H:%M}" if account.gets_digest else "no digest"
        zone = account.time_zone
        lines.append(f"  {account.name} ({account.provider}, {zone}): {poll}; {digest}")
    lines.append("Ctrl-C or SIGTERM stops it; the log is on stderr.")
    return lines
