"""Said stop, or said later (docs/rules.md), alike on every provider.

Each scenario is a small Maildir++ mailbox decided by the real CLI — `ghostwatch scan`
and `ghostwatch preview` on the Maildir itself, or `--through gmail|outlook|imap`, which
read the same mailbox through that provider and its sandbox (or a real Dovecot) — and
asserts what the rule decides, so a provider that reads a reply's words differently
fails by name. A provider's test module subclasses `IntentsContract` and sets `provider`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.contracts.contract_rules import DMARC_FAIL
from tests.support.builder import ME, Mailbox, when

KATHY = "Kathy Lopez <kathy@contoso.example>"
LEE = "Lee Chen <lee@contoso.example>"
QUOTE = "\n\nOn Mon, 9 Nov 2026 at 10:00, Alex <alex@ghostwatch.example> wrote:\n> {}\n"


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class IntentsContract:
    """Subclass in a provider's test module and set `provider`."""

    provider: str

    @pytest.fixture
    def box(self, tmp_path: Path) -> Mailbox:
        return Mailbox(tmp_path / "mail")

    def _args(self, command: str, box: Mailbox, now: str, tz: str, *extra: str) -> list[str]:
        args = [command, "--maildir", str(box.root), "--me", ME, "--now", when(now).isoformat()]
        args += ["--tz", tz, "--json", *extra]
        return args + (["--through", self.provider] if self.provider != "maildir" else [])

    def scan(self, box: Mailbox, now: str, *extra: str, tz: str = "UTC") -> dict[str, Any]:
        """Conversations by subject (each scenario's subjects are distinct)."""
        found = _run(self._args("scan", box, now, tz, "--all", *extra))
        subjects = [c["subject"] for c in found["conversations"]]
        assert len(subjects) == len(set(subjects)), subjects
        return {c["subject"]: c for c in found["conversations"]}

    def drafts(self, box: Mailbox, now: str, *extra: str, tz: str = "UTC") -> list[Any]:
        found: list[Any] = _run(self._args("preview", box, now, tz, *extra))
        return found

    @staticmethod
    def sent(box: Mailbox, date: str, subject: str = "Proposal", **kw: Any) -> str:
        return box.add("Sent", f"Alex <{ME}>", kw.pop("to", KATHY), subject, date, **kw)

    @staticmethod
    def answer(box: Mailbox, to: str, date: str, body: str, sender: str = KATHY) -> str:
        return box.add("INBOX", sender, ME, "Re: Proposal", date, reply_to=to, body=body)

    # -- opt-out ------------------------------------------------------------------------

    def test_an_opt_out_mutes_the_conversation_with_its_reason(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        stop = self.answer(
            box, proposal, "2026-11-10 09:00", "Not interested, please stop emailing me."
        )
        self.sent(box, "2026-11-11 10:00", body="Understood, thank you.", reply_to=stop)
        found = self.scan(box, "2026-11-25 10:00")["Proposal"]
        assert found["state"] == "muted"
        assert found["reasons"] == ["kathy@contoso.example asked on 2026-11-10 not to be contacted"]
        assert self.drafts(box, "2026-11-25 10:00") == []

    def test_an_opt_out_holds_in_a_conversation_started_later(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-02 10:00")
        self.answer(box, proposal, "2026-11-03 09:00", "Bitte nehmen Sie mich aus dem Verteiler.")
        self.sent(box, "2026-11-16 10:00", subject="New pricing for 2027")
        self.sent(box, "2026-11-16 11:00", subject="Pilot", to=[KATHY, LEE])
        found = self.scan(box, "2026-11-25 10:00")
        assert found["New pricing for 2027"]["state"] == "muted"
        assert found["Proposal"]["state"] == "muted"
        # Lee did not ask: the pilot is followed up, to Lee alone.
        assert found["Pilot"]["state"] == "due"
        drafts = self.drafts(box, "2026-11-25 10:00")
        assert [(d["subject"], d["to"]) for d in drafts] == [("Re: Pilot", ["lee@contoso.example"])]

    def test_words_in_the_quoted_original_do_not_opt_out(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        quoted = QUOTE.format("If this is not for you, just say 'please remove me'.")
        good = self.answer(box, proposal, "2026-11-10 09:00", "Thanks, this looks good!" + quoted)
        self.sent(box, "2026-11-11 10:00", reply_to=good)
        found = self.scan(box, "2026-11-25 10:00")["Proposal"]
        assert found["state"] == "due"

    def test_an_automatic_reply_carries_no_intent(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add(
            "INBOX", KATHY, ME, "Automatic reply: Proposal", "2026-11-09 10:01",
            reply_to=proposal, headers={"Auto-Submitted": "auto-replied"},
            body="This mailbox is closed. Please remove me from your list and do not contact me.",
        )  # fmt: skip
        found = self.scan(box, "2026-11-25 10:00")["Proposal"]
        assert found["state"] == "due"

    def test_an_unauthenticated_opt_out_stops_nothing(self, box: Mailbox) -> None:
        """A forger writing "please remove me" as Kathy must not silence her follow-ups."""
        proposal = self.sent(box, "2026-11-09 10:00")
        box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-10 09:00", reply_to=proposal,
                headers=[("Authentication-Results", DMARC_FAIL)],
                body="Please remove me from your list.")  # fmt: skip
        self.sent(box, "2026-11-16 10:00", subject="New pricing")
        found = self.scan(box, "2026-11-25 10:00")
        # Both are followed up (one draft to Kathy a day: the newer one waits its turn).
        assert (found["Proposal"]["state"], found["Proposal"]["action"]) == ("due", "nudge")
        assert found["New pricing"]["state"] == "waiting"
        assert not any("not to be contacted" in r for c in found.values() for r in c["reasons"])

    # -- deferral -----------------------------------------------------------------------

    def test_a_deferral_snoozes_until_the_first_business_day_it_names(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        self.answer(box, proposal, "2026-11-10 09:00", "Not now — get back to me in January.")
        berlin = ("--country", "DE")
        found = self.scan(box, "2026-11-25 10:00", *berlin, tz="Europe/Berlin")["Proposal"]
        assert found["state"] == "snoozed"
        # 1 January 2027 is a public holiday in Germany: the 4th is the first business day.
        assert found["snoozed_until"] == "2027-01-04T00:00:00+01:00"
        assert found["action"] == "none"
        assert self.drafts(box, "2026-11-25 10:00", *berlin, tz="Europe/Berlin") == []

    def test_when_the_named_time_comes_a_nudge_says_they_asked_for_now(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        self.answer(box, proposal, "2026-11-10 09:00", "Let's talk next quarter, not now.")
        found = self.scan(box, "2027-01-05 10:00")["Proposal"]
        assert (found["state"], found["action"], found["attempt"]) == ("due", "nudge", 0)
        assert found["due_at"] == "2027-01-01T00:00:00+00:00"
        (draft,) = self.drafts(box, "2027-01-05 10:00")
        assert draft["to"] == ["kathy@contoso.example"]
        assert "asked me to get back in touch around now" in draft["text"]

    def test_a_later_message_ends_the_deferral(self, box: Mailbox) -> None:
        proposal = self.sent(box, "2026-11-09 10:00")
        later = self.answer(
            box, proposal, "2026-11-10 09:00", "Please reach out again after 15 March."
        )
        self.sent(
            box, "2026-11-12 10:00", body="Will do. One question before then?", reply_to=later
        )
        found = self.scan(box, "2026-11-25 10:00")["Proposal"]
        assert found["state"] == "due"
        assert found["snoozed_until"] is None
