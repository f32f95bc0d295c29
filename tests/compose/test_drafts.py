"""Follow-up drafts: reply headers, who they go to, which wording, and the MIME message.

Conversations are built as Maildirs and decided by the real engine, so a draft is
tested against the decisions it will really be given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.compose import personal
from ghostwatch.compose.drafts import (
    DRAFT_TEMPLATES,
    conversation_draft,
    draft_message,
    meeting_draft,
    template_name,
)
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import (
    Action,
    ConversationDecision,
    MeetingDecision,
    MeetingState,
    State,
)
from ghostwatch.model.mail import Address, Content, Folder, Message
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import run_scan
from tests.support.builder import ME, Mailbox, when

ALEX = f"Alex Morgan <{ME}>"
SENDER = Sender("Alex Morgan", ME, "Alex Morgan\nAccount Executive, Ghostwatch")
NOW = "2026-11-20 15:00"  # a Friday
LONDON = ZoneInfo("Europe/London")
BODY = (
    "Hi Kathy,\n\nAttached is the proposal for 40 seats.\n\n"
    "Would a 20-minute call on Thursday work to walk your finance team through it?\n\n"
    "Best,\n\n-- \nAlex Morgan\nAccount Executive\n"
)


def decide(box: Mailbox, now: str = NOW) -> dict[str, tuple[ConversationDecision, list[Message]]]:
    """Each conversation's decision (by subject) and its messages, my last one with body."""
    mailbox = MaildirMailbox(box.root)
    done = run_scan(mailbox, Rules(Identity.of([ME])), when(now))
    found = {}
    for decision in done.plan.conversations:
        messages = list(done.threads.conversations[decision.id])
        keys = [decision.last_outbound_key] if decision.last_outbound_key else []
        bodies = mailbox.load_content(keys)
        messages = [
            dataclasses.replace(m, content=bodies[m.key]) if m.key in bodies else m
            for m in messages
        ]
        found[decision.subject] = (decision, messages)
    return found


def draft_for(box: Mailbox, subject: str, now: str = NOW, **options: object) -> Draft:
    decision, messages = decide(box, now)[subject]
    draft = conversation_draft(decision, messages, SENDER, when(now), LONDON, **options)  # type: ignore[arg-type]
    assert draft is not None, decision
    return draft


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(message))
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


# --- a reply in the conversation ---------------------------------------------------------------


def test_first_nudge_replies_to_my_message_and_greets_by_first_name(box: Mailbox) -> None:
    mine = box.add(
        "Sent", ALEX, "Kathy Lopez <kathy.lopez@contoso.example>", "Proposal", "2026-11-16 10:00",
        body=BODY,
    )  # fmt: skip
    draft = draft_for(box, "Proposal")
    assert draft.step is Action.NUDGE
    assert draft.subject == "Re: Proposal"
    assert draft.in_reply_to == mine.strip("<>")
    assert draft.references == (mine.strip("<>"),)
    assert draft.to == (Address("kathy.lopez@contoso.example", "Kathy Lopez"),)
    assert draft.text.startswith("Hi Kathy,\n")
    assert "the note I sent on Monday" in draft.text
    # The ask of my own message is quoted, verbatim, not paraphrased.
    assert "“Would a 20-minute call on Thursday work to walk your finance team through it?”" in (
        draft.text
    )
    assert draft.text.endswith("Best,\nAlex Morgan\nAccount Executive, Ghostwatch\n")
    assert draft.step_key.startswith(f"{draft.conversation}/nudge/0/")


def test_reply_answers_the_last_message_even_when_a_colleague_wrote_it(box: Mailbox) -> None:
    first = box.add("INBOX", "Priya Nair <priya@adatum.example>", ME, "Sandbox", "2026-11-11 09:00")
    mine = box.add(
        "Sent", ALEX, "Priya Nair <priya@adatum.example>", "Re: Sandbox", "2026-11-12 14:00",
        cc="Sam Okafor <sam@ghostwatch.example>", reply_to=first,
        body="Hi Priya,\n\nWhich three reps should get access first?\n",
    )  # fmt: skip
    sams = box.add(
        "INBOX", "Sam Okafor <sam@ghostwatch.example>", ME, "Re: Sandbox", "2026-11-12 16:20",
        reply_to=mine, references=[first],
    )  # fmt: skip
    draft = draft_for(box, "Sandbox")
    assert draft.in_reply_to == sams.strip("<>")
    assert draft.references == tuple(i.strip("<>") for i in (first, mine, sams))
    # Sam is a colleague: on copy of my message, but never a recipient of the nudge.
    assert [a.email for a in draft.to] == ["priya@adatum.example"]
    assert "“Which three reps should get access first?”" in draft.text


@pytest.mark.parametrize(
    "subject", ["Re: AW: Fwd: Pricing", "RE: RE: Pricing", "Fwd: Pricing", "Pricing"]
)
def test_subject_has_exactly_one_re(box: Mailbox, subject: str) -> None:
    box.add("Sent", ALEX, "marco@fourthcoffee.example", subject, "2026-11-16 10:00")
    (decision, messages), *_ = decide(box).values()
    draft = conversation_draft(decision, messages, SENDER, when(NOW), UTC)
    assert draft is not None
    assert draft.subject == "Re: Pricing"


def test_recipients_leave_out_bounced_addresses_and_colleagues(box: Mailbox) -> None:
    box.add(
        "Sent", ALEX, ["Kathy Lopez <kathy@contoso.example>", "lee@northwind.example"], "Offer",
        "2026-11-12 10:00", cc="Sam <sam@ghostwatch.example>",
        body="Hi all,\n\nWould a pilot help?\n",
    )  # fmt: skip
    box.add(
        "INBOX", "MAILER-DAEMON@mx.ghostwatch.example", ME, "Undelivered Mail Returned to Sender",
        "2026-11-12 10:01", headers={"Auto-Submitted": "auto-replied"},
        body="Delivery to the following recipient failed permanently:\n\n"
        "    lee@northwind.example\n\n550 5.1.1 user unknown",
    )  # fmt: skip
    draft = draft_for(box, "Offer")
    assert draft.to == (Address("kathy@contoso.example", "Kathy Lopez"),)
    assert draft.text.startswith("Hi Kathy,")


def test_to_follows_the_decisions_recipients_with_names_from_the_mail() -> None:
    mine = Message(
        "Sent/1", Folder.SENT, Address(ME, "Alex Morgan"),
        to=(Address("kathy@contoso.example", "kathy@contoso.example"),
            Address("lee@northwind.example", "Lee Chen")),
        cc=(Address("sam@ghostwatch.example", "Sam"),),
        subject="Offer", date=when("2026-11-12 10:00"), message_id="a@x",
    )  # fmt: skip
    hers = Message(
        "INBOX/1", Folder.INBOX, Address("kathy@contoso.example", "Lopez, Kathy"), to=(),
        subject="Re: Offer", date=when("2026-11-11 10:00"), message_id="b@x",
    )  # fmt: skip
    decision = _due(recipients=("kathy@contoso.example",), last="Sent/1")
    draft = conversation_draft(decision, [hers, mine], SENDER, when(NOW), UTC)
    assert draft is not None
    # Her own From name wins over the address-as-name my client wrote.
    assert draft.to == (Address("kathy@contoso.example", "Lopez, Kathy"),)
    assert draft.text.startswith("Hi Kathy,")


def _due(
    action: Action = Action.NUDGE,
    attempt: int = 0,
    *,
    recipients: Sequence[str] = ("kathy@contoso.example",),
    last: str = "Sent/1",
    after_absence: bool = False,
    state: State = State.DUE,
) -> ConversationDecision:
    return ConversationDecision(
        id="c0ffee", subject="Offer", contacts=tuple(recipients), state=state, action=action,
        attempt=attempt, last_outbound_key=last, last_message_key=last,
        recipients=tuple(recipients), after_absence=after_absence,
    )  # fmt: skip


def _mine(body: str | None = BODY, sent: str = "2026-11-16 10:00") -> Message:
    return Message(
        "Sent/1", Folder.SENT, Address(ME, "Alex Morgan"),
        to=(Address("kathy@contoso.example", "Kathy Lopez"),), subject="Offer",
        date=when(sent), message_id="mine@ghostwatch.example",
        content=Content(text=body) if body is not None else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("decision", "why"),
    [
        (_due(state=State.WAITING, action=Action.NONE), "waiting"),
        (_due(state=State.REPLIED, action=Action.NONE), "replied"),
        (_due(state=State.LET_GO, action=Action.NONE, attempt=3), "let go"),
        (_due(action=Action.MEETING_FOLLOWUP), "not a conversation step"),
        (_due(recipients=()), "nobody left to write to"),
    ],
)
def test_no_draft_unless_a_nudge_or_breakup_is_due(
    decision: ConversationDecision, why: str
) -> None:
    assert conversation_draft(decision, [_mine()], SENDER, when(NOW), UTC) is None, why


# --- which words ----------------------------------------------------------------------------------


def _text(decision: ConversationDecision, note: str | None = None, body: str | None = BODY) -> str:
    draft = conversation_draft(decision, [_mine(body)], SENDER, when(NOW), UTC, note=note)
    assert draft is not None
    return draft.text


def test_each_step_has_its_own_wording() -> None:
    first = _text(_due())
    second = _text(_due(attempt=1))
    breakup = _text(_due(Action.BREAKUP, 2))
    away = _text(_due(after_absence=True))
    assert len({first, second, breakup, away}) == 4
    assert "back to the top of your inbox" in first
    assert "write once more" in second
    assert "back to the top" not in second
    assert "time away went well" in away
    assert "time away" not in first
    for option in ("1. Still interested", "2. Someone else owns this", "3. Not a priority"):
        assert option in breakup


def test_template_per_step() -> None:
    assert template_name(_due()) == "nudge"
    assert template_name(_due(attempt=1)) == "nudge_second"
    assert template_name(_due(attempt=4)) == "nudge_second"
    assert template_name(_due(after_absence=True, attempt=1)) == "nudge_after_absence"
    assert template_name(_due(Action.BREAKUP, 2)) == "breakup"
    assert template_name(_due(Action.BREAKUP, 2, after_absence=True)) == "breakup"
    assert "time away went well" in _text(_due(Action.BREAKUP, 2, after_absence=True))


def test_out_of_office_with_return_date_gives_the_absence_variant(box: Mailbox) -> None:
    mine = box.add(
        "Sent", ALEX, "Jürgen Weiß <juergen@fabrikam.example>", "Angebot", "2026-11-12 10:00",
        body="Hallo Jürgen,\n\nCould we talk through the offer next week?\n",
    )  # fmt: skip
    box.add(
        "INBOX", "Jürgen Weiß <juergen@fabrikam.example>", ME, "Automatische Antwort: Angebot",
        "2026-11-12 10:01", reply_to=mine, headers={"Auto-Submitted": "auto-replied"},
        body="Ich bin bis zum 16.11.2026 nicht im Büro.",
    )  # fmt: skip
    draft = draft_for(box, "Angebot")
    assert draft.text.startswith("Hi Jürgen,\n\nI hope your time away went well.")
    assert "“Could we talk through the offer next week?”" in draft.text
    assert "the note I sent last week" in draft.text
    # Replies to the out-of-office notice's thread, to Jürgen, not to the robot reply.
    assert draft.to == (Address("juergen@fabrikam.example", "Jürgen Weiß"),)


def test_a_note_wins_over_the_extracted_line() -> None:
    text = _text(_due(), note="you mentioned EU hosting decides it for the London team")
    assert "You mentioned EU hosting decides it for the London team." in text
    assert "20-minute call" not in text


def test_without_a_reason_the_draft_still_reads_whole() -> None:
    text = _text(_due(), body="Hi Kathy,\n\nThanks!\n\nBest,\nAlex\n")
    assert "In that note" not in text
    assert "“" not in text
    assert "If it's still useful" in text
    assert _text(_due(), body=None) == text


def test_html_part_escapes_what_the_mail_said() -> None:
    body = "Hi,\n\nWould <b>Tuesday</b> & Wednesday work for the pilot?\n"
    draft = conversation_draft(_due(), [_mine(body)], SENDER, when(NOW), UTC)
    assert draft is not None
    assert "&lt;b&gt;Tuesday&lt;/b&gt; &amp; Wednesday" in draft.html
    assert "<b>Tuesday</b> & Wednesday" in draft.text
    assert "Alex Morgan<br>Account Executive, Ghostwatch" in draft.html


def test_override_folder_changes_only_that_template(tmp_path: Path) -> None:
    (tmp_path / "nudge.txt").write_text("{{ greeting }}, my own words.\n\n{{ signature }}\n")
    builtin = conversation_draft(_due(), [_mine()], SENDER, when(NOW), UTC)
    custom = conversation_draft(_due(), [_mine()], SENDER, when(NOW), UTC, templates=tmp_path)
    assert builtin is not None
    assert custom is not None
    assert custom.text == "Hi Kathy, my own words.\n\nAlex Morgan\nAccount Executive, Ghostwatch\n"
    assert custom.html == builtin.html
    for decision in (_due(attempt=1), _due(Action.BREAKUP, 2)):
        plain = conversation_draft(decision, [_mine()], SENDER, when(NOW), UTC)
        other = conversation_draft(decision, [_mine()], SENDER, when(NOW), UTC, templates=tmp_path)
        assert plain == other


# --- the missed meeting ------------------------------------------------------------------------


def _meeting(**changes: object) -> MeetingDecision:
    meeting = MeetingDecision(
        uid="discovery-1@ghostwatch.example", summary="Discovery call — Tailwind Traders",
        start=when("2026-11-17 16:00"), contacts=("nina@tailwindtraders.example",),
        state=MeetingState.MISSED, action=Action.MEETING_FOLLOWUP,
        contact_names=(("nina@tailwindtraders.example", "Nina Alvarez"),),
    )  # fmt: skip
    return dataclasses.replace(meeting, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "days"),
    [
        ("2026-11-16 09:00", "on Thursday or Friday, or early next week"),  # Monday
        ("2026-11-18 09:00", "on Thursday or Friday, or early next week"),  # Wednesday
        ("2026-11-19 09:00", "on Friday or early next week"),  # Thursday
        ("2026-11-20 15:00", "early next week, or later in the week"),  # Friday
        ("2026-11-22 12:00", "early next week, or later in the week"),  # Sunday
    ],
)
def test_meeting_draft_is_a_new_message_suggesting_days(now: str, days: str) -> None:
    draft = meeting_draft(_meeting(start=when(now)), SENDER, when(now), UTC)
    assert draft is not None
    assert draft.in_reply_to is None
    assert draft.references == ()
    assert draft.to == (Address("nina@tailwindtraders.example", "Nina Alvarez"),)
    assert draft.subject == "Sorry we missed each other — Discovery call — Tailwind Traders"
    assert draft.step is Action.MEETING_FOLLOWUP
    assert draft.step_key == "discovery-1@ghostwatch.example/meeting_followup/0"
    assert draft.text.startswith("Hi Nina,\n\nSorry we missed each other")
    assert f"Could we find another time {days}?" in draft.text


def test_meeting_draft_says_when_in_the_users_time_zone() -> None:
    # 23:30 UTC on Tuesday is already Wednesday in Tokyo; now is Thursday there.
    draft = meeting_draft(
        _meeting(start=when("2026-11-17 23:30")), SENDER, when("2026-11-19 03:00"),
        ZoneInfo("Asia/Tokyo"),
    )  # fmt: skip
    assert draft is not None
    assert "” yesterday." in draft.text
    assert "on Friday or early next week" in draft.text


@pytest.mark.parametrize(
    "meeting",
    [
        _meeting(state=MeetingState.HELD, action=Action.NONE),
        _meeting(state=MeetingState.RESCHEDULED, action=Action.NONE),
        _meeting(contacts=(), contact_names=()),
    ],
)
def test_no_meeting_draft_unless_a_follow_up_is_due(meeting: MeetingDecision) -> None:
    assert meeting_draft(meeting, SENDER, when(NOW), UTC) is None


def test_meeting_without_names_greets_safely() -> None:
    draft = meeting_draft(
        _meeting(contacts=("a@x.example", "b@x.example"), contact_names=()), SENDER, when(NOW), UTC
    )
    assert draft is not None
    assert draft.text.startswith("Hello,\n")
    assert [a.email for a in draft.to] == ["a@x.example", "b@x.example"]


# --- MIME ----------------------------------------------------------------------------------------


def test_draft_message_parses_back_as_multipart_alternative() -> None:
    decision = _due(recipients=("juergen@fabrikam.example",))
    mine = dataclasses.replace(
        _mine(), to=(Address("juergen@fabrikam.example", "Jürgen Weiß"),),
        references=("root@fabrikam.example",),
    )  # fmt: skip
    draft = conversation_draft(decision, [mine], SENDER, when(NOW), UTC)
    assert draft is not None
    parsed = reparse(draft_message(draft, SENDER))
    assert parsed.get_content_type() == "multipart/alternative"
    assert str(parsed["From"]) == "Alex Morgan <alex@ghostwatch.example>"
    assert str(parsed["To"]) == "Jürgen Weiß <juergen@fabrikam.example>"
    assert str(parsed["Subject"]) == "Re: Offer"
    assert str(parsed["In-Reply-To"]) == "<mine@ghostwatch.example>"
    assert str(parsed["References"]).split() == [
        "<root@fabrikam.example>",
        "<mine@ghostwatch.example>",
    ]
    assert parsed["X-Ghostwatch-Step"] == draft.step_key
    assert draft.step_key.startswith("c0ffee/nudge/0/")
    plain, html = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == draft.text
    assert html.get_content().replace("\r\n", "\n") == draft.html
    assert "Hi Jürgen," in plain.get_content()


def test_draft_message_for_a_new_message_has_no_reply_headers() -> None:
    draft = meeting_draft(_meeting(), SENDER, when(NOW), UTC)
    assert draft is not None
    parsed = reparse(draft_message(draft, SENDER))
    assert parsed["In-Reply-To"] is None
    assert parsed["References"] is None
    assert parsed["Subject"] == "Sorry we missed each other — Discovery call — Tailwind Traders"


def test_hostile_values_cannot_add_headers() -> None:
    draft = meeting_draft(
        _meeting(uid="x\r\nBcc: evil@example.com", summary="Call\r\nBcc: evil@example.com"),
        SENDER, when(NOW), UTC,
    )  # fmt: skip
    assert draft is not None
    parsed = reparse(draft_message(draft, SENDER))
    assert parsed["Bcc"] is None
    # The step key reads back exactly as the ledger keeps it, or the draft looks deleted.
    assert parsed["X-Ghostwatch-Step"] == draft.step_key
    assert draft.step_key.endswith("/meeting_followup/0")
    assert "Bcc" not in draft.step_key


def test_a_hostile_meeting_title_reaches_no_part_of_the_draft_raw() -> None:
    """An invitation's title is whoever organised it's text: its escape sequences are
    removed whole (mail/visible.py) from the subject, the text and the HTML written into
    the user's Drafts, where a terminal mail client would obey them."""
    link = "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"  # OSC 8: a hidden link
    title = f"Call \x1b[31mURGENT\x1b[0m {link} \u202eend"
    draft = meeting_draft(_meeting(summary=title), SENDER, when(NOW), UTC)
    assert draft is not None
    parsed = reparse(draft_message(draft, SENDER))
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    for part in (str(parsed["Subject"]), plain.get_content(), html.get_content()):
        assert "URGENT" in part
        assert "\x1b" not in part
        assert "\u202e" not in part
        assert "[31m" not in part  # the sequence went whole, not its visible tail
        assert "evil.example" not in part


def test_a_long_meeting_title_is_shortened_at_a_word() -> None:
    title = "Quarterly business review: " + "agenda item, " * 20
    draft = meeting_draft(_meeting(summary=title), SENDER, when(NOW), UTC)
    assert draft is not None
    summary = draft.subject.removeprefix("Sorry we missed each other — ")
    assert len(summary) <= 81
    assert summary.endswith("agenda item…")
    assert "“Quarterly business review: agenda item, agenda" in draft.text


def test_long_threads_keep_the_root_and_the_latest_references() -> None:
    refs = tuple(f"m{i}@x" for i in range(40))
    mine = dataclasses.replace(_mine(), references=refs)
    draft = conversation_draft(_due(), [mine], SENDER, when(NOW), UTC)
    assert draft is not None
    assert len(draft.references) == 20
    assert draft.references[0] == "m0@x"
    assert draft.references[-2:] == ("m39@x", "mine@ghostwatch.example")


def test_every_step_template_ships_in_both_parts() -> None:
    folder = Path(personal.__file__).parent / "templates"
    for name in DRAFT_TEMPLATES:
        assert (folder / f"{name}.txt").is_file()
        assert (folder / f"{name}.html").is_file()


# --- personal: names, time, the reason ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "email", "first"),
    [
        ("Kathy Lopez", "kathy.lopez@contoso.example", "Kathy"),
        ("Lopez, Kathy", "kathy.lopez@contoso.example", "Kathy"),
        ("Dr. Kathy Lopez", "kathy.lopez@contoso.example", "Kathy"),
        ("KATHY LOPEZ", "kathy.lopez@contoso.example", "Kathy"),
        ("LOPEZ, KATHY", "kathy.lopez@contoso.example", "Kathy"),
        ("Kathy Lopez, PhD", "kathy.lopez@contoso.example", "Kathy"),
        ("Kathy Lopez (Contoso)", "kathy.lopez@contoso.example", "Kathy"),
        ("Kathy", "kathy@contoso.example", "Kathy"),
        ("J. Robert Smith", "bob@contoso.example", "Robert"),
        ("Jürgen Weiß", "juergen@fabrikam.example", "Jürgen"),
        ("Anne-Marie O'Neil", "am@contoso.example", "Anne-Marie"),
        ("mckenzie", "mk@contoso.example", "Mckenzie"),
        ("Emily Post", "emily@contoso.example", "Emily"),
        ("", "kathy.lopez@contoso.example", None),
        ("kathy.lopez@contoso.example", "kathy.lopez@contoso.example", None),
        ("jsmith", "jsmith@contoso.example", None),
        ("Contoso Sales", "sales@contoso.example", None),
        ("Kathy Lopez", "info@contoso.example", None),
        ("Support Team", "help@contoso.example", None),
        ("Accounts Payable", "ap@contoso.example", None),
        ("R2D2", "r2@contoso.example", None),
    ],
)
def test_first_name(name: str, email: str, first: str | None) -> None:
    assert personal.first_name(Address(email, name)) == first


@pytest.mark.parametrize(
    ("people", "greeting"),
    [
        ([("k@c.example", "Kathy Lopez")], "Hi Kathy"),
        ([("k@c.example", "Kathy Lopez"), ("t@c.example", "Tom Baker")], "Hi Kathy and Tom"),
        ([("k@c.example", "Kathy"), ("t@c.example", "Tom"), ("a@c.example", "Ana")],
         "Hi Kathy, Tom and Ana"),
        ([(f"{n}@c.example", n.title()) for n in ("ann", "bob", "cyd", "dee")], "Hi all"),
        ([("k@c.example", "Kathy Lopez"), ("sales@c.example", "Sales")], "Hi Kathy"),
        ([("sales@c.example", "Contoso Sales")], "Hi there"),
        ([("x@c.example", ""), ("y@c.example", "")], "Hello"),
    ],
)  # fmt: skip
def test_greeting(people: list[tuple[str, str]], greeting: str) -> None:
    assert personal.greeting([Address(e, n) for e, n in people]) == greeting


@pytest.mark.parametrize(
    ("then", "words"),
    [
        ("2026-11-20 08:00", "earlier today"),
        ("2026-11-19 23:30", "yesterday"),
        ("2026-11-17 10:00", "on Tuesday"),
        ("2026-11-14 10:00", "on Saturday"),
        ("2026-11-13 10:00", "last week"),
        ("2026-11-06 10:00", "two weeks ago"),
        ("2026-10-30 10:00", "three weeks ago"),
        ("2026-10-03 10:00", "last month"),
        ("2026-09-14 10:00", "on 14 September"),
        ("2025-11-03 10:00", "on 3 November 2025"),
        ("2026-11-21 10:00", "recently"),
    ],
)
def test_time_in_words(then: str, words: str) -> None:
    assert personal.time_in_words(when(then), when(NOW), UTC) == words


def test_time_in_words_counts_days_in_the_users_zone() -> None:
    # 23:30 UTC Thursday is Friday morning in Tokyo: "earlier today" there, not "yesterday".
    now = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    assert personal.time_in_words(when("2026-11-19 23:30"), now, UTC) == "yesterday"
    assert personal.time_in_words(when("2026-11-19 23:30"), now, ZoneInfo("Asia/Tokyo")) == (
        "earlier today"
    )


REPLY = """Hi Marco,

Thanks for reaching out. For 25 seats:

- Monthly: EUR 42 per seat
- Annual: EUR 38 per seat (two months free)

Both include Outlook and Gmail support. The annual plan would save
you about 10% on the rollout.

Best,

--
Alex Morgan
Account Executive

On Wed, Nov 4, 2026 at 8:20 AM Marco Rossi <marco.rossi@fourthcoffee.example>
wrote:
> Could you send me your pricing?
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (REPLY, ("The annual plan would save you about 10% on the rollout.", "statement")),
        (BODY, ("Would a 20-minute call on Thursday work to walk your finance team through it?",
                "question")),
        # Quoted text is someone else's: the question in it is not mine to quote.
        ("Hi,\n\nSee below.\n\n> Could you send me your pricing?\n", None),
        ("Hi,\n\nSee below.\n\n-----Original Message-----\nFrom: M\nCould we talk?\n", None),
        ("Hi,\n\nSee below.\n\nFrom: Marco <m@x>\nSent: Monday\n\nCould we talk?\n", None),
        ("Hi,\n\nThanks!\n\nLet me know if you have any questions.\n\nBest,\nAlex", None),
        # My own pressure is never quoted back (nor is a sentence too long to read at once).
        ("Hi,\n\nDid you get my email about the pilot?\n", None),
        ("Hi,\n\n" + "We could " + "really " * 30 + "help.\n", None),
        # The signature's phone number and title are not the ask.
        ("Hi Ann,\n\nGreat call.\n\nBest,\nAlex\nHelp Desk Lead | call +1 555 0100?\n", None),
        ("Hello Ann,\nCould we set up a call next week to walk through the\nnumbers?\n\n"
         "On Mon, 3 Nov 2026, Ann <a@b.example>\nwrote:\n> Can you send pricing?\n",
         ("Could we set up a call next week to walk through the numbers?", "question")),
        ("Hi,\n\nWe can start e.g. with the London team. Would a pilot in December help?\n",
         ("Would a pilot in December help?", "question")),
    ],
)  # fmt: skip
def test_reason_is_my_own_ask_or_value(body: str, expected: tuple[str, str] | None) -> None:
    found = personal.reason(body)
    assert ((found.text, found.kind) if found else None) == expected


def test_reason_note_is_the_users_words_as_a_sentence() -> None:
    assert personal.reason(BODY, "  they need EU hosting\n for London ") == personal.Reason(
        "They need EU hosting for London.", "note"
    )
    assert personal.reason(BODY, "   ") == personal.reason(BODY)
