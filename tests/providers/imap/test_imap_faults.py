"""Faults against the real server: each ends with nothing duplicated and nothing missed.

The connection is cut mid-FETCH and mid-APPEND by a proxy on the real bytes
(`tests/support/cutting_proxy.py`); Dovecot itself is restarted during a cycle, has a
folder renumbered (a new UIDVALIDITY), a full quota, a folder deleted between polls,
and — another server entirely — no CONDSTORE, QRESYNC or LIST-STATUS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import structlog
from imapclient import IMAPClient

from ghostwatch.model.outbox import Draft
from ghostwatch.providers.imap.folders import Key
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.store import Store
from tests.contracts.contract_cycle import NOW, Wrapped, opened
from tests.support.cutting_proxy import Cut, CuttingProxy
from tests.support.imap_rig import ImapRig
from tests.support.imap_servers import ImapAccount, imap_account
from tests.support.paths import REPO
from tests.support.provider_rigs import Sleeps, kathy_answers, policy, sqlite_store

pytestmark = pytest.mark.server
EXAMPLE = REPO / "examples" / "mailbox"
SMALL_CAPABILITIES = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS MOVE SPECIAL-USE UNSELECT"
"""A server without CONDSTORE, QRESYNC or LIST-STATUS (Dovecot told to say so)."""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ImapRig]:
    with opened("imap", tmp_path) as found:
        assert isinstance(found, ImapRig)
        yield found


@pytest.fixture
def due(rig: ImapRig) -> Counter[str]:
    return Counter(d.step_key for d in rig.preview(NOW))


@pytest.fixture
def proxied(rig: ImapRig) -> CuttingProxy:
    """The proxy the rig's provider connects through, which can cut it."""
    assert rig.proxy is not None
    return rig.proxy


def _keys(source: ImapSource) -> set[str]:
    return {m.key for m in source.read_headers()}


def test_a_connection_cut_mid_fetch_is_read_again_on_a_new_one(
    rig: ImapRig, proxied: CuttingProxy
) -> None:
    clean = _keys(rig.imap.source())
    proxied.arm(Cut(after_server_bytes=6000))  # past the listing, inside the headers
    assert rig.source is not None
    assert _keys(rig.source) == clean
    assert (proxied.cuts, len(rig.sleeps)) == (1, 1)  # one cut, one new connection


@pytest.mark.parametrize("where", ["before the server has it", "after, the answer lost"])
def test_a_connection_cut_mid_append_makes_each_draft_once(
    rig: ImapRig, proxied: CuttingProxy, due: Counter[str], where: str
) -> None:
    if where.startswith("before"):
        proxied.arm(Cut(text=b"X-Ghostwatch-Step", from_client=True))
    else:
        proxied.arm(Cut(text=b"APPENDUID"))
    first = rig.cycle(NOW)
    assert [e.split(":")[0] for e in first.errors] == ["create_draft"]
    assert first.drafts_created == len(due) - 1  # the others went on a new connection
    rig.restart()
    second = rig.cycle(NOW)
    reconciled = 0 if where.startswith("before") else 1
    assert (second.drafts_created, second.drafts_reconciled) == (1 - reconciled, reconciled)
    assert rig.steps() == due


class _RestartFirst(Wrapped):
    """Dovecot restarts (every connection dropped) as the first draft is written."""

    def __init__(self, inner: Any, rig: ImapRig) -> None:
        super().__init__(inner)
        self.rig, self.done = rig, False

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        if not self.done:
            self.done = True
            self.rig.imap.dovecot.restart(graceful=False)
        made: str = self.inner.create_draft(draft, message, thread_id)
        return made


def test_dovecot_restarted_during_a_cycle_loses_and_doubles_nothing(
    rig: ImapRig, due: Counter[str]
) -> None:
    first = rig.cycle(NOW, _RestartFirst(rig.actions, rig))
    # The draft's first command (finding Drafts, safe to repeat) met the dead connection
    # and went again on a new one; the APPEND itself then ran once.
    assert (first.errors, first.drafts_created, len(rig.sleeps)) == ([], len(due), 1)
    assert rig.cycle(NOW).drafts_created == 0
    assert rig.steps() == due


def test_a_renumbered_folder_is_read_again_and_decides_the_same(
    rig: ImapRig, due: Counter[str]
) -> None:
    assert rig.cycle(NOW, junk_rescue=False).drafts_created == len(due)
    with rig.store.transaction() as tx:
        account = tx.account(rig.account, "imap", "alex@ghostwatch.example")
        before = {Key.parse(m.key) for m in tx.cached_headers(account, "imap")}
    for folder in ("INBOX", "Junk", "Drafts"):
        rig.imap.dovecot.reset_uidvalidity(folder)
    again = rig.cycle(NOW, junk_rescue=True)
    assert (again.errors, again.drafts_created, again.rescued) == ([], 0, 1)
    assert rig.steps() == due  # the drafts, under new UIDs, still prove their steps
    with rig.store.transaction() as tx:
        after = {Key.parse(m.key) for m in tx.cached_headers(account, "imap")}
    renumbered = {k.folder for k in after - before}
    assert renumbered >= {"INBOX", "Drafts"}
    assert len(after) == len(before) + len(due)  # the drafts; the rescue only moved one


def test_a_full_quota_writes_nothing_and_the_next_cycle_writes_all(
    rig: ImapRig, due: Counter[str]
) -> None:
    rig.imap.dovecot.set_quota("1K")
    rig.restart()  # the quota applies from the next login on
    full = rig.cycle(NOW)
    assert full.drafts_created == 0
    assert full.errors
    assert all("quota" in e.lower() for e in full.errors)
    assert rig.steps() == Counter()
    rig.imap.dovecot.set_quota(None)
    rig.restart()
    assert rig.cycle(NOW).drafts_created == len(due)
    assert rig.steps() == due


def test_a_folder_deleted_between_polls_takes_its_messages_with_it(rig: ImapRig) -> None:
    source = rig.source
    assert source is not None
    source.resume(None, [])
    with rig.client() as client:
        client.create_folder("Clients/Contoso")
        client.append("Clients/Contoso", kathy_answers())
    filed = {k for k in _keys(source) if k.startswith("Clients/Contoso/")}
    assert len(filed) == 1
    source.committed()
    with rig.client() as client:
        client.delete_folder("Clients/Contoso")
    assert not any(k.startswith("Clients/Contoso/") for k in _keys(source))
    delta = source.delta()
    assert delta is not None
    assert delta.removed == filed


def _events(captured: list[MutableMapping[str, Any]], name: str) -> int:
    return sum(1 for e in captured if e.get("event") == name)


def test_a_server_without_condstore_is_synced_by_uids_and_counts(tmp_path: Path) -> None:
    """UIDNEXT and MESSAGES (pipelined STATUS) find every arrival and expunge; the log
    says once that the server lacks CONDSTORE."""
    with ExitStack() as stack:
        plain = stack.enter_context(imap_account(EXAMPLE, capability=SMALL_CAPABILITIES))
        full = stack.enter_context(imap_account(EXAMPLE))
        with structlog.testing.capture_logs() as captured:
            _changes_found_the_same(plain, full)
        assert _events(captured, "imap_without_condstore") == 1


def _changes_found_the_same(plain: ImapAccount, full: ImapAccount) -> None:
    readers = {"plain": plain.source(policy(Sleeps())), "full": full.source(policy(Sleeps()))}
    for account, reader in ((plain, readers["plain"]), (full, readers["full"])):
        first = _keys(reader)
        idle = reader.session.wire.snapshot()
        assert _keys(reader) == first
        commands, trips = (n - m for n, m in zip(reader.session.wire.snapshot(), idle, strict=True))
        # One LIST-STATUS; without it LIST, then every STATUS in one pipelined round trip.
        assert trips == (1 if account is full else 2)
        account.dovecot.deliver(kathy_answers())
        fetched = reader.poller.fetched
        arrived = _keys(reader) - first
        assert len(arrived) == 1
        assert reader.poller.fetched - fetched == 1  # O(changes): the one new header
        with _client(account) as client:
            client.select_folder("INBOX")
            [gone] = client.search(["HEADER", "Subject", "Re: Proposal"])[:1] or [None]
            if gone is not None:
                client.add_flags([gone], [b"\\Deleted"], silent=True)
                client.uid_expunge([gone])
        assert len(_keys(reader)) == len(first)  # one arrived, one expunged
        assert commands >= 1
    assert len(_keys(readers["plain"])) == len(_keys(readers["full"]))


@contextmanager
def _client(account: ImapAccount) -> Iterator[IMAPClient]:
    """The test's own connection, as another mail client would open one."""
    server = account.dovecot
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(server.user, server.password)
    try:
        yield client
    finally:
        client.logout()


def test_a_restarted_process_goes_on_from_the_stored_cursors(tmp_path: Path) -> None:
    """The IMAP cursor round-trips through a real store, as a restarted process reads it."""
    with sqlite_store(tmp_path / "g.db") as store, imap_account(EXAMPLE) as account:
        source = account.source()
        _cursor_round_trip(store, source, account)


def _cursor_round_trip(store: Store, source: ImapSource, account: ImapAccount) -> None:
    source.resume(None, [])
    first = _keys(source)
    delta = source.delta()
    assert delta is not None
    with store.transaction() as tx:
        account_id = tx.account("alex", "imap", "alex@ghostwatch.example")
        tx.apply_sync(account_id, "imap", delta)
    source.committed()
    restarted = account.source()
    with store.transaction() as tx:
        restarted.resume(tx.cursor(account_id, "imap"), tx.cached_headers(account_id, "imap"))
    before = restarted.session.wire.snapshot()
    assert _keys(restarted) == first
    # A restarted process goes on from the stored cursors: no folder is read again.
    assert restarted.poller.fetched == 0
    # LOGIN, ENABLE QRESYNC, then one LIST-STATUS: nothing changed, nothing opened.
    assert restarted.session.wire.snapshot()[1] - before[1] == 3
