"""Two messages with one Message-ID (engine/threads.py, `deduplicate`): copies of one
message are one message, but a stranger who reuses the id of a message they saw (copied
on a reply to all) makes no copy of it: the prospect's answer must not be dropped for
theirs."""

from __future__ import annotations

from pathlib import Path

from tests.support.builder import ME, Mailbox, by_subject, scan
from tests.support.hostile import raw_message

KATHY = "kathy@contoso.example"
QUOTE = "<quote-kathy@ghostwatch.example>"
ANSWER = "<answer@contoso.example>"


def _quote(box: Mailbox) -> None:
    box.add_bytes("Sent", raw_message(ME, f"Kathy Lopez <{KATHY}>", "Quote for Contoso",
                                      "2026-11-10 10:00", "Here is the quote.\n",
                                      Message_ID=QUOTE))  # fmt: skip


def test_a_stranger_reusing_the_answers_id_does_not_drop_the_answer(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    _quote(box)
    # Filed first, so it is the copy a tie would keep.
    box.add_bytes("INBOX", raw_message("Eve <eve@stranger.example>", ME, "Hello",
                                       "2026-11-12 09:00", "Buy now.\n",
                                       Message_ID=ANSWER))  # fmt: skip
    box.add_bytes("INBOX", raw_message(f"Kathy Lopez <{KATHY}>", ME, "Re: Quote for Contoso",
                                       "2026-11-11 10:00", "Thanks, we will sign.\n",
                                       Message_ID=ANSWER, In_Reply_To=QUOTE,
                                       References=QUOTE))  # fmt: skip
    found = by_subject(scan(box, "2026-11-20 15:00"))["Quote for Contoso"]
    assert found["state"] == "replied", found
    assert found["reasons"] == [f"{KATHY} replied on 2026-11-11"]


def test_copies_of_one_message_are_still_one_message(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail")
    _quote(box)
    answer = raw_message(f"Kathy Lopez <{KATHY}>", ME, "Re: Quote for Contoso",
                         "2026-11-11 10:00", "Thanks.\n", Message_ID=ANSWER,
                         In_Reply_To=QUOTE, References=QUOTE)  # fmt: skip
    box.add_bytes("INBOX", answer)
    box.add_bytes("Archive", answer)
    result = scan(box, "2026-11-20 15:00")
    [found] = result["conversations"]
    assert found["reasons"] == [f"{KATHY} replied on 2026-11-11"]
