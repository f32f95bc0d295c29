"""The classifier over real-world mail nobody on this project wrote (corpora/README.md targets).

Run with `-s` to see the measured percentages; they are also in every assertion message.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache

import pytest

from ghostwatch.engine.classify.verdict import classify
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.decisions import Classification, InboundClass
from ghostwatch.model.mail import Folder
from tests.support.paths import CORPORA

CORPORA = CORPORA

pytestmark = pytest.mark.corpus

# The one message in spamassassin/human-replies that is not a person's reply: its own
# text says "This is an automated response ... I will be out of the office until
# Monday, August 26 2002." Counting it as human would mean teaching the classifier to
# ignore the plainest evidence there is; it must instead be read as what it is.
MISLABELLED_HUMAN = {"easy-ham-1-00033.eml": date(2002, 8, 26)}


@cache
def results(folder: str) -> dict[str, Classification]:
    path = CORPORA / folder
    if not path.is_dir():
        pytest.skip(f"corpus folder {path} is absent")
    found = {}
    for eml in sorted(path.glob("*.eml")):
        found[eml.name] = classify(parse_message(eml.read_bytes(), eml.name, Folder.INBOX))
    return found


def share(found: dict[str, Classification], *kinds: InboundClass) -> float:
    return sum(r.kind in kinds for r in found.values()) / len(found)


def report(folder: str, found: dict[str, Classification]) -> str:
    counts = Counter(r.kind.value for r in found.values())
    line = ", ".join(f"{k} {v / len(found):.1%}" for k, v in sorted(counts.items()))
    print(f"\n{folder}: {len(found)} messages: {line}")
    return line


ALL_FOLDERS = [
    "sisimai/bounces",
    "sisimai/delays",
    "sisimai/auto-replies",
    "sisimai/feedback-reports",
    "sisimai/human",
    "spamassassin/human-replies",
    "spamassassin/human-list-replies",
    "spamassassin/spam",
]


@pytest.mark.parametrize("folder", ALL_FOLDERS)
def test_every_message_parses_and_classifies(folder: str) -> None:
    found = results(folder)
    assert found, f"{folder} holds no .eml files"
    report(folder, found)


def test_bounces() -> None:
    found = results("sisimai/bounces")
    line = report("sisimai/bounces", found)
    with_recipient = sum(bool(r.failed_recipients) for r in found.values()) / len(found)
    print(f"  with at least one failed recipient: {with_recipient:.1%}")
    assert share(found, InboundClass.BOUNCE) >= 0.95, line
    assert with_recipient >= 0.90, f"{with_recipient:.1%} with a failed recipient"
    assert [n for n, r in found.items() if r.kind is InboundClass.HUMAN] == [], line


def test_failed_recipients_are_bare_lower_case_addresses() -> None:
    for name, result in results("sisimai/bounces").items():
        for address in result.failed_recipients:
            assert address == address.lower().strip("<>. "), (name, address)
            assert "@" in address, (name, address)
        assert len(set(result.failed_recipients)) == len(result.failed_recipients), name


def test_delays_are_never_human() -> None:
    found = results("sisimai/delays")
    line = report("sisimai/delays", found)
    assert [n for n, r in found.items() if r.kind is InboundClass.HUMAN] == [], line


def test_auto_replies() -> None:
    found = results("sisimai/auto-replies")
    line = report("sisimai/auto-replies", found)
    assert share(found, InboundClass.OUT_OF_OFFICE, InboundClass.AUTO_ACK) == 1.0, line
    first = found["rfc3834-01.eml"]
    assert first.kind is InboundClass.OUT_OF_OFFICE
    assert first.return_date == date(2005, 5, 5)


def test_feedback_reports_are_never_human() -> None:
    found = results("sisimai/feedback-reports")
    line = report("sisimai/feedback-reports", found)
    assert [n for n, r in found.items() if r.kind is InboundClass.HUMAN] == [], line


def test_sisimai_human() -> None:
    found = results("sisimai/human")
    line = report("sisimai/human", found)
    assert share(found, InboundClass.HUMAN) == 1.0, line


def test_human_replies() -> None:
    found = results("spamassassin/human-replies")
    line = report("spamassassin/human-replies", found)
    not_human = {n: r for n, r in found.items() if r.kind is not InboundClass.HUMAN}
    assert set(not_human) == set(MISLABELLED_HUMAN), line
    for name, returns in MISLABELLED_HUMAN.items():
        assert not_human[name].kind is InboundClass.OUT_OF_OFFICE
        assert not_human[name].return_date == returns
    print(f"  human except the self-declared auto-reply: {len(found) - len(not_human)}/"
          f"{len(found) - len(MISLABELLED_HUMAN)}")  # fmt: skip


def test_human_list_replies() -> None:
    found = results("spamassassin/human-list-replies")
    line = report("spamassassin/human-list-replies", found)
    assert share(found, InboundClass.HUMAN) >= 0.99, line
