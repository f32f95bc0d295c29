"""Real spam in Junk never counts as a reply to a conversation it does not belong to.

The corpora README's target for spamassassin/spam. The test is adversarial: the user's
tracked conversations reuse the spam's own subjects (with and without "Re:"), so only
the rule "by headers, or by subject *from a participant*" keeps them apart.
"""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path

import pytest

from ghostwatch.mail.parse import decode_words
from tests.support.builder import ME, Mailbox, scan
from tests.support.paths import CORPORA

SPAM = CORPORA / "spamassassin" / "spam"


def _subject(raw: bytes) -> str:
    parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    return decode_words(str(parsed.get("subject", "")))


@pytest.mark.corpus
def test_spam_sharing_a_subject_is_never_a_reply(tmp_path: Path) -> None:
    if not SPAM.is_dir():
        pytest.skip(f"corpus folder {SPAM} is absent")
    box = Mailbox(tmp_path / "mail")
    spam = sorted(SPAM.glob("*.eml"))
    subjects = sorted({s for p in spam if (s := _subject(p.read_bytes()).strip())})[:60]
    for n, subject in enumerate(subjects):
        mine = subject if n % 2 else f"Re: {subject}"
        box.add(
            "Sent",
            ME,
            f"Prospect {n} <p{n}@prospect{n}.example>",
            mine,
            f"2026-11-{2 + n % 10:02d} 10:00",
        )
    for path in spam:
        box.add_bytes("Junk", path.read_bytes())
    result = scan(box, "2026-11-20 15:00")
    assert result["junk_replies"] == []
    states = {c["state"] for c in result["conversations"]}
    assert states <= {"due", "waiting"}, states
    assert len(result["conversations"]) == len(subjects)
