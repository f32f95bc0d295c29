"""No person's reply in the corpora is read as "stop" or "later" unless its own words say so.

docs/rules.md "Said stop, or said later": a false opt-out silences a prospect for good.
The 355 human replies (55 direct, 300 through mailing lists, whose footers say
"unsubscribe") are read as `classify` reads them. Any reply that is read so must be
listed in EXPECTED with the words that say it; today none is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.classify.intent import message_intent
from ghostwatch.engine.classify.verdict import classify
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.mail import Folder
from tests.support.paths import CORPORA

pytestmark = pytest.mark.corpus

FOLDERS = ("spamassassin/human-replies", "spamassassin/human-list-replies")
EXPECTED: dict[str, str] = {}
"""file name → the own words that carry its intent (none of the 355 asks either)."""


def _replies() -> list[Path]:
    found = [eml for folder in FOLDERS for eml in sorted((CORPORA / folder).glob("*.eml"))]
    if not found:
        pytest.skip(f"corpus folders under {CORPORA} are absent")
    return found


def test_no_human_reply_in_the_corpora_is_read_as_an_opt_out_or_a_deferral() -> None:
    replies = _replies()
    assert len(replies) == 355
    read: dict[str, str] = {}
    for eml in replies:
        message = parse_message(eml.read_bytes(), eml.name, Folder.INBOX)
        found = message_intent(message, classify(message), BusinessCalendar())
        if found is not None:
            read[eml.name] = f"{found.kind.value}: {found.words}"
    print(f"\n{len(replies)} human replies: {len(read)} read as carrying an intent {read}")
    assert read == EXPECTED
