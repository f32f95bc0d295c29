"""The Gmail sandbox's search grammar, held to the examples of Gmail's search help
(https://support.google.com/mail/answer/7190) through the real client: what it
implements answers as documented, anything else is a 400, never an empty list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME, Mailbox
from tests.support.sandbox_fixtures import client

pytestmark = pytest.mark.server

AMY, DAVID = "Amy Chen <amy@example.com>", "David Roe <david@example.com>"
NOW = datetime(2004, 4, 20, 12, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def gmail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A mailbox made for the help page's examples (its dates are the examples' 2004)."""
    root: Path = tmp_path_factory.mktemp("search")
    box = Mailbox(root)
    tonight, friday = "Dinner and movie tonight?\n", "Dinner on Friday?\n"
    box.add("INBOX", AMY, ME, "Dinner plans", "2004-04-15 18:00", body=tonight)
    box.add("INBOX", DAVID, ME, "Movie night", "2004-04-17 18:00", body="Which one?\n")
    box.add("INBOX", "sam@example.com", ME, "Friday", "2004-04-16 06:00", body=friday)
    box.add("INBOX", "lee@example.com", ME, "Dinner and a film", "2004-04-19 10:00")
    box.add("Sent", ME, DAVID, "Re: Movie night", "2004-04-18 09:00", body="The new one.\n")
    box.add("Junk", "raj@example.net", ME, "Cheap dinner", "2004-04-16 12:00")
    box.add("Trash", AMY, ME, "Old plans", "2004-04-01 12:00")
    box.add("INBOX", "ops@example.org", ME, "Report", "2004-04-19 11:00",
            message_id="<200503292@example.com>")  # fmt: skip
    with GmailSandbox.serve(seed=root, user=ME, clock=lambda: NOW) as sandbox:
        yield client(sandbox)


def subjects(gmail: Any, q: str) -> list[str]:
    found = gmail.users().messages().list(userId="me", q=q).execute()
    out = []
    for item in found.get("messages", []):
        get = (
            gmail.users()
            .messages()
            .get(userId="me", id=item["id"], format="metadata", metadataHeaders=["Subject"])
        )
        out.append(get.execute()["payload"]["headers"][0]["value"])
    return sorted(out)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # The help page's own examples, verbatim where our mailbox allows.
        ("from:amy", ["Dinner plans"]),
        ("from:amy OR from:david", ["Dinner plans", "Movie night"]),
        ("{from:amy from:david}", ["Dinner plans", "Movie night"]),
        ("dinner -movie", ["Dinner and a film", "Friday"]),
        ("subject:(dinner film)", ["Dinner and a film"]),
        ('"dinner and movie tonight"', ["Dinner plans"]),
        ("in:anywhere from:amy", ["Dinner plans", "Old plans"]),
        # Dates are midnight Pacific time: "Friday" (06:00 UTC on the 16th) is the 15th.
        ("after:2004/04/16 before:2004/04/18", ["Movie night"]),
        ("after:04/16/2004 before:04/18/2004", ["Movie night"]),
        ("after:2004/04/15 before:2004/04/16", ["Dinner plans", "Friday"]),
        ("rfc822msgid:200503292@example.com", ["Report"]),
        ("newer_than:2d", ["Dinner and a film", "Report"]),  # now: the 20th, noon UTC
        ("older_than:1y", []),
        # Spam and Trash: left out unless named.
        ("dinner", ["Dinner and a film", "Dinner plans", "Friday"]),
        ("in:spam", ["Cheap dinner"]),
        ("in:trash", ["Old plans"]),
        ("in:sent to:david", ["Re: Movie night"]),
        # How the pieces combine: OR binds closer than the implicit AND; - and ( ).
        ("from:amy OR from:david after:2004/04/16", ["Movie night"]),
        ("-(from:amy OR from:david) -in:sent", ["Dinner and a film", "Friday", "Report"]),
        ("-{dinner movie} in:inbox", ["Report"]),
        ('subject:"movie night"', ["Movie night", "Re: Movie night"]),
        ("{from:sam from:lee} subject:(dinner OR friday)", ["Dinner and a film", "Friday"]),
    ],
)
def test_the_documented_grammar(gmail: Any, q: str, expected: list[str]) -> None:
    assert subjects(gmail, q) == expected


def test_epoch_seconds_are_exact(gmail: Any) -> None:
    at = int(datetime(2004, 4, 17, 18, tzinfo=UTC).timestamp())
    assert subjects(gmail, f"after:{at} before:{at + 1}") == ["Movie night"]


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("from:{amy david}", "braces after an operator"),
        ("has:attachment", "has:"),
        ("list:info@example.com", "list:"),
        ("dinner AROUND 5 friday", "AROUND"),
        ("from:amy AND from:david", "AND"),
        ("in:snoozed", "in:snoozed"),
        ("is:muted", "is:muted"),
        ("after:2004-04-16", "YYYY/MM/DD"),
        ("older_than:2w", "d, m or y"),
        ("(dinner", "missing ')'"),
        ("dinner)", "unmatched ')'"),
        ("{dinner", "unclosed"),
        ('"dinner', "unmatched quote"),
        ("dinner OR", "OR needs a term"),
        ("()", "empty group"),
        ("subject:(from:amy)", "inside another operator"),
    ],
)
def test_what_is_not_implemented_is_a_400_never_an_empty_list(
    gmail: Any, q: str, says: str
) -> None:
    listings = [
        gmail.users().messages().list(userId="me", q=q),
        gmail.users().threads().list(userId="me", q=q),
        gmail.users().drafts().list(userId="me", q=q),
    ]
    for request in listings:
        with pytest.raises(HttpError) as refused:
            request.execute()
        assert refused.value.resp.status == 400
        error = json.loads(refused.value.content)["error"]
        assert error["status"] == "INVALID_ARGUMENT"
        [detail] = error["errors"]
        assert (detail["reason"], detail["location"], detail["locationType"]) == (
            "invalidArgument",
            "q",
            "parameter",
        )
        assert error["message"].startswith("Invalid query")
        assert says in error["message"]
