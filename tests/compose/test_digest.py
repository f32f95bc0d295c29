"""The morning digest: sections, items, the numbers table, and the MIME message."""

from __future__ import annotations

import email
import email.policy
import os
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from ghostwatch.compose.digest import build_digest, digest_message
from ghostwatch.compose.digest_parts import IN_ALL, PER_GROUP
from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import (
    Action,
    ConversationDecision,
    Plan,
    State,
    Suggestion,
    WeekStats,
)
from ghostwatch.model.mail import Address
from ghostwatch.model.outbox import Digest, Draft, Sender
from ghostwatch.model.sync import Trouble
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import scan_maildir
from tests.support.paths import REPO

EXAMPLES = REPO / "examples" / "mailbox"
LONDON = ZoneInfo("Europe/London")
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")
ALEX = Sender("Alex Morgan", "alex@ghostwatch.example")
# The Alpine Ski House conversation was let go on Wed 18 Nov 10:00 (examples/README.md).
BEFORE_LET_GO = datetime.fromisoformat("2026-11-17T15:00:00+00:00")
AFTER_LET_GO = datetime.fromisoformat("2026-11-19T15:00:00+00:00")

TEXT_HEADINGS = ("NEEDS YOU TODAY", "WAITING", "LET GO", "YOUR NUMBERS")
HTML_IDS = ("needs-you-today", "waiting", "let-go", "your-numbers")


@cache
def example_plan() -> Plan:
    rules = Rules(Identity.of([ALEX.address]), calendar=BusinessCalendar(LONDON))
    plan, _ = scan_maildir(MaildirMailbox(EXAMPLES), rules, NOW)
    return plan


def conversation(plan: Plan, subject: str) -> ConversationDecision:
    return next(c for c in plan.conversations if c.subject == subject and c.contacts)


def example_drafts(plan: Plan) -> list[Draft]:
    """What the drafts module would write today: hand-made, it is built concurrently."""

    def draft(conv: str, step: Action, to: Address, subject: str) -> Draft:
        return Draft(conv, step, (to,), subject, None, (), "text", "<p>html</p>", f"{conv}/x/0")

    contoso = conversation(plan, "Proposal: Ghostwatch for Contoso").id
    onboarding = conversation(plan, "Onboarding timeline for Q1").id
    missed = next(m for m in plan.meetings if m.summary == "Discovery call — Tailwind Traders")
    return [
        draft(
            contoso,
            Action.NUDGE,
            Address("kathy.lopez@contoso.example", "Kathy Lopez"),
            "Re: Proposal: Ghostwatch for Contoso",
        ),
        draft(
            onboarding,
            Action.BREAKUP,
            Address("helen.park@wideworldimporters.example", "Helen Park"),
            "Re: Onboarding timeline for Q1",
        ),
        draft(
            missed.uid,
            Action.MEETING_FOLLOWUP,
            Address("nina.alvarez@tailwindtraders.example", "Nina Alvarez"),
            "Sorry we missed each other",
        ),
    ]


def example_digest(
    since: datetime | None = BEFORE_LET_GO, trouble: Trouble | None = None
) -> Digest:
    """The example mailbox's digest, with every section filled (used by the browser test)."""
    plan = example_plan()
    return build_digest(plan, example_drafts(plan), ALEX, LONDON, since=since, trouble=trouble)


def text_section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    ends = [text.find(f"\n{h}\n", start + 1) for h in TEXT_HEADINGS if h != heading]
    return text[start : min([e for e in ends if e > start], default=len(text))]


def html_section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    ends = [html.find(f'id="{a}"', start + 1) for a in HTML_IDS if a != anchor]
    return html[start : min([e for e in ends if e > start], default=len(html))]


# --- the example mailbox -------------------------------------------------------------


def test_subject_counts_what_needs_the_user_and_names_the_day() -> None:
    assert example_digest().subject == (
        "ghostwatch: 3 drafts, 1 reply rescued from Junk, 1 missed meeting, 1 bounce — Fri 20 Nov"
    )


def test_sections_appear_in_order_in_both_parts() -> None:
    digest = example_digest()
    text_at = [digest.text.index(f"\n{h}\n") for h in TEXT_HEADINGS]
    html_at = [digest.html.index(f'id="{a}"') for a in HTML_IDS]
    assert text_at == sorted(text_at)
    assert html_at == sorted(html_at)
    for title in ("Needs you today", "Waiting", "Let go", "Your numbers"):
        assert re.search(rf"<h2 [^>]*>{title}</h2>", digest.html)


def test_rescued_junk_reply_comes_first_in_needs_you_today() -> None:
    digest = example_digest()
    for section in (
        text_section(digest.text, "NEEDS YOU TODAY"),
        html_section(digest.html, "needs-you-today"),
    ):
        raj = section.index("raj.patel@tailspin.example")
        assert "Re: Integration plan: Tailspin" in section
        # Before every other item: the drafts, the meeting, the bounce.
        for later in ("Kathy Lopez", "Discovery call", "lee.chen@northwind.example"):
            assert raj < section.index(later), later


def test_drafts_written_show_subject_contact_and_step() -> None:
    needs = text_section(example_digest().text, "NEEDS YOU TODAY")
    assert "Drafts written (3)" in needs
    assert "Re: Proposal: Ghostwatch for Contoso" in needs
    assert "Kathy Lopez <kathy.lopez@contoso.example>" in needs
    assert "Nudge 1 — in your Drafts folder" in needs
    assert "Break-up (last follow-up)" in needs
    assert "Missed-meeting follow-up for “Discovery call — Tailwind Traders”" in needs


def test_send_window_suggestion_sits_under_its_draft() -> None:
    needs = text_section(example_digest().text, "NEEDS YOU TODAY")
    kathy = needs.index("Re: Proposal: Ghostwatch for Contoso")
    tip = needs.index(
        "Send window: Send it around 07:30 or 17:30 their time "
        "(kathy.lopez@contoso.example writes from UTC-05:00)"
    )
    assert kathy < tip < needs.index("Re: Onboarding timeline for Q1")


def test_missed_meeting_and_meeting_without_a_next_one_need_the_user() -> None:
    needs = text_section(example_digest().text, "NEEDS YOU TODAY")
    assert "Missed meetings (1)" in needs
    assert "Discovery call — Tailwind Traders" in needs
    assert "Tue 17 Nov, 16:00" in needs
    assert "a follow-up draft is ready" in needs
    # Held on 13 Nov, nothing booked since (docs/rules.md: always leave with the next one booked).
    assert "Meetings held, no next meeting booked (1)" in needs
    assert "Platform demo — Contoso" in needs
    # Rescheduled and upcoming meetings need nothing.
    assert "Adventure Works" not in example_digest().text


def test_bounce_names_the_failed_address_and_what_to_do() -> None:
    needs = text_section(example_digest().text, "NEEDS YOU TODAY")
    assert "Introduction: Ghostwatch for Northwind" in needs
    assert "delivery to lee.chen@northwind.example failed" in needs
    assert "Ask someone else: Find another person at northwind.example: no one else" in needs


def test_due_conversations_without_a_new_draft_are_still_listed() -> None:
    needs = text_section(example_digest().text, "NEEDS YOU TODAY")
    still = needs[needs.index("Still due") :]
    assert "Pricing for 25 seats" in still
    assert "Sandbox access for Adatum" in still
    assert "Proposal: Ghostwatch for Contoso" not in still


def test_waiting_groups_by_silence_and_lists_snoozes_with_return_date() -> None:
    digest = example_digest()
    for section in (text_section(digest.text, "WAITING"), html_section(digest.html, "waiting")):
        assert "Silent less than a week" in section
        assert "Quote for 2027 renewal" in section
        assert "Tue 24 Nov" in section  # when the first nudge falls due
        assert "Out of office" in section
        assert "Angebot: Ghostwatch für Fabrikam" in section
        assert "back Mon 30 Nov" in section


def test_a_deferral_is_listed_apart_from_absences_with_its_date() -> None:
    plan = example_plan()
    later = replace(
        conversation(plan, "Quote for 2027 renewal"),
        state=State.SNOOZED,
        action=Action.NONE,
        after_absence=False,
        snoozed_until=datetime.fromisoformat("2027-01-04T00:00:00+00:00"),
    )
    others = tuple(c for c in plan.conversations if c.id != later.id)
    plan = replace(plan, conversations=(*others, later))
    digest = build_digest(plan, [], ALEX, LONDON, since=BEFORE_LET_GO)
    section = text_section(digest.text, "WAITING")
    asked = section[section.index("Asked to hear from you later") :]
    assert "Quote for 2027 renewal" in asked
    assert "asked to hear from you again Mon 4 Jan" in asked
    away = section[section.index("Out of office") : section.index("Asked to hear from you")]
    assert "Quote for 2027 renewal" not in away
    assert "Angebot: Ghostwatch für Fabrikam" in away


def test_let_go_appears_once_after_the_previous_digest() -> None:
    shown = text_section(example_digest(since=BEFORE_LET_GO).text, "LET GO")
    assert "Trial for the Alpine Ski House sales team" in shown
    assert "3 follow-ups, no answer · let go Wed 18 Nov" in shown
    hidden = text_section(example_digest(since=AFTER_LET_GO).text, "LET GO")
    assert "Alpine Ski House" not in hidden
    assert "Nothing let go since Thu 19 Nov, 15:00." in hidden


def test_let_go_defaults_to_the_last_day() -> None:
    # Let go on 18 Nov, now 20 Nov: yesterday's digest already showed it.
    assert "Alpine Ski House" not in example_digest(since=None).text


def test_numbers_table_in_text_part() -> None:
    numbers = text_section(example_digest().text, "YOUR NUMBERS")
    lines = [line.split() for line in numbers.splitlines()]
    # Fewer than SMALL_SAMPLE started: counts, not a "75%" of eight conversations.
    assert [
        "Week",
        "of",
        "9",
        "Nov",
        "8",
        "6",
        "6",
        "of",
        "8",
        "2",
        "of",
        "8",
        "3.8",
        "days",
    ] in lines
    assert ["Week", "of", "26", "Nov"] not in lines
    assert ["Week", "of", "26", "Oct", "0", "0", "—", "—", "—"] in lines
    # Four weeks: 11 started, 6 replied, 4 went silent.
    assert ["4", "weeks", "11", "6", "6", "of", "11", "4", "of", "11", "3.8", "days"] in lines
    assert "%" not in numbers.split("Reply rate:")[0]
    assert "Fewer than 20 started: counts" in numbers


def _big_weeks() -> tuple[WeekStats, ...]:
    """Enough conversations for rates to mean something: 40 a week."""
    return tuple(WeekStats(date(2026, 10, 26) + timedelta(weeks=n), 40, 30, 10, 20.0)
                 for n in range(4))  # fmt: skip


def test_numbers_are_percentages_once_the_sample_is_large() -> None:
    digest = build_digest(Plan(now=NOW, weeks=_big_weeks()), [], ALEX, LONDON)
    lines = [line.split() for line in text_section(digest.text, "YOUR NUMBERS").splitlines()]
    assert ["4", "weeks", "160", "120", "75%", "25%", "20", "h"] in lines
    numbers = html_section(digest.html, "your-numbers")
    assert 'width="75%" bgcolor="#10b981" style="width:75%;' in numbers
    assert 'width="25%" bgcolor="#f59e0b" style="width:25%;' in numbers


def test_numbers_bar_chart_gives_way_to_counts_for_a_small_sample() -> None:
    numbers = html_section(example_digest().html, "your-numbers")
    assert "Replied: <strong" in numbers
    assert ">6 of 8</strong>" in numbers
    assert 'bgcolor="#10b981"' not in numbers  # no bar drawn from eight conversations
    assert "3.8 days" in numbers


def test_html_loads_nothing_and_runs_nothing() -> None:
    html = example_digest().html.lower()
    assert "<script" not in html
    assert "src=" not in html
    assert "url(" not in html
    assert "<link" not in html
    assert "<svg" not in html
    assert "<img" not in html
    assert "@import" not in html
    # Inline CSS only: Gmail strips <style> in some views.
    assert "<style" not in html


def test_html_is_table_layout_at_most_640_wide() -> None:
    html = example_digest().html
    assert "max-width:640px" in html
    assert '<table role="presentation"' in html
    assert "<!DOCTYPE html>" in html
    assert '<meta charset="utf-8">' in html


def test_text_part_has_no_markup() -> None:
    text = example_digest().text
    assert not re.search(r"</?(html|body|table|tr|td|th|div|span|a|p|br|h\d)\b", text)
    assert "&nbsp;" not in text
    assert "&amp;" not in text
    assert "&lt;" not in text
    assert "Kathy Lopez <kathy.lopez@contoso.example>" in text  # addresses stay readable


def test_links_point_to_conversations_where_the_provider_gives_them() -> None:
    plan = example_plan()
    contoso = conversation(plan, "Proposal: Ghostwatch for Contoso").id
    raj = conversation(plan, "Integration plan: Tailspin").id
    links = {contoso: "https://mail.example/#all/contoso", raj: "https://mail.example/#all/raj"}
    digest = build_digest(plan, example_drafts(plan), ALEX, LONDON, links=links)
    hrefs = re.findall(r'href="([^"]*)"', digest.html)
    assert sorted(set(hrefs)) == sorted(links.values())
    assert "https://mail.example/#all/raj" in text_section(digest.text, "NEEDS YOU TODAY")
    # Maildir gives no links: then there are none at all.
    assert "href=" not in example_digest().html


# --- hand-made plans ----------------------------------------------------------------


def decision(**overrides: object) -> ConversationDecision:
    values: dict[str, object] = {
        "id": "c1",
        "subject": "Renewal",
        "contacts": ("kim@bigco.example",),
        "state": State.WAITING,
        "silent_since": NOW - timedelta(days=3),
        "due_at": NOW + timedelta(days=2),
    }
    values.update(overrides)
    return ConversationDecision(**values)  # type: ignore[arg-type]


def test_nothing_to_do_still_renders_every_section() -> None:
    digest = build_digest(Plan(now=NOW), [], ALEX, LONDON)
    assert digest.subject == "ghostwatch: nothing needs you today — Fri 20 Nov"
    for anchor in HTML_IDS:
        assert f'id="{anchor}"' in digest.html
    assert "Nothing needs you today." in digest.text
    assert "No one you are waiting on." in digest.text
    assert "No numbers yet." in digest.text


def test_mail_content_is_escaped_in_html_but_not_in_text() -> None:
    plan = Plan(now=NOW, conversations=(decision(subject='<b>Q1</b> & "more"'),))
    digest = build_digest(plan, [], ALEX, LONDON)
    assert "&lt;b&gt;Q1&lt;/b&gt; &amp; &#34;more&#34;" in digest.html
    assert "<b>Q1</b>" not in digest.html
    assert '<b>Q1</b> & "more"' in digest.text


def test_waiting_buckets_by_calendar_age() -> None:
    plan = Plan(
        now=NOW,
        conversations=(
            decision(id="a", subject="Fresh", silent_since=NOW - timedelta(days=2)),
            decision(id="b", subject="Older", silent_since=NOW - timedelta(days=9)),
            decision(id="c", subject="Oldest", silent_since=NOW - timedelta(days=20)),
        ),
    )
    waiting = text_section(build_digest(plan, [], ALEX, LONDON).text, "WAITING")
    order = [
        "Silent less than a week",
        "Fresh",
        "Silent 1–2 weeks",
        "Older",
        "Silent over 2 weeks",
        "Oldest",
    ]
    at = [waiting.index(word) for word in order]
    assert at == sorted(at)


def test_escalation_and_other_contact_suggestions_are_shown_with_their_conversation() -> None:
    tips = (
        Suggestion("escalate", "Ask your manager to write to kim@bigco.example"),
        Suggestion("other_contact", "Ask pat@bigco.example (also at bigco.example)", "pat"),
    )
    plan = Plan(
        now=NOW,
        conversations=(
            decision(state=State.BOUNCED, bounced=("kim@bigco.example",), suggestions=tips),
        ),
    )
    needs = text_section(build_digest(plan, [], ALEX, LONDON).text, "NEEDS YOU TODAY")
    assert "Escalate: Ask your manager to write to kim@bigco.example" in needs
    assert "Ask someone else: Ask pat@bigco.example" in needs
    assert "no one else there" not in needs  # a colleague is known: no generic hint


def test_four_week_median_weights_weekly_medians_by_replies() -> None:
    weeks = (
        WeekStats(date(2026, 10, 26), 4, 3, 1, 10.0),
        WeekStats(date(2026, 11, 2), 2, 1, 1, 100.0),
        WeekStats(date(2026, 11, 9), 0, 0, 0, None),
        WeekStats(date(2026, 11, 16), 2, 1, 0, 30.0),
    )
    numbers = text_section(
        build_digest(Plan(now=NOW, weeks=weeks), [], ALEX, LONDON).text, "YOUR NUMBERS"
    )
    # Reply times 10, 10, 10, 30, 100 (by weight): the median is 10 hours.
    assert ["4", "weeks", "8", "5", "5", "of", "8", "2", "of", "8", "10", "h"] in [
        line.split() for line in numbers.splitlines()
    ]


def test_templates_folder_overrides_one_part(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text("{{ subject }} / {{ summary }}\n")
    digest = build_digest(Plan(now=NOW), [], ALEX, LONDON, templates=tmp_path)
    assert (
        digest.text
        == "ghostwatch: nothing needs you today — Fri 20 Nov / Nothing needs you today.\n"
    )
    assert 'id="needs-you-today"' in digest.html


def test_an_edited_template_is_used_without_a_restart(tmp_path: Path) -> None:
    """The daemon runs for months: editing an override must not need a restart."""
    template = tmp_path / "digest.txt"
    template.write_text("first {{ subject }}\n")
    assert build_digest(Plan(now=NOW), [], ALEX, LONDON, templates=tmp_path).text.startswith(
        "first "
    )
    template.write_text("second {{ subject }}\n")
    later = template.stat().st_mtime + 5  # coarse file-system clocks: make the edit visible
    os.utime(template, (later, later))
    assert build_digest(Plan(now=NOW), [], ALEX, LONDON, templates=tmp_path).text.startswith(
        "second "
    )


def test_local_time_zone_decides_the_day() -> None:
    # 23:30 UTC on Fri is already Saturday in Tokyo.
    late = datetime.fromisoformat("2026-11-20T23:30:00+00:00")
    digest = build_digest(Plan(now=late), [], ALEX, ZoneInfo("Asia/Tokyo"))
    assert digest.subject.endswith("— Sat 21 Nov")


# --- MIME ---------------------------------------------------------------------------


def test_message_round_trips_as_multipart_alternative_utf8() -> None:
    digest = example_digest()
    message = digest_message(digest, ALEX, at=NOW)
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == "Alex Morgan <alex@ghostwatch.example>"
    assert parsed["To"] == "Alex Morgan <alex@ghostwatch.example>"
    assert parsed["Subject"] == digest.subject
    assert parsed["X-Ghostwatch-Digest"] == "2026-11-20T15:00:00+00:00"
    assert parsed["Date"] == "Fri, 20 Nov 2026 15:00:00 +0000"
    assert parsed["Message-ID"].endswith("@ghostwatch.example>")
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    # Non-ASCII survives: the German subject, the em dashes.
    # The SMTP policy writes CRLF line ends; the content is otherwise unchanged.
    text, html = (p.get_content().replace("\r\n", "\n") for p in parts)
    assert text.rstrip("\n") == digest.text.rstrip("\n")
    assert html.rstrip("\n") == digest.html.rstrip("\n")
    assert "Angebot: Ghostwatch für Fabrikam" in text


def test_message_lines_fit_smtp() -> None:
    # RFC 5322 §2.1.1: at most 998 octets a line; long HTML lines must be encoded.
    raw = digest_message(example_digest(), ALEX, at=NOW).as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_a_busy_day_stays_under_gmails_clipping_size() -> None:
    """Gmail clips a message over ~102 KB, hiding everything below the cut."""
    plan = example_plan()
    due = conversation(plan, "Proposal: Ghostwatch for Contoso")
    many = tuple(replace(due, id=f"c{n:04d}", subject=f"Deal {n}") for n in range(400))
    busy = replace(plan, conversations=plan.conversations + many)
    to = Address("kathy.lopez@contoso.example", "Kathy Lopez")
    drafts = [
        Draft(c.id, Action.NUDGE, (to,), f"Re: {c.subject}", None, (), "t", "<p>h</p>", c.id)
        for c in many
    ]
    digest = build_digest(busy, drafts, ALEX, LONDON)
    assert len(digest_message(digest, ALEX).as_bytes()) < 102_000
    assert f"and {400 - PER_GROUP} more" in digest.html
    assert f"and {400 - PER_GROUP} more" in digest.text
    assert digest.html.count("Re: Deal ") <= IN_ALL


# --- a digest you can act on (docs/rules.md, the digest) ----------------------------

GMAIL_LINK = "https://mail.google.com/mail/u/0/#drafts?compose=18c2f0a1b2c3d4e5"


def test_each_draft_links_to_where_it_opens_in_both_parts() -> None:
    plan = example_plan()
    drafts = example_drafts(plan)
    kathy, helen, _ = drafts
    opens = {kathy.step_key: GMAIL_LINK, helen.step_key: "https://outlook.example/owa/?a=1&b=2"}
    digest = build_digest(plan, drafts, ALEX, LONDON, since=BEFORE_LET_GO, draft_links=opens)
    needs = text_section(digest.text, "NEEDS YOU TODAY")
    line = needs.index("Re: Proposal: Ghostwatch for Contoso")
    assert line < needs.index(GMAIL_LINK) < needs.index("Re: Onboarding timeline for Q1")
    html = html_section(digest.html, "needs-you-today")
    assert f'<a href="{GMAIL_LINK}"' in html
    assert '<a href="https://outlook.example/owa/?a=1&amp;b=2"' in html  # escaped, whole
    assert html.count("<a href=") == 2  # the meeting's draft has none: no link made up


def test_a_digest_without_links_says_nothing_of_them() -> None:
    digest = example_digest()
    assert "https://" not in digest.text
    assert "<a href=" not in digest.html


def test_every_suggestion_starts_with_the_one_thing_to_do() -> None:
    digest = example_digest()
    tips = [line.strip() for line in digest.text.splitlines() if re.match(r"^ {4}\S[^:]*: ", line)]
    advice = [t.split(": ", 1)[1] for t in tips if t.split(": ", 1)[0] in TIP_LABELS]
    assert advice  # the example has send windows and a bounce
    verbs = {a.split()[0] for a in advice}
    assert verbs <= {"Ask", "Send", "Find", "Read"}, verbs
    assert not any(";" in a for a in advice)


TIP_LABELS = {"Ask someone else", "Escalate", "Send window", "Someone else wrote"}


def test_a_high_value_conversation_comes_first_with_its_badge_in_both_parts() -> None:
    """`ghostwatch/vip` in the mailbox (docs/rules.md, "The mailbox as the control panel")."""
    plan = example_plan()
    drafts = example_drafts(plan)
    helen = conversation(plan, "Onboarding timeline for Q1").id
    valued = tuple(replace(c, high_value=c.id == helen) for c in plan.conversations)
    digest = build_digest(replace(plan, conversations=valued), drafts, ALEX, LONDON)
    needs = text_section(digest.text, "NEEDS YOU TODAY")
    first = needs.index("* [★ High value] Re: Onboarding timeline for Q1")
    assert first < needs.index("Re: Proposal: Ghostwatch for Contoso")
    html = html_section(digest.html, "needs-you-today")
    badge = html.index("★ High value")
    assert badge < html.index("Re: Onboarding timeline for Q1") < html.index("Re: Proposal")
    assert html.count("★ High value") == digest.text.count("★ High value") == 1
