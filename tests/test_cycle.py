"""The service cycle against the Gmail sandbox: drafts once, never twice, never lost.

Every test drives the real Gmail client over HTTP (sandbox seeded from examples/mailbox)
and a SQLite store in tmp. "Crashes" are MailActions wrappers that raise a non-ghostwatch
exception, which escapes `run_cycle` as a dying process would.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog

from ghostwatch import logs
from ghostwatch.compose.values import Draft, Sender
from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.preview import compose_drafts, sender_from_mail
from ghostwatch.providers.gmail import GmailError, GmailSource
from ghostwatch.providers.gmail_actions import GmailActions
from ghostwatch.providers.maildir import MaildirMailbox
from ghostwatch.providers.port import MailActions
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.sandbox import GmailSandbox
from ghostwatch.scan import run_scan
from ghostwatch.service import CycleReport, run_cycle
from ghostwatch.store import LedgerStatus, Store
from tests.builder import Mailbox, when
from tests.sandbox_fixtures import client

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mailbox"

ME = "alex@ghostwatch.example"  # as in tests.builder
TZ = ZoneInfo("Europe/London")
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")
RULES = Rules(me=Identity.of([ME]), calendar=BusinessCalendar(TZ))
MUTATING = {"drafts.create", "drafts.update", "drafts.delete", "messages.modify"}
MUTATING |= {"messages.insert", "messages.send", "drafts.send"}


class Crash(Exception):
    """Not a GhostwatchError: the cycle does not catch it, as it cannot catch a kill."""


@pytest.fixture(scope="module")
def preview() -> tuple[Sender, list[Draft]]:
    """What `ghostwatch preview --through gmail` lists for the example mailbox.

    Through Gmail, not the Maildir: the cycle must agree with what the same provider shows
    (until Calendar is read through Gmail, the Maildir's .ics adds a meeting draft)."""
    with GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox:
        source = GmailSource(client(sandbox), batch_uri=sandbox.batch_uri)
        scan = run_scan(source, RULES, NOW)
        sender = sender_from_mail(scan, RULES.me, ME, None)
        return sender, compose_drafts(scan, source, sender, TZ)


@dataclass
class World:
    sandbox: GmailSandbox
    gmail: Any
    store: Store
    sender: Sender

    @property
    def actions(self) -> GmailActions:
        return GmailActions(self.gmail, batch_uri=self.sandbox.batch_uri)

    def cycle(self, actions: MailActions | None = None, **options: Any) -> CycleReport:
        source = GmailSource(self.gmail, batch_uri=self.sandbox.batch_uri)
        return run_cycle(
            ME,
            source,
            actions or self.actions,
            self.store,
            RULES,
            self.sender,
            NOW,
            TZ,
            **options,
        )

    def calls(self, method: str) -> int:
        return sum(1 for write in self.sandbox.writes if write.method == method)

    def steps(self) -> Counter[str]:
        """Step keys of every draft in the mailbox, counted (a duplicate shows as 2)."""
        found: Counter[str] = Counter()
        for draft in self.gmail.users().drafts().list(userId="me").execute().get("drafts", []):
            got = self.gmail.users().drafts().get(userId="me", id=draft["id"]).execute()
            found.update(h["value"] for h in _headers(got) if h["name"] == "X-Ghostwatch-Step")
        return found


def _headers(draft: dict[str, Any]) -> list[dict[str, str]]:
    return list(draft["message"]["payload"]["headers"])


@pytest.fixture
def world(tmp_path: Path, preview: tuple[Sender, list[Draft]]) -> Iterator[World]:
    with (
        GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox,
        Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store,
    ):
        store.upgrade()
        yield World(sandbox, client(sandbox), store, preview[0])


def _keys(drafts: list[Draft]) -> Counter[str]:
    return Counter(d.step_key for d in drafts)


# --- the write side on its own ----------------------------------------------------------------


def test_actions_write_what_they_say_and_read_steps_back(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ME, "x@example.com", "Hi"
    message["X-Ghostwatch-Step"] = "c1/nudge/1"
    message.set_content("hello\n")
    draft_id = world.actions.create_draft(preview[1][0], message, None)
    assert world.actions.existing_steps() == {"c1/nudge/1": draft_id}
    assert world.calls("drafts.create") == 1
    assert world.sandbox.sent == []


# --- the cycle --------------------------------------------------------------------------------


def test_first_cycle_writes_the_previewed_drafts_in_their_threads(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    report = world.cycle()
    assert report.drafts_created == len(preview[1]) > 0
    assert report.errors == []
    assert world.steps() == _keys(preview[1])
    by_id = {
        m.message_id: m
        for m in GmailSource(world.gmail, batch_uri=world.sandbox.batch_uri).read_headers()
    }
    for draft in preview[1]:
        draft_id = world.actions.existing_steps()[draft.step_key]
        got = world.gmail.users().drafts().get(userId="me", id=draft_id).execute()
        headers = {h["name"]: h["value"] for h in _headers(got)}
        assert headers["In-Reply-To"] == f"<{draft.in_reply_to}>"
        assert headers["Subject"] == draft.subject
        assert got["message"]["threadId"] == by_id[draft.in_reply_to].thread_id
    assert world.sandbox.sent == []


def test_a_second_cycle_writes_nothing_new(world: World) -> None:
    world.cycle()
    before = world.calls("drafts.create")
    again = world.cycle()
    assert again.drafts_created == 0
    assert world.calls("drafts.create") == before
    assert all(n == 1 for n in world.steps().values())


def test_dry_run_makes_no_mailbox_write(world: World, preview: tuple[Sender, list[Draft]]) -> None:
    report = world.cycle(dry_run=True, junk_rescue=True, digest=True)
    assert report.drafts_due == len(preview[1])
    assert report.drafts_created == 0
    assert [w for w in world.sandbox.writes if w.method in MUTATING] == []


class _Wrapped:
    """The real GmailActions, with one method replaced by a subclass."""

    def __init__(self, inner: GmailActions) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _CrashAfterCreate(_Wrapped):
    """drafts.create reaches Gmail, then the process dies before the confirmation."""

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        self.inner.create_draft(draft, message, thread_id)
        raise Crash


class _CrashBeforeCreate(_Wrapped):
    """The intent is committed, then the process dies before drafts.create is sent."""

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        raise Crash


def test_crash_after_the_call_is_confirmed_next_cycle_not_duplicated(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    with pytest.raises(Crash):
        world.cycle(_CrashAfterCreate(world.actions))
    assert world.calls("drafts.create") == 1
    report = world.cycle()
    assert report.drafts_reconciled == 1
    assert report.drafts_created == len(preview[1]) - 1
    assert world.steps() == _keys(preview[1])
    with world.store.transaction() as tx:
        assert tx.pending(1) == []


def test_crash_before_the_call_is_written_exactly_once_next_cycle(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    with pytest.raises(Crash):
        world.cycle(_CrashBeforeCreate(world.actions))
    with world.store.transaction() as tx:
        assert len(tx.pending(1)) == 1
    assert world.calls("drafts.create") == 0
    report = world.cycle()
    assert report.drafts_created == len(preview[1])
    assert report.drafts_reconciled == 0
    assert world.steps() == _keys(preview[1])
    with world.store.transaction() as tx:
        assert tx.pending(1) == []


def test_a_draft_the_user_deleted_is_not_made_again(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    world.cycle()
    gone = preview[1][0].step_key
    draft_id = world.actions.existing_steps()[gone]
    world.gmail.users().drafts().delete(userId="me", id=draft_id).execute()
    report = world.cycle()
    assert report.drafts_created == 0
    assert report.steps_abandoned == 1
    assert gone not in world.steps()
    with world.store.transaction() as tx:
        entry = tx.entry(1, f"draft:{gone}")
    assert entry is not None
    assert entry.status == LedgerStatus.ABANDONED
    assert world.cycle().steps_abandoned == 0  # abandoned once, then left alone


def test_junk_rescue_moves_the_reply_out_of_spam_once(world: World) -> None:
    first = world.cycle(junk_rescue=True)
    second = world.cycle(junk_rescue=True)
    assert first.rescued == 1
    assert second.rescued == 0
    assert world.calls("messages.modify") == 1
    moved = next(w for w in world.sandbox.writes if w.method == "messages.modify").ids[0]
    labels = world.gmail.users().messages().get(userId="me", id=moved).execute()["labelIds"]
    assert "INBOX" in labels
    assert "SPAM" not in labels


def test_digest_is_delivered_once_a_day(world: World) -> None:
    assert world.cycle(digest=True).digest_delivered
    assert not world.cycle(digest=True).digest_delivered
    assert world.calls("messages.insert") == 1
    inserted = next(w for w in world.sandbox.writes if w.method == "messages.insert").ids[0]
    labels = world.gmail.users().messages().get(userId="me", id=inserted).execute()["labelIds"]
    assert {"INBOX", "UNREAD"} <= set(labels)
    assert world.sandbox.sent == []


class _CrashAfterDigest(_Wrapped):
    def deliver_digest(self, message: EmailMessage) -> str:
        self.inner.deliver_digest(message)
        raise Crash


def test_a_digest_whose_confirmation_was_lost_is_found_not_resent(world: World) -> None:
    with pytest.raises(Crash):
        world.cycle(_CrashAfterDigest(world.actions), digest=True)
    # The crashed cycle reported nothing: the one that finds the digest counts it (once).
    assert world.cycle(digest=True).digest_delivered
    assert not world.cycle(digest=True).digest_delivered
    assert world.calls("messages.insert") == 1
    with world.store.transaction() as tx:
        assert tx.pending(1) == []
        assert tx.last_digest(1) is not None


def test_a_lost_digest_is_not_resent_while_the_mailbox_cannot_be_searched(
    world: World,
) -> None:
    world.cycle()  # a stored history cursor: later scans read history, not messages.list
    with pytest.raises(Crash):
        world.cycle(_CrashAfterDigest(world.actions), digest=True)
    waits: list[float] = []
    patient = GmailActions(world.gmail, world.sandbox.batch_uri, retry=RetryPolicy(
        sleep=waits.append))  # fmt: skip
    # Every attempt of the rfc822msgid: search fails: "unknown" must not read as "absent".
    world.sandbox.faults.add("500", count=RetryPolicy().attempts, method="messages.list")
    failed = world.cycle(patient, digest=True)
    assert [e.split(":")[0] for e in failed.errors] == ["find_message"]
    assert not failed.digest_delivered
    assert world.calls("messages.insert") == 1
    assert len(waits) == RetryPolicy().attempts - 1
    # Once the search answers, the digest is found and counted, still never inserted again.
    assert world.cycle(digest=True).digest_delivered
    assert world.calls("messages.insert") == 1


def test_one_summary_line_per_cycle_without_mail_or_contacts(world: World) -> None:
    saved, out = structlog.get_config(), io.StringIO()
    logs.configure("info", stream=out)  # the CLI's own set-up: JSON lines
    try:
        world.cycle(junk_rescue=True, digest=True)
    finally:
        structlog.configure(**saved)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    done = [line for line in lines if line["event"] == "cycle_done"]
    assert len(done) == 1
    assert done[0]["drafts"] == done[0]["drafts_due"] > 0
    # The account's own name is the only address; no contact, subject or body.
    assert "example" not in json.dumps({k: v for k, v in done[0].items() if k != "account"})


def test_a_failed_draft_header_read_is_an_error_not_an_absence(world: World) -> None:
    world.cycle()
    world.sandbox.faults.add("500", method="messages.get")
    with pytest.raises(GmailError):
        world.actions.existing_steps()


class _MailboxUnreadable(_Wrapped):
    def existing_steps(self) -> dict[str, str]:
        raise GmailError("Gmail answered 500")


def test_without_the_mailbox_proof_the_cycle_acts_on_nothing(world: World) -> None:
    world.cycle()
    draft_id = next(iter(world.actions.existing_steps().values()))
    world.gmail.users().drafts().delete(userId="me", id=draft_id).execute()
    before = len(world.sandbox.writes)
    report = world.cycle(_MailboxUnreadable(world.actions), junk_rescue=True, digest=True)
    assert report.errors == ["existing_steps: Gmail answered 500"]
    assert report.steps_abandoned == 0
    assert [w for w in world.sandbox.writes[before:] if w.method in MUTATING] == []


def test_a_new_silence_after_a_reply_owes_a_new_step(tmp_path: Path) -> None:
    """Attempt counting restarts after a reply; the step key must not repeat, or the
    ledger (one action per key) would never write the nudge the new silence is owed."""
    box = Mailbox(tmp_path / "mail")
    kathy = "Kathy <kathy@contoso.example>"
    first = box.add("Sent", ME, kathy, "Proposal", "2026-11-02 10:00")
    rules = Rules(Identity.of([ME]))
    sender = Sender("Alex", ME)

    def step_keys(now: str) -> list[str]:
        scan = run_scan(MaildirMailbox(box.root), rules, when(now))
        drafts = compose_drafts(scan, MaildirMailbox(box.root), sender, UTC)
        return [d.step_key for d in drafts]

    [before] = step_keys("2026-11-06 10:00")
    answer = box.add("INBOX", kathy, ME, "Re: Proposal", "2026-11-09 09:00", reply_to=first)
    box.add("Sent", ME, kathy, "Re: Proposal", "2026-11-09 11:00", reply_to=answer)
    [after] = step_keys("2026-11-20 10:00")
    assert before.rsplit("/", 1)[0] == after.rsplit("/", 1)[0]  # same conversation, nudge/0
    assert before != after
