"""One voice per person, and the digest suggestions (docs/rules.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ghostwatch import engine
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import Plan, State
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import scan_maildir
from tests.support.builder import ME, Mailbox, by_subject, scan, when

KATHY = "Kathy Lopez <kathy@contoso.example>"

MISSED_MEETING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:demo-1
SUMMARY:Demo
DTSTART:20261118T150000Z
DTEND:20261118T160000Z
ORGANIZER:mailto:alex@ghostwatch.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alex@ghostwatch.example
ATTENDEE;PARTSTAT=DECLINED:mailto:kathy@contoso.example
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


def test_a_missed_meeting_follow_up_goes_before_a_nudge_to_the_same_person(box: Mailbox) -> None:
    box.add("Sent", ME, KATHY, "Proposal", "2026-11-02 10:00")
    box.calendar(MISSED_MEETING)
    result = scan(box, "2026-11-20 10:00")
    [meeting] = result["meetings"]
    assert (meeting["state"], meeting["action"]) == ("missed", "meeting_followup")
    proposal = by_subject(result)["Proposal"]
    assert (proposal["state"], proposal["action"]) == ("waiting", "none")
    assert proposal["due_at"] == "2026-11-23T10:00:00+00:00"  # Friday → next business day
    assert any("one draft per person per day" in r for r in proposal["reasons"])


def test_two_due_conversations_with_one_person_take_turns(box: Mailbox) -> None:
    box.add("Sent", ME, KATHY, "Proposal", "2026-11-02 10:00")
    box.add("Sent", ME, KATHY, "Security review", "2026-11-03 10:00")
    result = by_subject(scan(box, "2026-11-20 10:00"))
    assert result["Proposal"]["state"] == "due"  # the one due first speaks
    assert result["Security review"]["state"] == "waiting"


def _plan(box: Mailbox, now: str, high_value: frozenset[str] = frozenset()) -> Plan:
    rules = Rules(me=Identity.of([ME]), high_value=high_value)
    plan, _ = scan_maildir(MaildirMailbox(box.root), rules, when(now))
    return plan


def test_suggests_a_colleague_at_the_same_organization(box: Mailbox) -> None:
    box.add("INBOX", "Bo <bo@contoso.example>", ME, "Intro to Kathy", "2026-10-01 10:00")
    box.add("Sent", ME, KATHY, "Proposal", "2026-11-02 10:00")
    [decision] = [
        c for c in _plan(box, "2026-11-20 10:00").conversations if c.subject == "Proposal"
    ]
    kinds = {(s.kind, s.contact) for s in decision.suggestions}
    assert ("other_contact", "bo@contoso.example") in kinds


def test_suggests_a_send_window_from_the_contacts_own_offset(box: Mailbox) -> None:
    first = box.add("Sent", ME, KATHY, "Proposal", "2026-11-02 10:00")
    box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-03T09:00:00-05:00", reply_to=first)
    box.add("Sent", ME, KATHY, "Re: Proposal", "2026-11-04 10:00", reply_to=first)
    [decision] = _plan(box, "2026-11-20 10:00").conversations
    assert decision.state == State.DUE
    [window] = [s for s in decision.suggestions if s.kind == "send_window"]
    assert "UTC-05:00" in window.text


def test_escalation_only_for_high_value_after_the_last_nudge(box: Mailbox) -> None:
    first = box.add("Sent", ME, KATHY, "Proposal", "2026-10-01 10:00")
    box.add("Sent", ME, KATHY, "Re: Proposal", "2026-10-06 10:00", reply_to=first)
    box.add("Sent", ME, KATHY, "Re: Proposal", "2026-10-15 10:00", reply_to=first)
    [plain] = _plan(box, "2026-11-05 10:00").conversations
    assert not [s for s in plain.suggestions if s.kind == "escalate"]
    [marked] = _plan(box, "2026-11-05 10:00", frozenset({plain.id})).conversations
    assert [s.kind for s in marked.suggestions if s.kind == "escalate"] == ["escalate"]


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.decide(
            engine.thread([], Identity.of([ME])),
            (),
            Rules(Identity.of([ME])),
            datetime(2026, 11, 20),
        )
