"""The decision rules every provider must reach alike (docs/rules.md; docs/scan-contract.md).

One scenario per rule, told once as a small Maildir++ mailbox, decided by the real CLI:
`ghostwatch scan` on the Maildir itself, or `scan --through gmail|outlook`, which reads
the same mailbox through the Gmail or Outlook provider and its sandbox over real HTTP.
A provider's test module subclasses `RulesContract` and names its `provider`; every
scenario then asserts what the rule decides, so a provider that reads mail differently
fails by name rather than by a diff of two JSON documents.

`pending` lists scenarios a provider cannot pass yet, with the reason: they run as strict
expected failures, so the change that makes one pass must also take it off the list.
"""

from __future__ import annotations

import json
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.support.builder import ME, Mailbox, when
from tests.support.hostile import event

KATHY = "Kathy Lopez <kathy@contoso.example>"
LEE = "Lee Chen <lee@contoso.example>"
MALLORY = "Mallory <billing@fabrikam-payments.example>"
STRANGER = "events@invoice-desk.example"
DMARC_FAIL = (
    "mx.ghostwatch.example; spf=fail smtp.mailfrom=contoso.example; dkim=none;"
    " dmarc=fail (p=REJECT) header.from=contoso.example"
)
FORGED_PASS = "mx.contoso.example; spf=pass; dkim=pass header.d=contoso.example; dmarc=pass"
PASSED = (
    "mx.ghostwatch.example; spf=pass smtp.mailfrom=contoso.example;"
    " dkim=pass header.d=contoso.example; dmarc=pass header.from=contoso.example"
)
SPF_DKIM_FAIL = "mx.ghostwatch.example; spf=fail smtp.mailfrom=contoso.example; dkim=fail"
OUTLOOK_FAIL = (  # Exchange Online's own header: no authserv-id, a stray ";outlook.com;"
    "spf=fail (sender IP is 192.0.2.7) smtp.mailfrom=contoso.example; outlook.com;"
    " dkim=none (message not signed) header.d=none;outlook.com; dmarc=fail action=quarantine"
    " header.from=contoso.example;compauth=fail reason=000"
)
CRM = "CRM Log <log+4411@crm-capture.example>"
FORGED = "Please wire the deposit to IBAN DE89 3704 0044 0532 0130 00 today.\n"
ASK = "Hi Kathy,\n\nCould we book a call on Thursday to walk through the pilot plan?\n\nAlex\n"

RAJ = "Raj Patel <raj@tailspin.example>"
NYAAN = "Nyaan <nyaan@tailspin.example>"
DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.ghostwatch.example>
To: {me}
Subject: Undelivered Mail Returned to Sender
Date: {date}
Message-ID: <dsn.1@mx.ghostwatch.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ghostwatch.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B
Content-Type: text/rfc822-headers

Message-ID: {msgid}
Subject: Proposal

--B--
"""


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _scan(args: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = _run(args)
    return payload


class RulesContract:
    """Subclass in a provider's test module and set `provider`."""

    provider: str
    pending: ClassVar[dict[str, str]] = {}
    """Scenario name → why this provider cannot pass it yet (a strict xfail)."""

    @pytest.fixture(autouse=True)
    def _pending(self, request: pytest.FixtureRequest) -> None:
        reason = self.pending.get(request.function.__name__)
        if reason:
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))

    @pytest.fixture
    def box(self, tmp_path: Path) -> Mailbox:
        return Mailbox(tmp_path / "mail")

    def scan(self, box: Mailbox, now: str, *extra: str, tz: str = "UTC") -> dict[str, Any]:
        """`ghostwatch scan --json --all` as a user runs it, through this provider."""
        args = ["scan", "--maildir", str(box.root), "--me", ME, "--now", when(now).isoformat()]
        args += ["--tz", tz, "--json", "--all", *extra]
        if self.provider != "maildir":
            args += ["--through", self.provider]
        return _scan(args)

    def conversation(self, box: Mailbox, now: str, subject: str = "Proposal") -> dict[str, Any]:
        """The one conversation of the scenario whose subject is `subject`."""
        found = [c for c in self.scan(box, now)["conversations"] if c["subject"] == subject]
        assert len(found) == 1, found
        conversation: dict[str, Any] = found[0]
        return conversation

    def preview(self, box: Mailbox, now: str) -> list[dict[str, Any]]:
        """`ghostwatch preview --json`: the drafts this provider would write at `now`."""
        args = ["preview", "--maildir", str(box.root), "--me", ME, "--now", when(now).isoformat()]
        args += ["--json"] + (["--through", self.provider] if self.provider != "maildir" else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        drafts: list[dict[str, Any]] = json.loads(result.stdout)
        return drafts

    def digest(self, box: Mailbox, now: str) -> str:
        """The digest's HTML as `ghostwatch digest --out` writes it through this provider."""
        out = box.root.parent / "digest.html"
        args = ["digest", "--maildir", str(box.root), "--me", ME, "--now", when(now).isoformat()]
        args += ["--out", str(out)]
        args += ["--through", self.provider] if self.provider != "maildir" else []
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return out.read_text(encoding="utf-8")

    @staticmethod
    def sent(box: Mailbox, date: str, subject: str = "Proposal", **kw: Any) -> str:
        return box.add("Sent", f"Alex <{ME}>", kw.pop("to", KATHY), subject, date, **kw)

    # -- conversations ------------------------------------------------------------------

    def test_a_reply_under_a_new_subject_joins_by_its_headers(self, box: Mailbox) -> None:
        """Gmail starts a new thread when the subject changes; the reply still answers."""
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("INBOX", LEE, ME, "Budget for 2027", "2026-11-10 09:00", reply_to=proposal)
        found = self.conversation(box, "2026-11-20 10:00")
        assert found["state"] == "replied"
        assert found["reasons"] == ["lee@contoso.example replied on 2026-11-10"]

    # -- mine: only the Sent folder ------------------------------------------------------

    def test_a_message_from_me_filed_outside_sent_is_not_mine(self, box: Mailbox) -> None:
        """A forgery in the Inbox with my address in From: no recipient, no text, no clock."""
        proposal = self.sent(box, "2026-11-09 10:00", body=ASK)
        box.add(
            "INBOX", f"Alex <{ME}>", [KATHY, MALLORY], "Re: Proposal", "2026-11-12 09:00",
            reply_to=proposal, body=FORGED,
        )  # fmt: skip
        found = self.conversation(box, "2026-11-13 10:00")
        assert (found["state"], found["action"], found["attempt"]) == ("due", "nudge", 0)
        assert found["contacts"] == ["kathy@contoso.example"]
        assert found["due_at"] == "2026-11-12T10:00:00+00:00"  # 3 business days after mine
        (draft,) = self.preview(box, "2026-11-13 10:00")
        assert draft["to"] == ["kathy@contoso.example"]
        assert "IBAN" not in draft["text"]
        assert "pilot" in draft["text"]  # my own ask is the sentence quoted

    def test_a_message_from_me_outside_sent_starts_no_conversation(self, box: Mailbox) -> None:
        """Neither a forgery to a stranger nor a copy I Bcc'd myself in an archive folder."""
        box.add("INBOX", f"Alex <{ME}>", MALLORY, "Invoice 2291", "2026-11-09 10:00")
        box.add("Archive", f"Alex <{ME}>", KATHY, "Pricing", "2026-11-09 11:00")
        found = self.scan(box, "2026-11-20 10:00")["conversations"]
        assert [c["subject"] for c in found if c["state"] != "not_tracked"] == []
        assert self.preview(box, "2026-11-20 10:00") == []

    # -- contacts: To and Cc only ---------------------------------------------------------

    def test_a_bcc_recipient_is_no_contact(self, box: Mailbox) -> None:
        """The CRM's logging address I Bcc is never followed up nor a draft's recipient."""
        self.sent(box, "2026-11-09 10:00", headers={"Bcc": CRM})
        self.sent(box, "2026-11-09 11:00", "Logged", to=f"Alex <{ME}>", headers={"Bcc": CRM})
        result = self.scan(box, "2026-11-13 10:00")
        states = {c["subject"]: (c["state"], c["contacts"]) for c in result["conversations"]}
        assert states["Proposal"] == ("due", ["kathy@contoso.example"])
        assert states["Logged"] == ("not_tracked", [])
        (draft,) = self.preview(box, "2026-11-13 10:00")
        assert draft["to"] == ["kathy@contoso.example"]

    # -- out of office: the last day away -------------------------------------------------

    def test_the_last_day_away_snoozes_until_the_day_after(self, box: Mailbox) -> None:
        """ "Through Friday the 27th": Kathy is away on the 27th and back on the 28th."""
        proposal = self.sent(box, "2026-11-23 10:00")  # a Monday
        box.add(
            "INBOX", KATHY, ME, "Automatic reply: Proposal", "2026-11-23 10:05",
            reply_to=proposal, headers={"Auto-Submitted": "auto-replied"},
            body="I am out of the office through Friday the 27th, with limited access to mail.\n",
        )  # fmt: skip
        away = self.conversation(box, "2026-11-27 12:00")
        assert (away["state"], away["snoozed_until"]) == ("snoozed", "2026-11-28T00:00:00+00:00")
        back = self.conversation(box, "2026-11-30 09:00")
        assert (back["state"], back["due_at"]) == ("waiting", "2026-11-30T10:00:00+00:00")

    # -- meetings: only mine --------------------------------------------------------------

    def test_only_meetings_i_organized_or_accepted_count(self, box: Mailbox) -> None:
        """A stranger's invitation I declined, or never answered, is left out entirely;
        one a contact organized and I accepted (or tentatively accepted) is mine."""
        people = [("Kathy Lopez", "kathy@contoso.example", "NEEDS-ACTION")]
        box.calendar(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
            + event("stranger-declined", "Invoice call", "20261117T100000Z",
                    [("Alex", ME, "DECLINED"), *people], organizer=STRANGER)
            + event("stranger-unanswered", "Wire transfer", "20261117T140000Z",
                    [("Alex", ME, "NEEDS-ACTION"), *people], organizer=STRANGER)
            + event("contact-accepted", "Pilot review", "20261118T100000Z",
                    [("Alex", ME, "ACCEPTED"), ("Lee Chen", "lee@contoso.example", "DECLINED")],
                    organizer="kathy@contoso.example")
            + event("contact-tentative", "Pricing call", "20261118T140000Z",
                    [("Alex", ME, "TENTATIVE"), ("Raj", "raj@tailspin.example", "NEEDS-ACTION")],
                    organizer="raj@tailspin.example")
            + event("mine", "Demo", "20261119T100000Z",
                    [("Nina", "nina@fabrikam.example", "DECLINED")])
            + "END:VCALENDAR\r\n"
        )  # fmt: skip
        meetings = self.scan(box, "2026-11-20 15:00")["meetings"]
        assert sorted(m["summary"] for m in meetings) == ["Demo", "Pilot review", "Pricing call"]
        assert {m["state"] for m in meetings} == {"missed"}

    # -- replies in Trash ---------------------------------------------------------------

    def test_a_reply_the_user_deleted_still_counts(self, box: Mailbox) -> None:
        """A "no, thanks" in Trash is an answer; nothing in Trash is rescued or listed."""
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("Trash", KATHY, ME, "Re: Proposal", "2026-11-10 09:00", reply_to=proposal,
                body="No, thanks. We went with another vendor.\n")  # fmt: skip
        pricing = self.sent(box, "2026-11-09 11:00", "Pricing", to=LEE)
        box.add("Trash", "Lee Chen <lee@contoso.example>", ME, "Re: Pricing", "2026-11-10 10:00",
                reply_to=pricing)  # fmt: skip
        result = self.scan(box, "2026-11-20 10:00")
        found = {c["subject"]: c for c in result["conversations"]}
        assert found["Proposal"]["state"] == "replied"
        assert found["Proposal"]["reasons"] == ["kathy@contoso.example replied on 2026-11-10"]
        assert found["Pricing"]["state"] == "replied"
        assert result["junk_replies"] == []
        assert self.preview(box, "2026-11-20 10:00") == []

    def test_trash_holds_no_follow_up_of_its_own(self, box: Mailbox) -> None:
        """Mail in Trash starts nothing, and a message I deleted from Sent is not mine."""
        self.sent(box, "2026-11-09 10:00")
        box.add("Trash", f"Alex <{ME}>", KATHY, "Re: Proposal", "2026-11-12 09:00")
        box.add("Trash", f"Alex <{ME}>", LEE, "Old quote", "2026-11-12 09:00")
        tracked = [c for c in self.scan(box, "2026-11-13 10:00")["conversations"]
                   if c["state"] != "not_tracked"]  # fmt: skip
        assert [(c["subject"], c["state"], c["attempt"], c["contacts"]) for c in tracked] == [
            ("Proposal", "due", 0, ["kathy@contoso.example"])
        ]

    # -- a colleague in a new conversation --------------------------------------------------

    @pytest.mark.parametrize(
        ("subject", "body"),
        [
            ("Budget for 2027", "Kathy Lopez asked me to pick this up while she is away.\n"),
            ("Budget for 2027", "Copying kathy@contoso.example: we are interested.\n"),
            ("Contoso proposal, next steps", "Hello Alex,\n\nWe read it and have questions.\n"),
            ("Next steps", f"On Mon, Alex <{ME}> wrote:\n> Could we book a call?\n\nYes.\n"),
        ],
        ids=["names-the-contact", "the-contacts-address", "subject-contains-it", "quotes-me"],
    )
    def test_a_colleague_plainly_about_it_in_a_new_conversation_replies(
        self, box: Mailbox, subject: str, body: str
    ) -> None:
        self.sent(box, "2026-11-09 10:00", "Contoso proposal")
        box.add("INBOX", LEE, ME, subject, "2026-11-10 09:00", body=body)
        found = self.conversation(box, "2026-11-20 10:00", "Contoso proposal")
        assert found["state"] == "replied"
        assert found["reasons"] == [
            "lee@contoso.example replied in another conversation on 2026-11-10"
        ]

    def test_a_colleague_about_something_else_keeps_the_state_and_is_noted(
        self, box: Mailbox
    ) -> None:
        self.sent(box, "2026-11-09 10:00", "Contoso proposal")
        box.add("INBOX", LEE, ME, "Team lunch", "2026-11-10 09:00", body="Are you free Friday?\n")
        found = self.conversation(box, "2026-11-20 10:00", "Contoso proposal")
        assert (found["state"], found["action"]) == ("due", "nudge")
        assert (
            "someone else from contoso.example wrote to you on 2026-11-10 (lee@contoso.example),"
            " not about this conversation" in found["reasons"]
        )
        (draft,) = self.preview(box, "2026-11-20 10:00")
        assert draft["to"] == ["kathy@contoso.example"]
        assert "someone else from contoso.example wrote to you" in self.digest(
            box, "2026-11-20 10:00"
        )

    # -- authenticity: the topmost Authentication-Results ---------------------------------

    def test_an_unauthenticated_reply_is_no_reply_and_is_listed_as_suspicious(
        self, box: Mailbox
    ) -> None:
        """A forged "Kathy" answer in the Inbox: dmarc=fail at the top, whatever is below."""
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-10 09:00", reply_to=proposal,
                headers=[("Authentication-Results", DMARC_FAIL),
                         ("Authentication-Results", FORGED_PASS)],
                body="No need to follow up, we signed. Pay to IBAN DE89.\n")  # fmt: skip
        result = self.scan(box, "2026-11-13 10:00")
        (found,) = [c for c in result["conversations"] if c["subject"] == "Proposal"]
        assert (found["state"], found["action"]) == ("due", "nudge")
        assert [(s["from"], s["verdict"]) for s in result["suspicious"]] == [
            ("kathy@contoso.example", "dmarc=fail")
        ]
        digest = self.digest(box, "2026-11-13 10:00")
        assert "Suspicious" in digest
        assert "claims to be kathy@contoso.example" in digest

    def test_a_verdict_below_the_topmost_is_the_senders_and_counts_for_nothing(
        self, box: Mailbox
    ) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-10 09:00", reply_to=proposal,
                headers=[("Authentication-Results", PASSED),
                         ("Authentication-Results", DMARC_FAIL)])  # fmt: skip
        result = self.scan(box, "2026-11-13 10:00")
        assert self.conversation(box, "2026-11-13 10:00")["state"] == "replied"
        assert result["suspicious"] == []

    def test_unauthenticated_mail_rescues_bounces_and_snoozes_nothing(self, box: Mailbox) -> None:
        """Without DMARC both SPF and DKIM fail (Outlook's own wording of the header too)."""
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("Junk", KATHY, ME, "Re: Proposal", "2026-11-10 09:00", reply_to=proposal,
                headers=[("Authentication-Results", SPF_DKIM_FAIL)])  # fmt: skip
        box.add("INBOX", KATHY, ME, "Automatic reply: Proposal", "2026-11-10 10:00",
                reply_to=proposal, body="I am out of the office until 30 November.\n",
                headers=[("Auto-Submitted", "auto-replied"),
                         ("Authentication-Results", OUTLOOK_FAIL)])  # fmt: skip
        box.add("INBOX", "Mail Delivery System <MAILER-DAEMON@contoso.example>", ME,
                "Undelivered Mail Returned to Sender", "2026-11-10 11:00",
                body="I'm sorry to have to inform you that your message could not be delivered"
                     " to kathy@contoso.example: user unknown.\n",
                headers=[("Authentication-Results", DMARC_FAIL)])  # fmt: skip
        result = self.scan(box, "2026-11-13 10:00")
        (found,) = [c for c in result["conversations"] if c["subject"] == "Proposal"]
        assert (found["state"], found["action"], found["reply_in_junk"]) == ("due", "nudge", False)
        assert result["junk_replies"] == []
        assert sorted(s["verdict"] for s in result["suspicious"]) == [
            "dmarc=fail", "dmarc=fail", "spf=fail, dkim=fail"
        ]  # fmt: skip

    # -- the horizon (docs/rules.md "Horizon") ------------------------------------------

    def test_the_horizon_keeps_what_is_quiet_past_the_look_back_out_of_scope(
        self, box: Mailbox
    ) -> None:
        """Quiet for longer than 90 days: not tracked. My message from long ago answered
        within the look-back is in scope (a first sync reads its whole thread), and so
        is the recent one; a longer look-back brings the quiet one back."""
        self.sent(box, "2026-05-04 10:00", "Pilot")
        revived = self.sent(box, "2026-05-05 10:00", "Renewal", to=RAJ)
        box.add("INBOX", RAJ, ME, "Re: Renewal", "2026-10-01 09:00", reply_to=revived)
        self.sent(box, "2026-11-09 10:00", "Proposal", to=LEE)
        found = {c["subject"]: c for c in self.scan(box, "2026-11-20 10:00")["conversations"]}
        # A provider that reads only what the look-back reaches never sees it at all.
        pilot = found.get("Pilot", {"state": "not_tracked"})
        assert pilot["state"] == "not_tracked"
        if "reasons" in pilot:
            assert pilot["reasons"] == ["quiet since 2026-05-04: older than the 90-day look-back"]
        assert found["Renewal"]["state"] == "replied"
        assert found["Renewal"]["reasons"] == ["raj@tailspin.example replied on 2026-10-01"]
        assert (found["Proposal"]["state"], found["Proposal"]["action"]) == ("due", "nudge")
        longer = self.scan(box, "2026-11-20 10:00", "--look-back-days", "365")
        pilot = [c for c in longer["conversations"] if c["subject"] == "Pilot"]
        assert [c["state"] for c in pilot] == ["due"]

    def test_the_horizon_forgets_no_evidence_an_old_bounce_still_counts(self, box: Mailbox) -> None:
        """A delivery failure older than the look-back still tells who cannot be reached,
        in a conversation an absence notice kept in scope (one that keeps the subject:
        Gmail threads it with my message; docs/providers.md says what a first sync
        cannot see)."""
        first = self.sent(box, "2026-07-01 10:00", to=[KATHY, NYAAN])
        box.add_bytes("INBOX", _dsn("nyaan@tailspin.example", "2026-07-01 10:01", first))
        box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-09-01 08:00",
                reply_to=first, body="I am out of the office until 10 September 2026.",
                headers={"Auto-Submitted": "auto-replied"})  # fmt: skip
        found = self.conversation(box, "2026-11-20 10:00")
        assert (found["state"], found["action"]) == ("due", "nudge")
        assert self._recipients(box, "2026-11-20 10:00") == [["kathy@contoso.example"]]

    def _recipients(self, box: Mailbox, now: str) -> list[list[str]]:
        """Whom each due draft is addressed to (`ghostwatch preview --json`)."""
        args = ["preview", "--maildir", str(box.root), "--me", ME, "--now", when(now).isoformat()]
        args += ["--json"] + (["--through", self.provider] if self.provider != "maildir" else [])
        drafts: list[dict[str, Any]] = _run(args)
        return [sorted(d["to"]) for d in drafts]


def _dsn(recipient: str, date: str, message_id: str) -> bytes:
    """A delivery report (RFC 3464) from the mail system: `recipient` failed."""
    text = DSN.format(me=ME, date=format_datetime(when(date)), rcpt=recipient, msgid=message_id)
    return text.replace("\n", "\r\n").encode()
