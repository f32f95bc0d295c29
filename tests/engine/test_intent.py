"""Opt-outs and deferrals in a reply's own words (docs/rules.md "Said stop, or said later")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.engine.cadence import BusinessCalendar, holiday_dates
from ghostwatch.engine.classify.intent import find_intent, message_intent
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.decisions import Classification, InboundClass, IntentKind
from ghostwatch.model.mail import Folder

WRITTEN = date(2026, 11, 20)  # a Friday

OPT_OUTS = [
    "Please remove me from your mailing list.",
    "unsubscribe",
    "Not interested, please stop.",
    "Don't contact me again.",
    "Please stop emailing me.",
    "Bitte nehmen Sie mich aus dem Verteiler.",
    "Kontaktieren Sie mich bitte nicht mehr.",
    "Merci de ne plus me contacter.",
    "Veuillez me retirer de votre liste.",
    "No me contacte más, gracias.",
    "Por favor, denme de baja.",
    "Non contattatemi più, grazie.",
    "Per favore cancellatemi dalla lista.",
    "Neem mij a.u.b. uit uw lijst.",
    "Mail me alstublieft niet meer.",
    "Por favor, não me contate mais.",
    "Por favor, remova-me da lista.",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_opt_outs_in_the_seven_languages(text: str) -> None:
    found = find_intent(f"Hi Alex,\n\n{text}\n\nKathy\n", WRITTEN)
    assert found is not None, text
    assert found.kind == IntentKind.OPT_OUT, text


@pytest.mark.parametrize(
    "text",
    [
        "Please don't remove me from the list, I still want your news.",
        "You can unsubscribe at any time from the link below.",
        "We will stop contacting the other vendors next week.",
        "Thanks, this looks interesting. Can we talk on Tuesday?",
        "I'll get back to you.",
        "How do I unsubscribe the old account from the service?",
        "If you do not wish to receive further mailings, click here.",
    ],
)
def test_ordinary_sentences_carry_no_intent(text: str) -> None:
    assert find_intent(text, WRITTEN) is None


def test_words_in_the_quoted_original_or_the_signature_do_not_count() -> None:
    text = (
        "Sounds good, see you Tuesday.\n\n"
        "On Mon, 16 Nov 2026, Alex wrote:\n> Should I remove you from the list? Please "
        "unsubscribe me if you like.\n> Or get back to me in January.\n"
        "-- \nKathy | Reply STOP to unsubscribe\n"
    )
    assert find_intent(text, WRITTEN) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Not now — get back to me in January.", date(2027, 1, 1)),
        ("Please reach out again after 15 March.", date(2027, 3, 15)),
        ("Let's talk next quarter.", date(2027, 1, 1)),
        ("Can we talk in Q3?", date(2027, 7, 1)),
        ("Not right now; ping me next month.", date(2026, 12, 1)),
        ("Nach den Feiertagen gerne wieder.", date(2027, 1, 2)),
        ("Derzeit leider nicht, melden Sie sich im Februar.", date(2027, 2, 1)),
        ("Pas pour le moment, recontactez-moi en mars.", date(2027, 3, 1)),
        ("Ahora no, vuelva a contactarme en febrero.", date(2027, 2, 1)),
        ("Non è il momento, ricontattatemi a gennaio.", date(2027, 1, 1)),
        ("Nu even niet, neem in april weer contact op.", date(2027, 4, 1)),
        ("Agora não, me procure em março.", date(2027, 3, 1)),
        ("Get back to me after 15.03.2027, please.", date(2027, 3, 15)),
    ],
)
def test_deferrals_name_the_first_day_of_their_time(text: str, named: date) -> None:
    found = find_intent(text, WRITTEN)
    assert found is not None, text
    assert found.kind == IntentKind.DEFERRAL, text
    assert found.named == named


def test_an_opt_out_beats_a_deferral_in_the_same_reply() -> None:
    found = find_intent("Not now, and please remove me from your list.", WRITTEN)
    assert found is not None
    assert found.kind == IntentKind.OPT_OUT


def _message(text: str, sent: str) -> bytes:
    return (
        f"From: Kathy <kathy@contoso.example>\nTo: alex@ghostwatch.example\nSubject: Re: x\n"
        f"Date: {sent}\nMessage-ID: <m@contoso.example>\n\n{text}\n"
    ).encode()


HUMAN = Classification(InboundClass.HUMAN)


def test_the_until_is_a_business_day_of_the_accounts_calendar() -> None:
    # 1 March 2027 is a Monday; 1 May 2027 a Saturday; 1 January a holiday in Germany.
    german = BusinessCalendar(ZoneInfo("Europe/Berlin"), holiday_dates("DE"))
    cases = [
        ("Get back to me in March.", date(2027, 3, 1)),
        ("Get back to me in May.", date(2027, 5, 3)),
        ("Let's talk next quarter.", date(2027, 1, 4)),
        ("Please reach out again after 6 February.", date(2027, 2, 8)),
    ]
    for text, until in cases:
        raw = _message(text, "Fri, 20 Nov 2026 10:00:00 +0000")
        message = parse_message(raw, "k", Folder.INBOX)
        found = message_intent(message, HUMAN, german)
        assert found is not None, text
        assert found.until == until, text


def test_the_named_time_is_read_from_the_messages_local_date() -> None:
    raw = _message("Please get back to me next quarter.", "Thu, 31 Dec 2026 23:30:00 +0000")
    message = parse_message(raw, "k", Folder.INBOX)
    utc = message_intent(message, HUMAN, BusinessCalendar())
    tokyo = message_intent(message, HUMAN, BusinessCalendar(ZoneInfo("Asia/Tokyo")))
    assert utc is not None
    assert utc.until == date(2027, 1, 1)
    assert tokyo is not None
    assert tokyo.until == date(2027, 4, 1)


def test_only_a_persons_reply_carries_an_intent() -> None:
    raw = _message("Please remove me from your list.", "Fri, 20 Nov 2026 10:00:00 +0000")
    message = parse_message(raw, "k", Folder.INBOX)
    for kind in (InboundClass.OUT_OF_OFFICE, InboundClass.AUTO_ACK, InboundClass.BOUNCE):
        assert message_intent(message, Classification(kind), BusinessCalendar()) is None
    assert message_intent(message, HUMAN, BusinessCalendar()) is not None
    assert datetime(2026, 11, 20, tzinfo=UTC)  # the message's own date is the reference
