"""Grouping messages into conversations (engine/threads.py; docs/rules.md "Threading")."""

from __future__ import annotations

from datetime import UTC, datetime

from ghostwatch.engine.people import Identity
from ghostwatch.engine.threads import thread
from ghostwatch.model.mail import Address, Folder, Message

ME = Identity.of(["alex@ghostwatch.example"])
ALEX = Address("alex@ghostwatch.example", "Alex")
KATHY = Address("kathy@contoso.example", "Kathy")
LEE = Address("lee@contoso.example", "Lee")


def mail(key: str, sender: Address, day: int, **fields: object) -> Message:
    folder = Folder.SENT if sender == ALEX else Folder.INBOX
    to = (KATHY,) if sender == ALEX else (ALEX,)
    return Message(
        key=key,
        folder=folder,
        sender=sender,
        to=to,
        date=datetime(2026, 11, day, 10, tzinfo=UTC),
        message_id=f"{key}@test.example",
        **fields,  # type: ignore[arg-type]
    )


def groups(messages: list[Message]) -> list[list[str]]:
    found = thread(messages, ME).conversations.values()
    return sorted(sorted(m.key for m in msgs) for msgs in found)


def test_a_reference_joins_two_provider_threads() -> None:
    """Gmail gave the renamed reply a thread of its own; its In-Reply-To names mine."""
    mine = mail("proposal", ALEX, 9, subject="Proposal", thread_id="t1")
    reply = mail(
        "budget", LEE, 10, subject="Budget", thread_id="t2", in_reply_to=("proposal@test.example",)
    )
    assert groups([mine, reply]) == [["budget", "proposal"]]


def test_provider_threads_without_links_stay_apart() -> None:
    first = mail("a", ALEX, 9, subject="Proposal", thread_id="t1")
    second = mail("b", KATHY, 10, subject="Lunch", thread_id="t2")
    assert groups([first, second]) == [["a"], ["b"]]


def test_a_provider_thread_holds_messages_whose_headers_were_dropped() -> None:
    first = mail("a", ALEX, 9, subject="Proposal", thread_id="t1")
    second = mail("b", KATHY, 10, subject="Something else", thread_id="t1")
    assert groups([first, second]) == [["a", "b"]]
