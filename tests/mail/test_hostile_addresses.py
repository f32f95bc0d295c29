"""Address fields as strangers write them (mail/parse.py, `_address_list`): a line break
left inside one is white space, never the end of the field, and comments nested
thousands deep are dropped rather than recursed into; either way the reply still counts
as its sender's answer, and no reader fails on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ghostwatch.cli.main import main
from ghostwatch.mail.parse import addresses
from tests.support.builder import ME, THROUGH, Mailbox
from tests.support.hostile import raw_message

KATHY = "kathy@contoso.example"


@pytest.mark.parametrize(
    "value",
    [
        f'"Lopez,\rKathy" <{KATHY}>',  # a bare CR in a quoted name (a broken mailer's)
        f'"Lopez,\r\n Kathy" <{KATHY}>',  # a fold inside the quotes an API did not unfold
        f"{KATHY} (Kathy\rLopez)",  # a bare CR in a comment
        f"Kathy\r\n Lopez <{KATHY}>",
    ],
)
def test_a_line_break_inside_an_address_field_is_white_space(value: str) -> None:
    [address] = addresses([value])
    assert address.email == KATHY  # not dropped, nor glued to the comment's rest
    assert address.name.isprintable()


def test_a_line_break_leaves_the_next_address_in_the_list() -> None:
    found = addresses([f'"Lopez,\rKathy" <{KATHY}>, Sam <sam@contoso.example>'])
    assert [a.email for a in found] == [KATHY, "sam@contoso.example"]


def test_comments_nested_thousands_deep_leave_the_address() -> None:
    deep = "(" * 5000 + "x" + ")" * 5000
    assert addresses([f"{deep} Kathy <{KATHY}> {deep}"]) == addresses([f"Kathy <{KATHY}>"])
    many = "(c)" * 40  # past the count where comments are dropped, none of them deep
    found = addresses([f'"Lopez (sales)" <{KATHY}> {many}, Sam <sam@contoso.example>'])
    assert [(a.email, a.name) for a in found] == [
        (KATHY, "Lopez (sales)"),  # a parenthesis inside quotes is no comment
        ("sam@contoso.example", "Sam"),
    ]


def _states(box: Mailbox) -> list[dict[str, object]]:
    """The conversations decided directly, through the Graph sandbox and through a real
    Dovecot, which keep the bytes as sent. Not through the Gmail sandbox: it parses with
    the standard library, which ends a field at a bare CR (a From with no address); what
    Gmail's own ingest does with one is not documented, so the sandbox is not made to
    guess."""
    found = []
    for through in ([], *(["--through", p] for p in THROUGH if p != "gmail")):
        result = CliRunner().invoke(main, ["scan", "--maildir", str(box.root), "--me", ME,
                                           "--now", "2026-11-20T15:00:00+00:00", "--json",
                                           *through])  # fmt: skip
        assert result.exit_code == 0, (through, result.output)
        [conversation] = json.loads(result.stdout)["conversations"]
        found.append(conversation)
    return found


@pytest.mark.parametrize(
    "sender",
    [f'"Lopez,\rKathy" <{KATHY}>', f"{'(' * 3000}x{')' * 3000} Kathy <{KATHY}>"],
    ids=["bare-cr", "nested-comments"],
)
def test_a_reply_whose_from_is_hostile_is_still_the_prospects_answer(
    tmp_path: Path, sender: str
) -> None:
    box = Mailbox(tmp_path / "mail")
    quote = "<quote-kathy@ghostwatch.example>"
    box.add_bytes("Sent", raw_message(ME, f"Kathy Lopez <{KATHY}>", "Quote for Contoso",
                                      "2026-11-10 10:00", "Here is the quote.\n",
                                      Message_ID=quote))  # fmt: skip
    box.add_bytes("INBOX", raw_message(sender, ME, "Re: Quote for Contoso", "2026-11-11 10:00",
                                       "Thanks, we will sign.\n",
                                       Message_ID="<answer@contoso.example>",
                                       In_Reply_To=quote, References=quote))  # fmt: skip
    for found in _states(box):
        assert found["state"] == "replied", found
        assert found["reasons"] == [f"{KATHY} replied on 2026-11-11"]
