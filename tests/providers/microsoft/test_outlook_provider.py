"""The Outlook provider against the Graph sandbox, over real HTTP with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ghostwatch.model.mail import Folder, Mark
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.graph import OutlookError
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.port import MailSource
from ghostwatch.providers.retry import NO_RETRY, RetryPolicy
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import graph_client
from tests.contracts.contract_mail_source import NOW, MailSourceContract, seed
from tests.support.builder import ME

ARRIVAL = (
    b"From: Sam <sam@northwind.example>\r\nTo: alex@ghostwatch.example\r\n"
    b"Subject: New lead\r\nMessage-ID: <lead-1@northwind.example>\r\n"
    b"Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nHello!\r\n"
)


def outlook(sandbox: GraphSandbox, retry: RetryPolicy = NO_RETRY, **options: Any) -> OutlookSource:
    client = graph_client(sandbox, retry=retry)
    return OutlookSource(client, OutlookCalendar(client, ME), **options)


class TestOutlookContract(MailSourceContract):
    """The Outlook provider presents the seeded Maildir through the Graph sandbox."""

    states_my_answer = True

    @pytest.fixture(autouse=True)
    def _stop_sandboxes(self) -> Iterator[None]:
        self.running: list[object] = []
        yield
        for context in self.running:
            context.__exit__(None, None, None)  # type: ignore[attr-defined]

    def open_source(self, maildir: Path) -> MailSource:
        context = GraphSandbox.serve(seed=maildir, user=ME)
        self.running.append(context)
        return outlook(context.__enter__())


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphSandbox]:
    seed(tmp_path / "mail")
    with GraphSandbox.serve(seed=tmp_path / "mail", user=ME) as sandbox:
        yield sandbox


def test_an_idle_poll_is_one_request(graph: GraphSandbox) -> None:
    source = outlook(graph)
    first = source.read_headers()
    graph.meter.reset()
    assert sorted(m.key for m in source.read_headers()) == sorted(m.key for m in first)
    assert graph.meter.requests == 1
    # In one batch: the folder tree's delta, and one delta per folder read (Inbox, Sent
    # Items, Junk Email, Drafts, Deleted Items, Archive).
    assert graph.meter.methods == {"mailFolders.delta": 1, "messages.delta": 6}


def test_changes_arrive_and_moves_keep_the_key(graph: GraphSandbox) -> None:
    source = outlook(graph)
    junk = next(m for m in source.read_headers() if m.folder == Folder.JUNK)
    graph.deliver(ARRIVAL)
    graph_client(graph).request(
        "POST", f"/me/messages/{junk.key}/move", json={"destinationId": "inbox"}
    )
    after = {m.key: m for m in source.read_headers()}
    assert after[junk.key].folder == Folder.INBOX
    assert any(m.message_id == "lead-1@northwind.example" for m in after.values())
    assert len(after) == 5


def test_a_slim_change_keeps_what_was_known(graph: GraphSandbox) -> None:
    source = outlook(graph)
    before = {m.key: m for m in source.read_headers()}
    inbox = next(m for m in before.values() if m.folder == Folder.INBOX)
    graph_client(graph).request("PATCH", f"/me/messages/{inbox.key}", json={"isRead": False})
    graph.meter.reset()
    assert {m.key: m for m in source.read_headers()} == before
    assert graph.meter.requests == 1  # nothing fetched again


def test_sent_items_headers_come_from_their_mime_once(graph: GraphSandbox) -> None:
    source = outlook(graph)
    sent = [m for m in source.read_headers() if m.folder == Folder.SENT]
    assert [m.subject for m in sent] == ["Proposal"]
    assert graph.meter.methods["messages.getMime"] == 1
    source.read_headers()
    assert graph.meter.methods["messages.getMime"] == 1


def test_an_expired_delta_link_reads_the_folder_again(graph: GraphSandbox) -> None:
    source = outlook(graph)
    before = sorted(m.key for m in source.read_headers())
    graph.expire_delta()
    assert sorted(m.key for m in source.read_headers()) == before
    assert source.sync.resyncs == 6  # the five role folders and Archive


def test_a_staged_poll_is_replayed_until_committed(graph: GraphSandbox) -> None:
    source = outlook(graph, auto_commit=False)
    source.read_headers()
    assert source.cursors == {}
    cursors = source.commit()
    assert set(cursors) == {
        "inbox", "sentitems", "junkemail", "drafts", "deleteditems", graph.folder_id("archive")
    }  # fmt: skip
    graph.deliver(ARRIVAL)
    assert len(source.read_headers()) == 5
    assert source.cursors == cursors  # not committed: the next poll replays the arrival
    assert len(source.read_headers()) == 5
    assert source.commit() != cursors


def test_errors_are_translated_at_the_edge(graph: GraphSandbox) -> None:
    graph.faults.add("500", method="messages.delta")
    with pytest.raises(OutlookError, match="500"):
        outlook(graph).read_headers()
    graph.tokens.revoke(graph.token)
    with pytest.raises(OutlookError, match="401 InvalidAuthenticationToken"):
        outlook(graph).read_headers()


def test_throttled_parts_are_retried_after_what_graph_asked(graph: GraphSandbox) -> None:
    waits: list[float] = []
    source = outlook(graph, RetryPolicy(sleep=waits.append))
    graph.faults.add("429", method="messages.delta", retry_after=3)
    assert len(source.read_headers()) == 4
    assert len(waits) == 1
    assert waits[0] >= 3


def test_a_write_graph_may_have_done_is_not_retried(graph: GraphSandbox) -> None:
    waits: list[float] = []
    client = graph_client(graph, retry=RetryPolicy(sleep=waits.append))
    graph.faults.add("503", method="messages.create")
    with pytest.raises(OutlookError, match="503"):
        client.request("POST", "/me/messages", json={"subject": "x"})
    graph.faults.add("429", method="messages.create")
    assert client.request("POST", "/me/messages", json={"subject": "x"}).status == 201
    assert len(waits) == 1  # only the refused (429) create was tried again


def test_a_look_back_reads_only_recent_mail_and_keeps_it_in_the_links(
    graph: GraphSandbox,
) -> None:
    """Older mail only in the conversations the look-back reaches (read whole)."""
    since = datetime(2026, 11, 17, tzinfo=UTC)
    source = OutlookSource(graph_client(graph, retry=NO_RETRY), since=since)
    read = source.read_headers()
    recent = [m for m in read if m.date is not None and m.date >= since]
    assert {m.folder for m in recent} == {Folder.INBOX, Folder.JUNK, Folder.DRAFTS}
    older = [(m.folder, m.subject) for m in read if m not in recent]
    assert older == [(Folder.SENT, "Proposal")]  # its conversation goes on since
    graph.deliver(ARRIVAL)
    assert "New lead" in {m.subject for m in source.read_headers()}


def test_app_only_reads_the_user_mailbox(graph: GraphSandbox) -> None:
    client = graph_client(graph, app_only=True)
    assert client.mailbox == f"/users/{ME}"
    assert len(OutlookSource(client).read_headers()) == 4


def test_teams_attendance_decides_who_joined(graph: GraphSandbox) -> None:
    source = outlook(graph)
    window = (NOW - timedelta(days=14), NOW + timedelta(days=14))
    [event] = source.events(*window)
    assert event.external_joined is None  # no Teams meeting, no record
    graph.set_attendance("demo-1", joined_by_outsiders=True)
    [event] = source.events(*window)
    assert event.external_joined is True
    graph.set_attendance("demo-1", joined_by_outsiders=False)
    assert source.events(*window)[0].external_joined is False


def test_a_category_is_read_in_the_same_delta_and_an_idle_poll_stays_one_request(
    graph: GraphSandbox,
) -> None:
    """docs/rules.md, "The mailbox as the control panel": `categories` is in the delta's
    `$select`, so the user's `ghostwatch/mute` costs no request of its own."""
    source = outlook(graph)
    inbox = next(m for m in source.read_headers() if m.folder == Folder.INBOX)
    body = {"categories": ["Red category", "GhostWatch/Mute"]}
    graph_client(graph).request("PATCH", f"/me/messages/{inbox.key}", json=body)
    graph.meter.reset()
    marked = {m.key: m for m in source.read_headers()}[inbox.key]
    assert marked.marks == (Mark.MUTE,)
    assert graph.meter.requests == 1
    graph_client(graph).request("PATCH", f"/me/messages/{inbox.key}", json={"categories": []})
    assert {m.key: m for m in source.read_headers()}[inbox.key].marks == ()
    graph.meter.reset()
    source.read_headers()
    assert graph.meter.requests == 1


def test_a_category_the_sender_wrote_as_keywords_is_no_mark(graph: GraphSandbox) -> None:
    """Exchange makes a sender's `Keywords:` into categories (MS-OXCMAIL): a stranger must
    not mute a conversation by writing one."""
    source = outlook(graph)
    source.read_headers()
    graph.deliver(ARRIVAL.replace(b"Subject:", b"Keywords: ghostwatch/mute\r\nSubject:"))
    [arrived] = [m for m in graph.mailbox.messages.values() if m.subject == "New lead"]
    arrived.categories = ["ghostwatch/mute"]  # as Exchange's transport would set it
    graph.mailbox.changed(arrived)
    lead = next(m for m in source.read_headers() if m.subject == "New lead")
    assert lead.marks == ()
