"""Return dates from absence notices: languages × formats, locale order, year inference."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ghostwatch.engine.classify.datewords import guess_language
from ghostwatch.engine.classify.returndate import apple_vacation_return, find_return_date

SENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DEC_1 = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English: written months, ordinals, weekdays, abbreviations, ISO
        ("I am out of the office until December 1st.", DEC_1),
        ("I'm away and will be back on Tuesday, 1 December 2026.", DEC_1),
        ("Back on Dec 1, 2026. For urgent matters call Sam.", DEC_1),
        ("I am on leave, returning on the 1st of December.", DEC_1),
        ("Out of office. Returning 2026-12-01.", DEC_1),
        ("I'm out until Dec. 1.", DEC_1),
        ("Away through Sept. 3, 2028.", None),  # later than a year after sending: noise
        # German
        ("Ich bin bis zum 1. Dezember nicht im Büro.", DEC_1),
        ("Ich bin ab dem 01.12.2026 wieder im Büro.", DEC_1),
        ("Ich bin bis einschließlich 30.11. abwesend.", DEC_1),  # the last day away
        ("Abwesend bis 1. Dez. 2026", DEC_1),
        # French
        ("Je suis absent jusqu'au 1er décembre.", DEC_1),
        ("Je serai de retour le mardi 1 decembre 2026.", DEC_1),
        ("Absente jusqu'au 30/11/2026 inclus.", DEC_1),  # the last day away
        # Spanish
        ("Estoy fuera de la oficina hasta el 1 de diciembre.", DEC_1),
        ("Regreso el 1 de diciembre de 2026.", DEC_1),
        # Italian
        ("Sono fuori ufficio fino al 1° dicembre.", DEC_1),
        ("Rientro in ufficio il 1 dicembre 2026.", DEC_1),
        # Dutch
        ("Ik ben afwezig tot en met 30 november.", DEC_1),  # the last day away
        ("Ik ben weer terug op 1-12-2026.", DEC_1),
        # Portuguese
        ("Estou ausente até 1 de dezembro.", DEC_1),
        ("Estarei de volta em 01/12/2026.", DEC_1),
    ],
)
def test_languages_and_formats(text: str, expected: date | None) -> None:
    assert find_return_date(text, "", SENT) == expected


MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FRI_27, SAT_28 = date(2026, 11, 27), date(2026, 11, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The last day away: the writer is back the day after it (docs/rules.md).
        ("I am out of the office through Friday the 27th.", SAT_28),
        ("Out of office through 27 November.", SAT_28),
        ("Away thru Nov 27, back after that.", SAT_28),
        ("I'm away up to and including 27 November.", SAT_28),
        ("On leave from 20 November through 27 November.", SAT_28),
        ("Out until 27 November (inclusive).", SAT_28),
        ("Ich bin bis einschließlich 27.11. nicht im Büro.", SAT_28),
        ("Je suis absent jusqu'au 27 novembre inclus.", SAT_28),
        ("Estoy fuera hasta el 27 de noviembre inclusive.", SAT_28),
        ("Sono fuori ufficio fino al 27 novembre compreso.", SAT_28),
        ("Ik ben afwezig t/m 27 november.", SAT_28),
        ("Estou ausente até 27 de novembro, inclusive.", SAT_28),
        ("Out through Friday.", SAT_28),
        # "Until" and "back on" name the day back itself.
        ("I am out of the office until the 27th.", FRI_27),
        ("Back on 27 November.", FRI_27),
        ("Out of office until November 27.", FRI_27),
        ("Je suis absent jusqu'au 27 novembre.", FRI_27),
        ("Back on Friday.", FRI_27),
    ],
)
def test_the_last_day_away_returns_the_day_after(text: str, expected: date) -> None:
    assert find_return_date(text, "", MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I will be back on 12/01/2026.", None, date(2026, 12, 1)),  # US: month first
        ("I will be back on 12/01/2026.", "en-US", date(2026, 12, 1)),
        ("I will be back on 12/01/2027.", "en-GB", date(2027, 1, 12)),  # British: day first
        ("Ich bin ab dem 12/01/2027 wieder da.", None, date(2027, 1, 12)),
        ("Je suis de retour le 12/01/2027.", None, date(2027, 1, 12)),
        ("Back on 12/01/2027.", "de", date(2027, 1, 12)),  # the header outranks the guess
        ("Back on 27/11/2026.", None, date(2026, 11, 27)),  # 27 cannot be a month
        ("I return on 27.11.2026.", None, date(2026, 11, 27)),  # dots: always day first
    ],
)
def test_numeric_dates_follow_the_writers_locale(
    text: str, language: str | None, expected: date
) -> None:
    assert find_return_date(text, "", SENT, language) == expected


def test_year_is_inferred_across_new_year() -> None:
    sent = datetime(2026, 12, 20, tzinfo=UTC)
    assert find_return_date("Away, back on 5 January.", "", sent) == date(2027, 1, 5)


def test_year_inference_tolerates_a_few_days_before_sending() -> None:
    sent = datetime(2026, 12, 3, tzinfo=UTC)
    assert find_return_date("I am out until 1 December.", "", sent) == DEC_1


def test_range_takes_its_end() -> None:
    text = "I am out of the office from 20 November to 1 December."
    assert find_return_date(text, "", SENT) == DEC_1


def test_return_keyword_beats_a_later_unrelated_date() -> None:
    text = "I'm back on 1 December. Our conference is on 15 March 2027."
    assert find_return_date(text, "", SENT) == DEC_1


def test_latest_plausible_date_without_keywords() -> None:
    text = "Vacation: 23 November, 24 November, 30 November."
    assert find_return_date(text, "", SENT) == date(2026, 11, 30)


def test_dates_before_sending_are_quoted_history() -> None:
    assert find_return_date("I was away on 3 March 2026.", "", SENT) is None


def test_subject_is_read_too() -> None:
    assert find_return_date("Limited email access.", "Away until Dec 1", SENT) == DEC_1


def test_weekday_only_means_the_next_such_day() -> None:
    # 2026-11-20 is a Friday; "back on Monday" is 23 November.
    assert find_return_date("I'll be back on Monday.", "", SENT) == date(2026, 11, 23)
    assert find_return_date("Ich bin ab Montag wieder erreichbar.", "", SENT) == date(2026, 11, 23)


def test_no_date_and_no_sent_date() -> None:
    assert find_return_date("I am out of the office.", "", SENT) is None
    assert find_return_date("Back on 1 December.", "", None) is None  # no year, no anchor
    assert find_return_date("Back on 1 December 2026.", "", None) == DEC_1


def test_impossible_dates_are_skipped() -> None:
    assert find_return_date("Back on 31.02.2027 or 30.13.2026.", "", SENT) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I am out of the office and will be back on Monday.", "en"),
        ("Ich bin bis zum Montag nicht im Büro.", "de"),
        ("Je suis absent du bureau jusqu'au lundi.", "fr"),
        ("Estoy fuera de la oficina hasta el lunes.", "es"),
        ("Sono fuori ufficio fino al lunedì, per urgenze.", "it"),
        ("Ik ben niet op kantoor tot maandag.", "nl"),
        ("Estou fora do escritório até segunda-feira.", "pt"),
    ],
)
def test_language_guess(text: str, language: str) -> None:
    assert guess_language(text) == language


@pytest.mark.parametrize(
    "sent", [datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 25, tzinfo=UTC)]
)
def test_dates_at_the_ends_of_the_calendar_do_not_overflow(sent: datetime) -> None:
    for text in ("Back on 31 December.", "Back on 2 January.", "I'll be back on Monday."):
        find_return_date(text, "", sent)  # must not raise
    assert find_return_date("Back on 31 December.", "", sent) == date(sent.year, 12, 31)


# iCloud's vacation reply: `X-Apple-Criteria: {kind=VACATION,startDate=…,endDate=…}`, where
# endDate is the last second of the last day away in the user's zone, written in UTC.
@pytest.mark.parametrize(
    ("end", "message_offset", "back"),
    [
        ("2020-01-10T14:59:59Z", 0, date(2020, 1, 11)),  # Tokyo (UTC+9)
        ("2020-01-11T04:59:59Z", 0, date(2020, 1, 11)),  # New York (UTC-5)
        ("2020-01-10T23:59:59Z", 540, date(2020, 1, 11)),  # London, whatever the Date says
        ("2020-01-10T18:29:59Z", 0, date(2020, 1, 11)),  # Kolkata (UTC+5:30)
        ("2020-01-10T12:34:56Z", 540, date(2020, 1, 10)),  # no midnight anywhere: the Date's
        ("2020-13-45T23:59:59Z", 0, None),
    ],
)
def test_apple_vacation_end_is_the_day_before_the_return(
    end: str, message_offset: int, back: date | None
) -> None:
    criteria = f"{{kind=VACATION,startDate=2019-11-30T15:00:00Z,endDate={end}}}"
    assert apple_vacation_return(criteria, message_offset) == back


def test_apple_criteria_without_an_end_date_give_none() -> None:
    assert apple_vacation_return("{kind=VACATION}", 0) is None
