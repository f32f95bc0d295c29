"""A reply's own words (`mail.reply.reply_text`): never the quote, never the signature."""

from __future__ import annotations

import pytest

from ghostwatch.mail.reply import reply_text

ANSWER = "Please take me off your list."
OLD = "Attached is the proposal for 40 seats."

HEADER_LINES = {
    "en": "On Mon, 16 Nov 2026 at 10:00, Alex Morgan <alex@example.com> wrote:",
    "de": "Am Mo., 16. Nov. 2026 um 10:00 Uhr schrieb Alex Morgan <alex@example.com>:",
    "fr": "Le lun. 16 nov. 2026 à 10:00, Alex Morgan <alex@example.com> a écrit :",
    "es": "El lun, 16 nov 2026 a las 10:00, Alex Morgan (<alex@example.com>) escribió:",
    "it": "Il giorno lun 16 nov 2026 alle ore 10:00 Alex Morgan <alex@example.com> ha scritto:",
    "nl": "Op ma 16 nov 2026 om 10:00 schreef Alex Morgan <alex@example.com>:",
    "pt": "Em seg., 16 de nov. de 2026 às 10:00, Alex Morgan <alex@example.com> escreveu:",
}
HEADER_BLOCKS = {
    "en": "From: Alex Morgan <alex@example.com>\nSent: Monday, November 16, 2026 10:00",
    "de": "Von: Alex Morgan <alex@example.com>\nGesendet: Montag, 16. November 2026 10:00",
    "fr": "De : Alex Morgan <alex@example.com>\nEnvoyé : lundi 16 novembre 2026 10:00",
    "es": "De: Alex Morgan <alex@example.com>\nEnviado: lunes, 16 de noviembre de 2026",
    "it": "Da: Alex Morgan <alex@example.com>\nInviato: lunedì 16 novembre 2026 10:00",
    "nl": "Van: Alex Morgan <alex@example.com>\nVerzonden: maandag 16 november 2026",
    "pt": "De: Alex Morgan <alex@example.com>\nEnviada em: segunda-feira, 16 de novembro",
}


@pytest.mark.parametrize("header", [*HEADER_LINES.values(), *HEADER_BLOCKS.values()])
def test_a_top_posted_original_is_cut_in_every_language(header: str) -> None:
    own = reply_text(f"Hi Alex,\n\n{ANSWER}\n\n{header}\nTo: Kathy\n\n{OLD}\n")
    assert ANSWER in own
    assert OLD not in own


def test_bottom_posted_and_interleaved_answers_are_kept_and_quotes_dropped() -> None:
    text = (
        "On Mon, 16 Nov 2026, Alex wrote:\n> Would Tuesday suit you?\n\n"
        "Not really.\n\n> Or shall I send the contract?\n\nPlease remove me from your list.\n"
    )
    own = reply_text(text)
    assert "Not really." in own
    assert "Please remove me from your list." in own
    assert "Tuesday" not in own
    assert "contract" not in own


def test_an_attribution_wrapped_onto_two_lines_is_still_a_header() -> None:
    header = "On Mon 16 Nov 2026 at 10 AM Alex Morgan <\nalex@example.com> wrote:"
    own = reply_text(f"{ANSWER}\n\n{header}\n\n{OLD}\n")
    assert own == ANSWER


def test_a_sign_off_line_does_not_end_the_reply() -> None:
    # mail-parser-reply's own signature guess would cut at "Thanks,": not used here.
    own = reply_text("Hi Alex,\nThanks, but please remove me from your list.\nKathy\n")
    assert "please remove me" in own


@pytest.mark.parametrize(
    "footer",
    [
        "-- \nKathy Lopez\nTo unsubscribe, reply STOP",
        "--\nKathy",
        "_" * 47 + "\nSales mailing list\nhttp://lists.example/unsubscribe",
        "-----BEGIN PGP SIGNATURE-----\niQEVAwUBPXNE16HbXyzZsAb3\n-----END PGP SIGNATURE-----",
    ],
)
def test_signatures_and_list_footers_are_not_own_words(footer: str) -> None:
    own = reply_text(f"Sounds good, talk soon.\n\n{footer}\n")
    assert own == "Sounds good, talk soon."
