"""The contract every provider's service cycle passes: drafts once, never twice, never lost.

One story, told once, for every mailbox (docs/architecture.md: one port, one suite). A provider's
test module subclasses `CycleContract` and names its `provider`; each story then runs
`run_cycle` against that provider's rig (`tests/support/provider_rigs.py`,
`tests/support/maildir_rig.py`)
seeded from examples/mailbox: the real Gmail and Graph clients over HTTP against the
in-package sandboxes, or a real Maildir in a temporary folder, with a SQLite store.

A "crash" is a `MailActions` wrapper (below, the only copy) that raises `Crash`, not a
`GhostwatchError`: the cycle does not catch it, as it cannot catch a kill. The next cycle
runs in a restarted process (new provider objects, the same database), as after a kill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import event

from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.port import MailActions
from ghostwatch.store import LedgerEntry, LedgerStatus, Store
from tests.support.builder import ME
from tests.support.maildir_rig import maildir_rig
from tests.support.paths import REPO
from tests.support.provider_rigs import (
    ATTEMPTS,
    SECOND,
    CycleRig,
    Rig,
    message,
    rig_for,
    sqlite_store,
)

EXAMPLE = REPO / "examples" / "mailbox"
NOW = SECOND
"""2026-11-20 15:00 UTC: in examples/mailbox, drafts are due and a reply waits in Junk."""
EDITED = "I rewrote this myself: could we meet on Tuesday instead?"
"""What the user makes of a ghostwatch draft before sending it."""
PATIENT = 30.0
"""The clients' read timeout here: no story times out, even on a loaded machine."""


IDLE_COMMITS = 5
"""Transactions an idle cycle commits whatever the number of steps it finds done."""


class Crash(Exception):
    """Not a GhostwatchError: it escapes `run_cycle` as a dying process would."""


class Wrapped:
    """A provider's real `MailActions`, with the methods a subclass defines replaced."""

    def __init__(self, inner: MailActions) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CrashAfterCreate(Wrapped):
    """The draft reaches the mailbox, then the process dies before the confirmation."""

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        self.inner.create_draft(draft, message, thread_id)
        raise Crash


class CrashBeforeCreate(Wrapped):
    """The intent is committed, then the process dies before the draft is written."""

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        raise Crash


class CrashAfterDigest(Wrapped):
    """The digest reaches the inbox, then the process dies before the confirmation."""

    def deliver_digest(self, message: EmailMessage) -> str:
        self.inner.deliver_digest(message)
        raise Crash


class CrashAfterWithdraw(Wrapped):
    """The draft is gone from the mailbox, then the process dies before the confirmation."""

    def withdraw_draft(self, draft_id: str) -> None:
        self.inner.withdraw_draft(draft_id)
        raise Crash


class CrashBeforeWithdraw(Wrapped):
    """The withdrawal's intent is committed, then the process dies before the call."""

    def withdraw_draft(self, draft_id: str) -> None:
        raise Crash


class CountingWithdrawals(Wrapped):
    """The real actions; each draft id a withdrawal was asked for, in order."""

    def __init__(self, inner: MailActions) -> None:
        super().__init__(inner)
        self.asked: list[str] = []

    def withdraw_draft(self, draft_id: str) -> None:
        self.asked.append(draft_id)
        self.inner.withdraw_draft(draft_id)


def answered(previewed: list[Draft]) -> Draft:
    """A due draft that answers a message of a prospect's: the one the prospect replies to."""
    return sorted((d for d in previewed if d.in_reply_to and d.to), key=lambda d: d.step_key)[0]


def reply_to(draft: Draft) -> bytes:
    """The prospect's answer to the message the draft follows up on, an hour before NOW."""
    prospect = draft.to[0]
    return message(
        formataddr((prospect.name, prospect.email)), ME, draft.subject, "2026-11-20 14:00",
        "Thanks, that works for us. Let us talk on Monday.\n",
        In_Reply_To=f"<{draft.in_reply_to}>", References=f"<{draft.in_reply_to}>",
    )  # fmt: skip


def user_draft(to: str, subject: str, *extra: tuple[str, str]) -> bytes:
    """A draft the user (or another app) wrote: no X-Ghostwatch-Step of ours."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = ME, to, subject
    mail["Date"] = format_datetime(NOW)
    mail["Message-ID"] = make_msgid(domain="test.example")
    for name, value in extra:
        mail[name] = value
    mail.set_content("My own words, not ghostwatch's.\n")
    return bytes(mail)


def open_rig(provider: str, seed: Path, store: Store) -> AbstractContextManager[CycleRig]:
    if provider == "maildir":
        return maildir_rig(seed, store)
    if provider == "imap":
        from tests.support.imap_rig import imap_rig

        return imap_rig(seed, store)
    return rig_for(provider, seed, store, timeout=PATIENT)


@contextmanager
def opened(provider: str, folder: Path) -> Iterator[CycleRig]:
    """A `provider` account seeded from examples/mailbox, its SQLite store in `folder`."""
    with sqlite_store(folder / "ghostwatch.db") as store, open_rig(provider, EXAMPLE, store) as rig:
        yield rig


def pending(rig: CycleRig) -> list[LedgerEntry]:
    with rig.store.transaction() as tx:
        return tx.pending(tx.account(rig.account, rig.provider, ME))


def entry(rig: CycleRig, key: str) -> LedgerEntry | None:
    with rig.store.transaction() as tx:
        return tx.entry(tx.account(rig.account, rig.provider, ME), key)


class CycleContract:
    """Subclass in a provider's test module and set `provider`; the subclass may add the
    provider's own tests, which get the same `rig` and `previewed` fixtures."""

    provider: str
    search_cannot_fail: str = ""
    """Why this provider's Message-ID search cannot be made to fail ("" when it can)."""
    step_cannot_vanish: str = ""
    """Why this provider's answer cannot leave out a draft's X-Ghostwatch-Step while the
    draft keeps its id ("" when it can)."""

    @pytest.fixture
    def rig(self, tmp_path: Path) -> Iterator[CycleRig]:
        with opened(self.provider, tmp_path) as rig:
            yield rig

    @pytest.fixture(scope="class")
    @classmethod
    def previewed(cls, tmp_path_factory: pytest.TempPathFactory) -> list[Draft]:
        """The drafts due at NOW as a fresh reader of this provider lists them, before any
        cycle (`ghostwatch preview --through PROVIDER`): once per class, not per test."""
        with opened(cls.provider, tmp_path_factory.mktemp("preview")) as rig:
            return rig.preview(NOW)

    @pytest.fixture
    def due(self, previewed: list[Draft]) -> Counter[str]:
        """Their step keys: what the mailbox must hold, each once."""
        keys = Counter(d.step_key for d in previewed)
        assert set(keys.values()) == {1}  # something is due, each step once
        return keys

    def test_drafts_are_made_once_and_a_restart_writes_nothing_new(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        first = rig.cycle(NOW)
        assert (first.errors, first.drafts_created) == ([], len(due))
        assert rig.steps() == due
        written = rig.mutations()
        assert rig.cycle(NOW).drafts_created == 0
        rig.restart()
        assert rig.cycle(NOW).drafts_created == 0
        assert rig.mutations() == written
        assert rig.steps() == due

    def test_an_idle_cycle_commits_a_few_transactions_not_one_per_step_taken(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        rig.cycle(NOW, junk_rescue=True)
        commits: list[object] = []

        def committed(connection: object) -> None:
            commits.append(connection)

        event.listen(rig.store.engine, "commit", committed)
        try:
            report = rig.cycle(NOW, junk_rescue=True)
        finally:
            event.remove(rig.store.engine, "commit", committed)
        assert (report.errors, report.drafts_created, report.rescued) == ([], 0, 0)
        # The account and what it chose, the pending intents, which due steps are taken
        # (one read for them all), the record: the steps learnt done cost nothing each.
        assert len(due) >= IDLE_COMMITS
        assert len(commits) <= IDLE_COMMITS, len(commits)

    def test_a_crash_after_the_create_is_reconciled_not_duplicated(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        with pytest.raises(Crash):
            rig.cycle(NOW, CrashAfterCreate(rig.actions))
        assert sum(rig.steps().values()) == 1
        rig.restart()
        report = rig.cycle(NOW)
        assert (report.drafts_reconciled, report.drafts_created) == (1, len(due) - 1)
        assert rig.steps() == due
        assert pending(rig) == []

    def test_a_crash_before_the_create_is_retried(self, rig: CycleRig, due: Counter[str]) -> None:
        with pytest.raises(Crash):
            rig.cycle(NOW, CrashBeforeCreate(rig.actions))
        assert len(pending(rig)) == 1
        assert rig.steps() == {}
        rig.restart()
        report = rig.cycle(NOW)
        assert (report.drafts_reconciled, report.drafts_created) == (0, len(due))
        assert rig.steps() == due
        assert pending(rig) == []

    def test_a_draft_the_user_deleted_is_abandoned_not_made_again(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        rig.cycle(NOW)
        gone = sorted(due)[0]
        rig.delete_draft(rig.actions.existing_steps()[gone])
        report = rig.cycle(NOW)
        assert (report.drafts_created, report.steps_abandoned) == (0, 1)
        assert rig.steps() == due - Counter([gone])
        abandoned = entry(rig, f"draft:{gone}")
        assert abandoned is not None
        assert abandoned.status == LedgerStatus.ABANDONED
        rig.restart()
        again = rig.cycle(NOW)  # abandoned once, then left alone
        assert (again.drafts_created, again.steps_abandoned) == (0, 0)

    def test_a_draft_whose_answer_lacks_the_step_header_is_not_written_off(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        """The ledger recorded the draft's id: while that id is in Drafts the draft is
        there, whatever an answer says of its headers (issue 14, the ledger's evidence)."""
        if self.step_cannot_vanish:
            pytest.skip(f"not applicable to {self.provider}: {self.step_cannot_vanish}")
        rig.cycle(NOW)
        quiet = sorted(due)[0]
        draft_id = rig.actions.existing_steps()[quiet]
        rig.forget_step(draft_id)
        rig.restart()
        assert quiet not in rig.actions.existing_steps()
        report = rig.cycle(NOW)
        assert (report.errors, report.steps_abandoned, report.drafts_created) == ([], 0, 0)
        kept = entry(rig, f"draft:{quiet}")
        assert kept is not None
        assert (kept.status, kept.provider_ref) == (LedgerStatus.DONE, draft_id)
        # Once that id is gone from Drafts, the user deleted it: abandoned, not made again.
        rig.delete_draft(draft_id)
        gone = rig.cycle(NOW)
        assert (gone.steps_abandoned, gone.drafts_created) == (1, 0)

    # --- drafts stay true (docs/rules.md) -------------------------------------------------

    def test_a_draft_is_withdrawn_once_the_prospect_replies_and_nothing_else_is_touched(
        self, rig: CycleRig, previewed: list[Draft], due: Counter[str]
    ) -> None:
        """(a) the draft of a conversation the prospect answered is withdrawn at the next
        cycle; (c) the user's own draft to the same person, another app's draft and every
        other ghostwatch draft stay."""
        rig.cycle(NOW)
        made = rig.actions.existing_steps()
        gone = answered(previewed)
        contact = gone.to[0].email
        mine = rig.add_draft(user_draft(contact, gone.subject))
        theirs = rig.add_draft(user_draft(contact, "Quote", ("X-Mailer-Plugin", "crm/2.1")))
        drafts = rig.count(Folder.DRAFTS)
        rig.deliver(reply_to(gone))
        rig.restart()
        counting = CountingWithdrawals(rig.actions)
        report = rig.cycle(NOW, counting)
        assert (report.errors, report.drafts_withdrawn, report.outdated) == ([], 1, [])
        assert rig.steps() == due - Counter([gone.step_key])
        assert rig.count(Folder.DRAFTS) == drafts - 1
        assert counting.asked == [made[gone.step_key]]  # not `mine`, not `theirs`
        assert {mine, theirs} <= rig.actions.draft_listing().ids
        withdrawn = entry(rig, f"draft:{gone.step_key}")
        assert withdrawn is not None
        assert withdrawn.status == LedgerStatus.WITHDRAWN
        rig.restart()
        again = rig.cycle(NOW)  # withdrawn once; nothing more to do
        assert (again.drafts_withdrawn, again.drafts_created, again.steps_abandoned) == (0, 0, 0)
        assert rig.count(Folder.DRAFTS) == drafts - 1

    def test_an_edited_draft_is_kept_and_listed_at_the_top_of_the_digest(
        self, rig: CycleRig, previewed: list[Draft], due: Counter[str]
    ) -> None:
        """(b) the user edited the draft before the prospect replied: it is theirs now."""
        rig.cycle(NOW)
        edited = answered(previewed)
        rig.edit_draft(rig.actions.existing_steps()[edited.step_key], EDITED)
        drafts = rig.count(Folder.DRAFTS)
        rig.deliver(reply_to(edited))
        rig.restart()
        counting = CountingWithdrawals(rig.actions)
        report = rig.cycle(NOW, counting, digest=True)
        assert (report.errors, report.drafts_withdrawn, counting.asked) == ([], 0, [])
        [outdated] = report.outdated
        assert edited.to[0].email in outdated.recipients
        assert rig.count(Folder.DRAFTS) == drafts
        digest = rig.digest_text().lower()  # the text part, or Graph's one (HTML) body
        listed = digest.index(f"“{outdated.subject}”".lower())
        assert "out of date" in digest[listed:]
        assert listed < digest.index("needs you today")
        rig.restart()
        later = rig.cycle(NOW)  # still kept, still listed, never deleted
        assert (later.drafts_withdrawn, len(later.outdated)) == (0, 1)
        assert rig.count(Folder.DRAFTS) == drafts

    @pytest.mark.parametrize("crash", [CrashBeforeWithdraw, CrashAfterWithdraw])
    def test_a_crash_inside_a_withdrawal_neither_loses_it_nor_deletes_twice(
        self, rig: CycleRig, previewed: list[Draft], due: Counter[str], crash: type[Wrapped]
    ) -> None:
        """(d) a crash between the intent and the confirmation of a withdrawal."""
        rig.cycle(NOW)
        gone = answered(previewed)
        drafts = rig.count(Folder.DRAFTS)
        rig.deliver(reply_to(gone))
        rig.restart()
        with pytest.raises(Crash):
            rig.cycle(NOW, crash(rig.actions))
        assert [e.kind for e in pending(rig)] == ["withdraw"]
        rig.restart()
        counting = CountingWithdrawals(rig.actions)
        report = rig.cycle(NOW, counting)
        assert (report.errors, report.drafts_withdrawn) == ([], 1)
        assert len(counting.asked) == (1 if crash is CrashBeforeWithdraw else 0)
        assert rig.count(Folder.DRAFTS) == drafts - 1
        assert rig.steps() == due - Counter([gone.step_key])
        assert pending(rig) == []
        rig.restart()
        assert rig.cycle(NOW).drafts_withdrawn == 0

    def test_the_digest_is_delivered_once_a_day(self, rig: CycleRig) -> None:
        assert rig.cycle(NOW, digest=True).digest_delivered
        rig.restart()
        assert not rig.cycle(NOW, digest=True).digest_delivered
        assert rig.digests() == 1

    def test_a_digest_whose_confirmation_was_lost_is_found_counted_once_not_resent(
        self, rig: CycleRig
    ) -> None:
        with pytest.raises(Crash):
            rig.cycle(NOW, CrashAfterDigest(rig.actions), digest=True)
        assert rig.digests() == 1
        rig.restart()
        # The crashed cycle reported nothing: the one that finds the digest counts it.
        assert rig.cycle(NOW, digest=True).digest_delivered
        assert not rig.cycle(NOW, digest=True).digest_delivered
        assert rig.digests() == 1
        assert pending(rig) == []
        with rig.store.transaction() as tx:
            assert tx.last_digest(tx.account(rig.account, rig.provider, ME)) is not None

    def test_a_lost_digest_is_not_resent_while_the_mailbox_cannot_be_searched(
        self, rig: CycleRig
    ) -> None:
        if self.search_cannot_fail:
            pytest.skip(f"not applicable to {self.provider}: {self.search_cannot_fail}")
        rig.cycle(NOW)  # a stored cursor: later scans read changes, not the search's list
        with pytest.raises(Crash):
            rig.cycle(NOW, CrashAfterDigest(rig.actions), digest=True)
        rig.restart()
        # Every attempt of the Message-ID search fails: "unknown" must not read as "absent".
        # Both APIs search by listing messages (Gmail q=rfc822msgid:, Graph $filter).
        cast(Rig, rig).arm("500", "messages.list", count=ATTEMPTS)
        failed = rig.cycle(NOW, digest=True)
        assert [e.split(":")[0] for e in failed.errors] == ["find_digest"]
        assert not failed.digest_delivered
        assert len(rig.sleeps) == ATTEMPTS - 1  # it did ask, patiently, before giving up
        assert rig.digests() == 1
        rig.restart()
        # Once the search answers, the digest is found and counted, never made again.
        assert rig.cycle(NOW, digest=True).digest_delivered
        assert rig.digests() == 1

    def test_junk_rescue_moves_the_reply_into_the_inbox_once(
        self, rig: CycleRig, due: Counter[str]
    ) -> None:
        junk, inbox = rig.count(Folder.JUNK), rig.count(Folder.INBOX)
        assert rig.cycle(NOW, junk_rescue=True).rescued == 1
        rig.restart()
        assert rig.cycle(NOW, junk_rescue=True).rescued == 0
        assert (rig.count(Folder.JUNK), rig.count(Folder.INBOX)) == (junk - 1, inbox + 1)
        assert rig.steps() == due  # the moved reply is not a new conversation to nudge

    def test_dry_run_makes_no_mailbox_write(self, rig: CycleRig, due: Counter[str]) -> None:
        report = rig.cycle(NOW, dry_run=True, junk_rescue=True, digest=True)
        assert (report.drafts_due, report.drafts_created) == (len(due), 0)
        assert rig.mutations() == []
        assert (rig.steps(), rig.digests()) == ({}, 0)
