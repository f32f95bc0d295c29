"""The contract every `MailSource` adapter passes (docs/architecture.md: one port, one suite).

An adapter's test module subclasses `MailSourceContract` and implements `open_source`,
which must present the seeded Maildir (a Maildir++ tree with a calendar.ics) through
that adapter: the Maildir reader directly, the Gmail and Graph providers through their
sandboxes seeded from the same folder.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ghostwatch.model.mail import Folder
from ghostwatch.providers.port import MailSource
from tests.support.builder import ME, Mailbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
KATHY = "Kathy Lopez <kathy@contoso.example>"
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ghostwatch tests//EN
BEGIN:VEVENT
UID:demo-1
SUMMARY:Demo
DTSTART:20261118T150000Z
DTEND:20261118T160000Z
ORGANIZER:mailto:alex@ghostwatch.example
ATTENDEE;PARTSTAT=DECLINED:mailto:kathy@contoso.example
END:VEVENT
END:VCALENDAR
"""


def seed(root: Path) -> dict[str, str]:
    """A small mailbox with one message per folder role; returns subject → Message-ID."""
    box = Mailbox(root)
    ids = {
        "Proposal": box.add(
            "Sent",
            f"Alex <{ME}>",
            KATHY,
            "Proposal",
            "2026-11-16 10:00",
            body="Would Thursday work for a demo?\n",
        )
    }
    ids["Re: Proposal"] = box.add(
        "INBOX",
        KATHY,
        ME,
        "Re: Proposal",
        "2026-11-17 09:00",
        reply_to=ids["Proposal"],
        body="Thursday works.\n",
    )
    # A contact's colleague, caught by the spam filter: junk that bears on decisions.
    ids["Win big"] = box.add("Junk", "Lee <lee@contoso.example>", ME, "Win big", "2026-11-18 08:00")
    # A reply I am still writing, in my own conversation.
    ids["draft"] = box.add(
        "Drafts",
        f"Alex <{ME}>",
        KATHY,
        "Re: Proposal",
        "2026-11-19 08:00",
        reply_to=ids["Re: Proposal"],
    )
    box.calendar(EVENT)
    return {subject: mid.strip("<>") for subject, mid in ids.items()}


class MailSourceContract:
    """Subclass in an adapter's test module and implement `open_source`."""

    @pytest.fixture
    def source(self, tmp_path: Path) -> MailSource:
        self.ids = seed(tmp_path / "mail")
        return self.open_source(tmp_path / "mail")

    def open_source(self, maildir: Path) -> MailSource:
        raise NotImplementedError

    def test_every_message_appears_once_with_its_folder_role(self, source: MailSource) -> None:
        messages = source.read_headers()
        by_id = {m.message_id: m for m in messages}
        assert Counter(m.message_id for m in messages).most_common(1)[0][1] == 1
        assert by_id[self.ids["Proposal"]].folder == Folder.SENT
        assert by_id[self.ids["Re: Proposal"]].folder == Folder.INBOX
        assert by_id[self.ids["Win big"]].folder == Folder.JUNK
        assert by_id[self.ids["draft"]].folder == Folder.DRAFTS

    def test_headers_carry_what_decisions_need(self, source: MailSource) -> None:
        reply = {m.message_id: m for m in source.read_headers()}[self.ids["Re: Proposal"]]
        assert reply.sender is not None
        assert reply.sender.email == "kathy@contoso.example"
        assert reply.sender.name == "Kathy Lopez"
        assert [a.email for a in reply.to] == [ME]
        assert reply.subject == "Re: Proposal"
        assert reply.in_reply_to == (self.ids["Proposal"],)
        assert reply.date == datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
        assert reply.content is None  # headers only until asked

    def test_bodies_load_by_key_and_unknown_keys_are_left_out(self, source: MailSource) -> None:
        sent = {m.message_id: m for m in source.read_headers()}[self.ids["Proposal"]]
        bodies = source.load_content([sent.key, "no-such-key"])
        assert list(bodies) == [sent.key]
        assert "Would Thursday work for a demo?" in bodies[sent.key].text

    def test_calendar_events_in_the_window(self, source: MailSource) -> None:
        [event] = source.events(NOW - timedelta(days=14), NOW + timedelta(days=14))
        assert (event.uid, event.summary) == ("demo-1", "Demo")
        assert event.start == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
        assert {a.address.email for a in event.attendees} >= {"kathy@contoso.example"}
        assert source.events(NOW + timedelta(days=400), NOW + timedelta(days=430)) == ()
