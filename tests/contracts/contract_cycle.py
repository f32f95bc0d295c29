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
from pathlib import Path
from typing import Any, cast

import pytest

from ghostwatch.model.mail import Folder
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.port import MailActions
from ghostwatch.store import LedgerEntry, LedgerStatus, Store
from tests.support.builder import ME
from tests.support.maildir_rig import maildir_rig
from tests.support.paths import REPO
from tests.support.provider_rigs import ATTEMPTS, SECOND, CycleRig, Rig, rig_for, sqlite_store

EXAMPLE = REPO / "examples" / "mailbox"
NOW = SECOND
"""2026-11-20 15:00 UTC: in examples/mailbox, drafts are due and a reply waits in Junk."""
PATIENT = 30.0
"""The clients' read timeout here: no story times out, even on a loaded machine."""


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
