"""How much of a stranger's header is read (mail/parse.py, `MAX_TEXT`, `MAX_NAME`): a
subject, a signal header or a display name hundreds of kilobytes long is read up to a
bound, so no pattern the engine tries on it, and no cache keyed by it, grows with it."""

from __future__ import annotations

from ghostwatch.mail import parse
from ghostwatch.model.mail import Folder, Message
from tests.support.builder import ME
from tests.support.hostile import raw_message

HUGE = 250_000


def _parsed(sender: str, subject: str, **headers: str) -> Message:
    raw = raw_message(sender, ME, subject, "2026-11-12 10:00", "Hi.\n", **headers)
    return parse.parse_headers(raw, "k", Folder.INBOX)


def test_a_huge_subject_is_read_up_to_the_limit() -> None:
    message = _parsed("eve@stranger.example", "Re: Quote " + "x" * HUGE)
    assert message.subject.startswith("Re: Quote xxx")
    assert len(message.subject) <= parse.MAX_TEXT


def test_a_huge_signal_header_is_read_up_to_the_limit() -> None:
    message = _parsed("eve@stranger.example", "Hi", X_Mailer="y" * HUGE,
                      Auto_Submitted="auto-replied " + "z" * HUGE)  # fmt: skip
    values = dict(message.headers)
    assert values["auto-submitted"].startswith("auto-replied zzz")  # still read as a signal
    assert max(len(value) for value in values.values()) <= parse.MAX_TEXT


def test_a_huge_display_name_is_read_up_to_the_limit() -> None:
    message = _parsed(f'"Kathy {"L" * HUGE}" <kathy@contoso.example>', "Hi")
    assert message.sender is not None
    assert message.sender.email == "kathy@contoso.example"
    assert message.sender.name.startswith("Kathy LLL")
    assert len(message.sender.name) <= parse.MAX_NAME
