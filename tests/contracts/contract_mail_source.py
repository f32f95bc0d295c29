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

from ghostwatch.model.calendar import CalendarEvent, PartStat
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
# Invitations as they reach me: organized by someone else, with my own answer (or none).
INVITATIONS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ghostwatch tests//EN
BEGIN:VEVENT
UID:mine
SUMMARY:Mine
DTSTART:20261117T100000Z
DTEND:20261117T110000Z
ORGANIZER:mailto:alex@ghostwatch.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:kathy@contoso.example
END:VEVENT
BEGIN:VEVENT
UID:accepted
SUMMARY:Accepted
DTSTART:20261118T100000Z
DTEND:20261118T110000Z
ORGANIZER:mailto:kathy@contoso.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:kathy@contoso.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alex@ghostwatch.example
END:VEVENT
BEGIN:VEVENT
UID:tentative
SUMMARY:Tentative
DTSTART:20261118T120000Z
DTEND:20261118T130000Z
ORGANIZER:mailto:kathy@contoso.example
ATTENDEE;PARTSTAT=TENTATIVE:mailto:alex@ghostwatch.example
END:VEVENT
BEGIN:VEVENT
UID:declined
SUMMARY:Declined
DTSTART:20261119T100000Z
DTEND:20261119T110000Z
ORGANIZER:mailto:stranger@fabrikam.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:lee@fabrikam.example
ATTENDEE;PARTSTAT=DECLINED:mailto:alex@ghostwatch.example
END:VEVENT
BEGIN:VEVENT
UID:unanswered
SUMMARY:Unanswered
DTSTART:20261119T120000Z
DTEND:20261119T130000Z
ORGANIZER:mailto:stranger@fabrikam.example
ATTENDEE:mailto:alex@ghostwatch.example
END:VEVENT
END:VCALENDAR
"""
MY_ANSWERS = {
    "mine": (True, None),
    "accepted": (False, PartStat.ACCEPTED),
    "tentative": (False, PartStat.TENTATIVE),
    "declined": (False, PartStat.DECLINED),
    "unanswered": (False, PartStat.NEEDS_ACTION),
}
"""uid → (I organized it, my own answer) as the calendar above says them."""
# The receiving server stamps its verdict on top (RFC 8601 §5); a sender may have
# written one of its own further down, which must never be read as the verdict.
VERDICT = "mx.ghostwatch.example; spf=fail smtp.mailfrom=contoso.example; dmarc=fail"
FORGED = "mx.ghostwatch.example; spf=pass; dkim=pass; dmarc=pass"


def my_answer(event: CalendarEvent) -> tuple[bool, PartStat | None]:
    """Whether I organized it and what I answered: as the calendar states them, else
    as its organizer and attendee list say (an .ics file states neither)."""
    organized = event.organized_by_me
    if organized is None:
        organized = event.organizer is not None and event.organizer.email == ME
    status = event.my_status
    if status is None and not organized:
        status = next((a.status for a in event.attendees if a.address.email == ME), None)
    return organized, status


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

    states_my_answer = False
    """The calendar states my own answer and whether I organized an event (Google's
    `self`, Graph's `responseStatus` and `isOrganizer`); an .ics file does not."""

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

    def test_my_own_answer_to_each_invitation(self, tmp_path: Path) -> None:
        box = Mailbox(tmp_path / "invited")
        box.calendar(INVITATIONS)
        source = self.open_source(box.root)
        events = {e.uid: e for e in source.events(NOW - timedelta(days=14), NOW)}
        assert {uid: my_answer(e) for uid, e in events.items()} == MY_ANSWERS
        stated = {uid: (e.organized_by_me, e.my_status) for uid, e in events.items()}
        if self.states_my_answer:
            assert stated == MY_ANSWERS
        else:
            assert set(stated.values()) == {(None, None)}

    def test_a_reply_in_the_trash_is_read_as_trash(self, tmp_path: Path) -> None:
        """A reply the user deleted is still an answer (docs/rules.md, "Replied")."""
        box = Mailbox(tmp_path / "trash")
        sent = box.add("Sent", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-16 10:00")
        box.add("Trash", KATHY, ME, "Re: Proposal", "2026-11-17 09:00", reply_to=sent,
                body="No, thanks.\n")  # fmt: skip
        read = {m.subject: m for m in self.open_source(box.root).read_headers()}
        assert read["Re: Proposal"].folder == Folder.TRASH
        assert read["Re: Proposal"].in_reply_to == (sent.strip("<>"),)
        assert read["Proposal"].folder == Folder.SENT

    def test_the_topmost_authentication_verdict_comes_through(self, tmp_path: Path) -> None:
        """The receiving server's `Authentication-Results` (RFC 8601) reaches the engine,
        in order: the one on top is the user's own provider's verdict."""
        box = Mailbox(tmp_path / "verdict")
        sent = box.add("Sent", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-16 10:00")
        forged = {"Authentication-Results": FORGED}
        raw = box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-17 09:00", reply_to=sent,
                      headers=forged)  # fmt: skip
        _stamp(box, raw, VERDICT)
        reply = {m.subject: m for m in self.open_source(box.root).read_headers()}["Re: Proposal"]
        found = [v for k, v in reply.headers if k == "authentication-results"]
        assert found == [VERDICT, FORGED]
        assert reply.header("authentication-results") == VERDICT

    def test_a_body_beyond_the_limit_is_never_read_past_it(self, tmp_path: Path) -> None:
        """A stranger's huge message costs at most `max_body_bytes` (issue 15): IMAP
        fetches `BODY.PEEK[]<0.N>`, Maildir reads N bytes, Graph parses N; Gmail, which has
        no partial read, judges a message over the limit by its headers alone."""
        box = Mailbox(tmp_path / "huge")
        sent = box.add("Sent", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-16 10:00")
        filler = ("x" * 75 + "\n") * 4000  # ~300 KB, past the 64 KiB limit below
        small = box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-17 09:00", reply_to=sent,
                        body="Thursday works.\n")  # fmt: skip
        huge = box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-18 09:00", reply_to=sent,
                       body="FIRST-PART-MARKER\n" + filler + "BEYOND-THE-LIMIT\n")  # fmt: skip
        source = self.open_source(box.root)
        source.body_limit = 64 * 1024  # type: ignore[attr-defined]
        keys = {m.message_id: m.key for m in source.read_headers()}
        bodies = source.load_content([keys[small.strip("<>")], keys[huge.strip("<>")]])
        assert "Thursday works." in bodies[keys[small.strip("<>")]].text
        cut = bodies.get(keys[huge.strip("<>")])
        assert cut is None or "BEYOND-THE-LIMIT" not in cut.text
        if self.partial_bodies:
            assert cut is not None
            assert "FIRST-PART-MARKER" in cut.text

    partial_bodies = True
    """The provider reads the first part of a body over the limit (all but Gmail)."""


def _stamp(box: Mailbox, message_id: str, verdict: str) -> None:
    """Put the receiving server's verdict on top of the message's header block."""
    for path in box.root.glob("cur/*"):
        raw = path.read_bytes()
        if message_id.encode() in raw:
            path.write_bytes(f"Authentication-Results: {verdict}\n".encode() + raw)
