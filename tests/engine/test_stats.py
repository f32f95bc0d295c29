"""The digest's weekly numbers: started, answered, gone silent, time to first answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import scan_maildir
from tests.support.builder import ME, Mailbox, when


def test_weekly_numbers_count_by_the_week_of_my_first_message(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    # Week of Mon 2 Nov: two started, one answered after 6 hours, one silent.
    first = box.add("Sent", ME, "Kathy <kathy@contoso.example>", "Proposal", "2026-11-02 10:00")
    box.add(
        "INBOX",
        "Kathy <kathy@contoso.example>",
        ME,
        "Re: Proposal",
        "2026-11-02 16:00",
        reply_to=first,
    )
    box.add("Sent", ME, "Raj <raj@tailspin.example>", "Pilot", "2026-11-03 10:00")
    # Week of Mon 16 Nov: one started yesterday, still within its first wait.
    box.add("Sent", ME, "Lee <lee@northwind.example>", "Intro", "2026-11-19 10:00")
    plan, _ = scan_maildir(
        MaildirMailbox(box.root), Rules(Identity.of([ME])), when("2026-11-20 10:00")
    )
    weeks = {w.week_start: w for w in plan.weeks}
    assert list(weeks) == [
        date(2026, 10, 26),
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]
    nov2 = weeks[date(2026, 11, 2)]
    assert (nov2.started, nov2.replied, nov2.went_silent) == (2, 1, 1)
    assert nov2.median_hours_to_reply == 6.0
    nov16 = weeks[date(2026, 11, 16)]
    assert (nov16.started, nov16.replied, nov16.went_silent) == (1, 0, 0)
    assert weeks[date(2026, 10, 26)].median_hours_to_reply is None
