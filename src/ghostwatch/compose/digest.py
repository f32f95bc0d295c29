"""The morning digest: one email, text and HTML, built from the same decisions.

First a notice if the account's cycles failed since the last digest (`Trouble`,
digest_notice.py). Sections (the issue and docs/rules.md): **Needs you today** (replies
rescued from Junk first, then the drafts written, missed meetings, bounces, held
meetings with no next one booked, and due conversations without a new draft),
**Waiting** (silent but not yet due, by how long; out-of-office snoozes), **Let go**
since the last digest, and **Your numbers** over the last four weeks.

The module turns a `Plan` into small display values (`Item`, `Group`, `WeekRow`: the
sections in digest_sections.py and digest_numbers.py) and hands the same context to
`digest.html` and `digest.txt`, so the two parts cannot drift apart in content.
"""

from __future__ import annotations

import email.message
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from ghostwatch.compose.digest_notice import left_out, notice, out_of_date
from ghostwatch.compose.digest_numbers import SMALL_SAMPLE, weeks, weeks_title
from ghostwatch.compose.digest_parts import Dates, fit, plural
from ghostwatch.compose.digest_sections import is_missed, let_go, needs_you, waiting
from ghostwatch.compose.templating import environment, render
from ghostwatch.mail import outgoing
from ghostwatch.model.decisions import Plan, State
from ghostwatch.model.mail import Address
from ghostwatch.model.outbox import Digest, Draft, OutdatedDraft, Sender, Skipped
from ghostwatch.model.sync import Trouble


def build_digest(
    plan: Plan,
    drafts: Sequence[Draft],
    sender: Sender,
    tz: tzinfo,
    since: datetime | None = None,
    links: Mapping[str, str] | None = None,
    templates: Path | None = None,
    trouble: Trouble | None = None,
    skipped: Sequence[Skipped] = (),
    outdated: Sequence[OutdatedDraft] = (),
    written: bool = True,
    draft_links: Mapping[str, str] | None = None,
) -> Digest:
    """Render the digest for `plan`; `since` is the previous digest's time (default:
    a day before `plan.now`), so each let-go conversation is shown exactly once.
    `trouble`: the account's failed cycles since then, shown first; `skipped`: the
    items this cycle left out (poison), listed under it; `outdated`: drafts the user
    edited whose conversation no longer wants them, listed at the top. `written=False`
    (a preview: `ghostwatch digest`) says what is due instead of what was done.
    `draft_links`: step key → where that draft opens in the user's mail (each draft's
    line links there; none for a mailbox with no web client)."""
    context = _context(plan, drafts, sender, tz, since, links or {}, written, draft_links) | {
        "notice": notice(trouble, Dates(tz, plan.now)),
        "skipped": left_out(skipped),
        "outdated": out_of_date(outdated),
    }
    env = environment(templates if templates is not None else sender.templates)
    return Digest(
        subject=context["subject"],
        text=render(env, "digest.txt", context),
        html=render(env, "digest.html", context),
    )


def digest_message(
    digest: Digest, sender: Sender, *, at: datetime | None = None, message_id: str | None = None
) -> email.message.EmailMessage:
    """The digest as a MIME message from the user to the user; every header goes through
    `mail.outgoing`.

    `at` (default: the clock) is the digest's time; it goes into Date and into
    X-Ghostwatch-Digest, so the next run can find the previous digest in the mailbox
    and use its time as `since`. `message_id` (no brackets; default: a random one) is
    the id the cycle can look the digest up by.
    """
    when = at or datetime.now(UTC)
    message = outgoing.new_message()
    me = Address(sender.address, sender.name)
    outgoing.put_addresses(message, "From", [me])
    outgoing.put_addresses(message, "To", [me])
    outgoing.put(message, "Subject", digest.subject)
    outgoing.put(message, "Date", format_datetime(when))
    domain = sender.address.rpartition("@")[2]
    outgoing.put_ids(message, "Message-ID", [message_id or make_msgid("digest", domain=domain)])
    outgoing.put(message, "X-Ghostwatch-Digest", when.isoformat())
    # Plain text first: multipart/alternative lists parts from least to most preferred.
    message.set_content(digest.text, subtype="plain", charset="utf-8")
    message.add_alternative(digest.html, subtype="html", charset="utf-8")
    return message


# --- context -------------------------------------------------------------------------


def _context(
    plan: Plan,
    drafts: Sequence[Draft],
    sender: Sender,
    tz: tzinfo,
    since: datetime | None,
    links: Mapping[str, str],
    written: bool = True,
    draft_links: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    fmt = Dates(tz, plan.now)
    start = since if since is not None else plan.now - timedelta(days=1)
    needs = list(needs_you(plan, drafts, links, fmt, written, draft_links or {}))
    waits = list(waiting(plan, links, fmt))
    fitted = fit([*needs, *waits, let_go(plan, start, links, fmt)])
    needs, waits, gone = fitted[: len(needs)], fitted[len(needs) : -1], fitted[-1]
    counts = _counts(plan, drafts)
    return {
        "subject": _subject(counts, fmt.day(plan.now), written),
        "today": fmt.long_day(plan.now),
        "greeting": sender.name.split()[0] if sender.name.strip() else "there",
        "summary": _summary(counts, written),
        "needs": needs,
        "waiting": waits,
        "let_go": gone,
        "since": fmt.day_time(start),
        "weeks": weeks(plan.weeks),
        "weeks_title": weeks_title(plan.weeks),
        "small_sample": SMALL_SAMPLE,
    }


# --- subject and summary ---------------------------------------------------------------


def _counts(plan: Plan, drafts: Sequence[Draft]) -> dict[str, int]:
    return {
        "drafts": len(drafts),
        "rescued": len(plan.junk_replies),
        "missed": sum(1 for m in plan.meetings if is_missed(m)),
        "bounced": sum(1 for c in plan.conversations if c.state == State.BOUNCED),
    }


def _count_phrases(counts: Mapping[str, int], written: bool = True) -> list[str]:
    due, junk = ("", "rescued from") if written else (" due", "in")
    phrases = [
        plural(counts["drafts"], "draft") + due if counts["drafts"] else "",
        (
            f"{plural(counts['rescued'], 'reply', 'replies')} {junk} Junk"
            if counts["rescued"]
            else ""
        ),
        plural(counts["missed"], "missed meeting") if counts["missed"] else "",
        plural(counts["bounced"], "bounce") if counts["bounced"] else "",
    ]
    return [p for p in phrases if p]


def _subject(counts: Mapping[str, int], day: str, written: bool = True) -> str:
    phrases = _count_phrases(counts, written)
    what = ", ".join(phrases) if phrases else "nothing needs you today"
    return f"ghostwatch{'' if written else ' (preview)'}: {what} — {day}"


def _summary(counts: Mapping[str, int], written: bool = True) -> str:
    phrases = _count_phrases(counts, written)
    return " · ".join(phrases) if phrases else "Nothing needs you today."
