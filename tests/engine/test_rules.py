"""docs/rules.md, rule by rule, as small mailboxes scanned through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builder import ME, Mailbox, by_subject, only, scan

KATHY = "Kathy Lopez <kathy@contoso.example>"


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


def sent(box: Mailbox, date: str, subject: str = "Proposal", to: str = KATHY, **kw: object) -> str:
    return box.add("Sent", f"Alex <{ME}>", to, subject, date, **kw)  # type: ignore[arg-type]


# --- cadence: business days, weekends, holidays, time zones ---------------------------


def test_first_nudge_waits_three_business_days_over_a_weekend(box: Mailbox) -> None:
    sent(box, "2026-11-13 10:00")  # a Friday
    waiting = only(scan(box, "2026-11-18 09:59"))  # Wednesday, a minute early
    assert (waiting["state"], waiting["action"]) == ("waiting", "none")
    assert waiting["due_at"] == "2026-11-18T10:00:00+00:00"
    due = only(scan(box, "2026-11-18 10:00"))
    assert (due["state"], due["action"], due["attempt"]) == ("due", "nudge", 0)
    assert "no reply for 3 business days" in due["reasons"]


def test_public_holidays_of_the_chosen_country_do_not_count(box: Mailbox) -> None:
    sent(box, "2026-11-25 10:00")  # the day before US Thanksgiving (26 Nov 2026)
    plain = only(scan(box, "2026-11-25 12:00"))
    assert plain["due_at"] == "2026-11-30T10:00:00+00:00"
    us = only(scan(box, "2026-11-25 12:00", ME, "--country", "US"))
    assert us["due_at"] == "2026-12-01T10:00:00+00:00"


def test_business_days_are_counted_in_the_account_time_zone(box: Mailbox) -> None:
    # Friday 23:30 in New York is already Saturday in UTC.
    sent(box, "2026-11-13T23:30:00-05:00")
    ny = only(scan(box, "2026-11-18 12:00", tz="America/New_York"))
    assert ny["due_at"] == "2026-11-18T23:30:00-05:00"
    utc = only(scan(box, "2026-11-18 12:00"))
    # Read in UTC it was sent on a Saturday: Mon, Tue, Wed → Wednesday 04:30 UTC,
    # a whole day before the New York reading (Wednesday 23:30 there is Thursday in UTC).
    assert utc["due_at"] == "2026-11-18T04:30:00+00:00"


@pytest.mark.parametrize(
    ("follow_ups", "state", "action", "due_at"),
    [
        (1, "due", "nudge", "2026-11-11T10:00:00+00:00"),  # 7 business days after 2 Nov
        (2, "waiting", "none", "2026-11-20T10:00:00+00:00"),  # breakup: 14 after 2 Nov
        (3, "let_go", "none", None),  # 10 business days after the breakup
    ],
)
def test_steps_follow_the_default_cadence(
    box: Mailbox, follow_ups: int, state: str, action: str, due_at: str | None
) -> None:
    first = sent(box, "2026-10-01 10:00")
    for n in range(follow_ups):
        sent(
            box,
            f"2026-10-{10 + n:02d} 10:00" if n < follow_ups - 1 else "2026-11-02 10:00",
            "Re: Proposal",
            reply_to=first,
        )
    found = only(scan(box, "2026-11-19 12:00"))
    assert (found["state"], found["action"], found["attempt"]) == (state, action, follow_ups)
    if due_at:
        assert found["due_at"] == due_at


def test_breakup_is_the_third_follow_up(box: Mailbox) -> None:
    first = sent(box, "2026-10-01 10:00")
    sent(box, "2026-10-06 10:00", "Re: Proposal", reply_to=first)
    sent(box, "2026-10-15 10:00", "Re: Proposal", reply_to=first)
    found = only(scan(box, "2026-11-05 10:00"))  # 15 business days after 15 Oct
    assert (found["state"], found["action"], found["attempt"]) == ("due", "breakup", 2)


def test_let_go_waits_ten_business_days_after_the_breakup(box: Mailbox) -> None:
    first = sent(box, "2026-10-01 10:00")
    for day in ("06", "15", "26"):
        sent(box, f"2026-10-{day} 10:00", "Re: Proposal", reply_to=first)
    before = only(scan(box, "2026-11-06 10:00"))
    assert (before["state"], before["action"]) == ("waiting", "none")
    after = only(scan(box, "2026-11-09 10:00"))  # 10 business days after 26 Oct
    assert after["state"] == "let_go"


def test_a_human_answer_restarts_the_count(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00")
    sent(box, "2026-11-05 10:00", "Re: Proposal", reply_to=first)
    answer = box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-06 09:00", reply_to=first)
    sent(box, "2026-11-06 11:00", "Re: Proposal", reply_to=answer)
    found = only(scan(box, "2026-11-11 11:00"))
    assert (found["state"], found["action"], found["attempt"]) == ("due", "nudge", 0)


# --- replied: anywhere, by anyone at the organization, in any thread --------------------


def test_reply_with_german_prefix_and_no_threading_headers_counts(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00")
    box.add("INBOX", KATHY, ME, "AW: Proposal", "2026-11-03 10:00")
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "replied"


@pytest.mark.parametrize("prefix", ["Re:", "RE:", "SV:", "Fwd:", "Réf :", "AW: Re:"])
def test_reply_prefixes_are_normalized(box: Mailbox, prefix: str) -> None:
    sent(box, "2026-11-02 10:00")
    box.add("INBOX", KATHY, ME, f"{prefix} proposal", "2026-11-03 10:00")
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "replied"


def test_a_colleague_of_mine_answering_is_not_a_reply(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00", cc="Sam <sam@ghostwatch.example>")
    box.add(
        "INBOX",
        "Sam <sam@ghostwatch.example>",
        [KATHY, ME],
        "Re: Proposal",
        "2026-11-03 10:00",
        reply_to=first,
    )
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("due", "nudge")


def test_the_prospects_colleague_answering_in_thread_counts(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00")
    box.add(
        "INBOX", "Bo <bo@contoso.example>", ME, "Re: Proposal", "2026-11-03 10:00", reply_to=first
    )
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "replied"


def test_the_prospect_answering_in_a_new_thread_counts(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00")
    box.add("INBOX", KATHY, ME, "Budget question", "2026-11-04 10:00")
    found = by_subject(scan(box, "2026-11-20 10:00"))["Proposal"]
    assert found["state"] == "replied"
    assert any("another conversation" in r for r in found["reasons"])


def test_mail_from_the_prospect_before_my_message_is_not_a_reply(box: Mailbox) -> None:
    box.add("INBOX", KATHY, ME, "Intro", "2026-11-01 10:00")
    sent(box, "2026-11-02 10:00")
    assert by_subject(scan(box, "2026-11-20 10:00"))["Proposal"]["state"] == "due"


def test_one_of_several_recipients_answering_counts(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00", to=f"{KATHY}, Raj <raj@tailspin.example>")
    box.add(
        "INBOX",
        "Raj <raj@tailspin.example>",
        ME,
        "Re: Proposal",
        "2026-11-03 10:00",
        reply_to=first,
    )
    found = only(scan(box, "2026-11-20 10:00"))
    assert found["state"] == "replied"
    assert found["contacts"] == ["kathy@contoso.example", "raj@tailspin.example"]


def test_a_stranger_on_a_public_domain_is_not_the_prospects_colleague(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00", to="Pat <pat@gmail.com>")
    box.add("INBOX", "Zed <zed@gmail.com>", ME, "Something else", "2026-11-04 10:00")
    assert by_subject(scan(box, "2026-11-20 10:00"))["Proposal"]["state"] == "due"


# --- junk ------------------------------------------------------------------------------


def test_a_reply_in_junk_is_rescued(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00")
    box.add("Junk", KATHY, ME, "RE: Proposal", "2026-11-03 10:00", reply_to=first)
    result = scan(box, "2026-11-20 10:00")
    found = only(result)
    assert (found["state"], found["reply_in_junk"]) == ("replied", True)
    [rescued] = result["junk_replies"]
    assert (rescued["conversation"], rescued["from"]) == (found["id"], "kathy@contoso.example")
    assert rescued["subject"] == "RE: Proposal"


def test_a_junk_stranger_sharing_the_subject_is_not_a_reply(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00")
    box.add("Spam", "Winner <prize@lottery.example>", ME, "Re: Proposal", "2026-11-03 10:00")
    result = scan(box, "2026-11-20 10:00")
    assert only(result)["state"] == "due"
    assert result["junk_replies"] == []


# --- out of office, auto-acks, bounces --------------------------------------------------

OOO_HEADERS = {"Auto-Submitted": "auto-replied"}


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Automatic reply: Proposal", "I am out of the office until 30 November 2026."),
        ("Abwesenheitsnotiz: Proposal", "Ich bin bis zum 30.11.2026 nicht im Büro."),
        ("Réponse automatique : Proposal", "Je suis absente jusqu'au 30 novembre 2026."),
        ("Respuesta automática: Proposal", "Estoy fuera de la oficina hasta el 30 de noviembre."),
        ("Risposta automatica: Proposal", "Sono fuori ufficio fino al 30 novembre 2026."),
        ("Automatisch antwoord: Proposal", "Ik ben afwezig tot en met 29 november 2026."),
        ("Resposta automática: Proposal", "Estou fora do escritório até 30 de novembro de 2026."),
    ],
)
def test_out_of_office_snoozes_until_the_return_date(box: Mailbox, subject: str, body: str) -> None:
    first = sent(box, "2026-11-16 10:00")
    box.add(
        "INBOX",
        KATHY,
        ME,
        subject,
        "2026-11-16 10:01",
        reply_to=first,
        body=body,
        headers=OOO_HEADERS,
    )
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("snoozed", "none")
    assert found["snoozed_until"] == "2026-11-30T00:00:00+00:00"


def test_after_the_return_date_the_nudge_waits_one_more_business_day(box: Mailbox) -> None:
    first = sent(box, "2026-11-16 10:00")
    box.add(
        "INBOX",
        KATHY,
        ME,
        "Automatic reply: Proposal",
        "2026-11-16 10:01",
        reply_to=first,
        body="I am out of the office until 30 November 2026.",
        headers=OOO_HEADERS,
    )
    back = only(scan(box, "2026-11-30 12:00"))
    assert (back["state"], back["due_at"]) == ("waiting", "2026-12-01T10:00:00+00:00")
    due = only(scan(box, "2026-12-01 10:00"))
    assert (due["state"], due["action"]) == ("due", "nudge")


def test_out_of_office_without_a_date_changes_nothing(box: Mailbox) -> None:
    first = sent(box, "2026-11-16 10:00")
    box.add(
        "INBOX",
        KATHY,
        ME,
        "Automatic reply: Proposal",
        "2026-11-16 10:01",
        reply_to=first,
        body="I am out of the office with limited access to email.",
        headers=OOO_HEADERS,
    )
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("due", "nudge")


def test_an_auto_acknowledgement_changes_nothing(box: Mailbox) -> None:
    first = sent(box, "2026-11-16 10:00")
    box.add(
        "INBOX",
        "Support <support@contoso.example>",
        ME,
        "Re: Proposal [Ticket #4711]",
        "2026-11-16 10:01",
        reply_to=first,
        headers=OOO_HEADERS,
        body="Thank you for contacting us. We have received your request (ticket #4711).",
    )
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("due", "nudge")


DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.ghostwatch.example>
To: {me}
Subject: Undelivered Mail Returned to Sender
Date: {date}
Message-ID: <dsn.{tag}@mx.ghostwatch.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ghostwatch.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B
Content-Type: text/rfc822-headers

Message-ID: {msgid}
Subject: Proposal

--B--
"""


def add_dsn(box: Mailbox, rcpt: str, date: str, msgid: str = "<x@y>") -> None:
    from email.utils import format_datetime

    from tests.support.builder import when

    text = DSN.format(
        me=ME,
        date=format_datetime(when(date)),
        tag=date[-5:].replace(":", ""),
        rcpt=rcpt,
        msgid=msgid,
    )
    box.add_bytes("INBOX", text.replace("\n", "\r\n").encode())


def test_a_bounce_after_my_message_marks_it_bounced(box: Mailbox) -> None:
    first = sent(box, "2026-11-02 10:00")
    add_dsn(box, "kathy@contoso.example", "2026-11-02 10:01", first)
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("bounced", "none")


def test_a_bounce_from_before_my_latest_message_does_not_count(box: Mailbox) -> None:
    add_dsn(box, "kathy@contoso.example", "2026-10-01 10:01")
    sent(box, "2026-11-02 10:00")
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "due"


def test_a_non_standard_qmail_bounce_counts(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00")
    box.add(
        "INBOX",
        "MAILER-DAEMON@mx.contoso.example",
        ME,
        "failure notice",
        "2026-11-02 10:02",
        body="Hi. This is the qmail-send program at mx.contoso.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<kathy@contoso.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n",
    )
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "bounced"


NO_SUCH_USER = (
    "This message was created automatically by the mail system.\n\n"
    "A message that you sent could not be delivered to one or more of its recipients.\n"
    "The following addresses failed:\n\n  <kathy@contoso.example>: 550 no such user\n"
)


# Bounces in no thread, under a subject that says nothing: only the sender tells them
# apart, so the bounce pre-filter (which messages are indexed as delivery reports) and
# the classifier must agree on which senders are mail daemons.
@pytest.mark.parametrize(
    "sender",
    [
        "post_master@vtext.contoso.example",  # Verizon's and Apache James' spelling
        "Mail Delivery System <notify@mx.contoso.example>",  # known by its name alone
        "bounces+alex=ghostwatch.example@mx.contoso.example",  # a VERP return address
        "mailer_daemon@mx.contoso.example",
    ],
)
def test_a_bounce_known_only_by_its_daemon_sender_counts(box: Mailbox, sender: str) -> None:
    sent(box, "2026-11-02 10:00")
    box.add("INBOX", sender, ME, "Re: Nyaan", "2026-11-02 10:02", body=NO_SUCH_USER)
    assert only(scan(box, "2026-11-20 10:00"))["state"] == "bounced"


def test_one_bounced_recipient_of_two_leaves_the_other_to_follow_up(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00", to=f"{KATHY}, Raj <raj@tailspin.example>")
    add_dsn(box, "kathy@contoso.example", "2026-11-02 10:01")
    found = only(scan(box, "2026-11-20 10:00"))
    assert (found["state"], found["action"]) == ("due", "nudge")


# --- what is tracked -------------------------------------------------------------------


def test_internal_only_and_robot_recipients_are_not_tracked(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00", "Pipeline", to="Sam <sam@ghostwatch.example>")
    sent(box, "2026-11-02 11:00", "Unsubscribe", to="noreply@vendor.example")
    sent(box, "2026-11-02 12:00", "Ticket", to="notifications@vendor.example")
    result = scan(box, "2026-11-20 10:00", ME, "--all")
    states = {c["subject"]: c["state"] for c in result["conversations"]}
    assert states == {
        "Pipeline": "not_tracked",
        "Unsubscribe": "not_tracked",
        "Ticket": "not_tracked",
    }
    assert scan(box, "2026-11-20 10:00")["conversations"] == []


def test_drafts_never_count_as_sent(box: Mailbox) -> None:
    box.add("Drafts", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-02 10:00")
    assert scan(box, "2026-11-20 10:00")["conversations"] == []
    sent(box, "2026-11-16 10:00", "Other")
    box.add("Drafts", f"Alex <{ME}>", KATHY, "Re: Other", "2026-11-18 10:00")
    found = only(scan(box, "2026-11-19 10:00"))
    assert (found["attempt"], found["state"]) == (0, "due")


def test_muted_conversations_are_left_alone(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00")
    cid = only(scan(box, "2026-11-20 10:00"))["id"]
    found = only(scan(box, "2026-11-20 10:00", ME, "--mute", cid))
    assert (found["state"], found["action"]) == ("muted", "none")


def test_my_fresh_mails_with_the_same_subject_stay_apart(box: Mailbox) -> None:
    sent(box, "2026-11-02 10:00", "Quick question", to=KATHY)
    sent(box, "2026-11-02 11:00", "Quick question", to="Raj <raj@tailspin.example>")
    box.add("INBOX", "Raj <raj@tailspin.example>", ME, "Re: Quick question", "2026-11-03 10:00")
    result = scan(box, "2026-11-20 10:00")
    states = sorted((c["contacts"][0], c["state"]) for c in result["conversations"])
    assert states == [("kathy@contoso.example", "due"), ("raj@tailspin.example", "replied")]


def test_all_my_aliases_are_me(box: Mailbox) -> None:
    first = box.add("Sent", "Alex <alex@old-brand.example>", KATHY, "Proposal", "2026-11-02 10:00")
    box.add(
        "Sent",
        "Alex <alex@ghostwatch.example>",
        KATHY,
        "Re: Proposal",
        "2026-11-03 10:00",
        reply_to=first,
    )
    found = only(scan(box, "2026-11-04 10:00", f"{ME},alex@old-brand.example"))
    assert found["attempt"] == 1  # both were mine: the second is a follow-up
