"""Outlook reads every mail folder (docs/rules.md: a reply counts "in any folder"): mail
the user archived, mail a rule filed into a folder of their own, folders made or deleted
between polls, and messages that move while a poll reads them. Over real HTTP (httpx)
against the Graph sandbox, which meters every request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.mail import Folder, Message
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import NO_RETRY
from ghostwatch.service.cycle import CycleReport, run_cycle
from ghostwatch.store import Store
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import graph_client
from tests.support.builder import ME, Mailbox, by_subject, scan, when

KATHY = "Kathy Lopez <kathy@contoso.example>"
RAJ = "Raj Patel <raj@tailspin.example>"
ROLE_FOLDERS = {"inbox", "sentitems", "junkemail", "drafts"}
TZ = ZoneInfo("Europe/London")
RULES = Rules(me=Identity.of([ME]), calendar=BusinessCalendar(TZ))
SENDER = Sender(name="Alex", address=ME, signature="Alex")
ROOT_ID = "msgfolderroot"
"""The well-known name of the folder the top-level folders sit in."""


def reply(subject: str, message_id: str, sender: str = KATHY) -> bytes:
    return (
        f"From: {sender}\r\nTo: {ME}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        "Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nThursday works.\r\n"
    ).encode()


def seed(root: Path) -> Mailbox:
    """Two proposals: Kathy's reply archived, Raj's filed by a rule into Clients/Tailspin."""
    box = Mailbox(root)
    kathy = box.add("Sent", ME, KATHY, "Proposal", "2026-11-16 10:00")
    raj = box.add("Sent", ME, RAJ, "Pricing", "2026-11-16 11:00")
    box.add("Archive", KATHY, ME, "Re: Proposal", "2026-11-17 09:00", reply_to=kathy)
    box.add("Clients.Tailspin", RAJ, ME, "Re: Pricing", "2026-11-17 10:00", reply_to=raj)
    box.add("Trash", "old@fabrikam.example", ME, "Old news", "2026-11-10 12:00")
    box.folder("Clients.Contoso")
    return box


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphSandbox]:
    seed(tmp_path / "mail")
    with GraphSandbox.serve(seed=tmp_path / "mail", user=ME) as sandbox:
        yield sandbox


def source(graph: GraphSandbox, client: GraphClient | None = None) -> OutlookSource:
    return OutlookSource(client or graph_client(graph, retry=NO_RETRY))


def by_subject_of(messages: list[Message]) -> dict[str, Message]:
    return {m.subject: m for m in messages}


def test_a_reply_archived_or_filed_in_a_nested_folder_is_replied_through_every_provider(
    tmp_path: Path,
) -> None:
    # scan() reads the Maildir directly and through Gmail and Outlook, and asserts all
    # three decide the same.
    result = by_subject(scan(seed(tmp_path / "mail"), "2026-11-20 15:00"))
    assert result["Proposal"]["state"] == "replied"
    assert result["Pricing"]["state"] == "replied"


def test_archive_and_folders_of_the_users_own_are_read_as_role_other(graph: GraphSandbox) -> None:
    read = by_subject_of(source(graph).read_headers())
    assert set(read) == {"Proposal", "Pricing", "Re: Proposal", "Re: Pricing", "Old news"}
    assert (read["Old news"].folder, read["Old news"].place) == (Folder.TRASH, None)
    assert (read["Re: Proposal"].folder, read["Re: Proposal"].place) == (
        Folder.OTHER,
        graph.folder_id("archive"),
    )
    assert read["Re: Pricing"].place == graph.folder_id("Clients/Tailspin")
    assert (read["Proposal"].folder, read["Proposal"].place) == (Folder.SENT, None)


def test_folders_that_hold_no_replies_are_not_read_and_the_others_are(
    graph: GraphSandbox,
) -> None:
    graph.add_folder("Deleted Items/Old project")
    graph.add_folder("Vault", hidden=True)
    graph.add_folder("Inbox/Weekly", search="contains(subject, 'weekly')")
    for n, folder in enumerate(
        ["outbox", "conversationhistory", "syncissues", "conflicts", graph.folder_id("Vault")]
    ):
        graph.deliver(reply(f"Not read {n}", f"skip-{n}@contoso.example"), folder=folder)
    # A folder the user deleted is in the trash, and a reply in it is still an answer.
    deleted = graph.folder_id("Deleted Items/Old project")
    graph.deliver(reply("Re: Old project", "old@contoso.example"), folder=deleted)
    read = by_subject_of(source(graph).read_headers())
    # Nor the search folder: the sandbox would refuse its delta, failing the poll.
    assert set(read) == {
        "Proposal", "Pricing", "Re: Proposal", "Re: Pricing", "Old news", "Re: Old project"
    }  # fmt: skip
    assert (read["Re: Old project"].folder, read["Re: Old project"].place) == (
        Folder.OTHER,
        deleted,
    )


def test_an_idle_poll_is_one_request_with_every_folder_in_it(graph: GraphSandbox) -> None:
    outlook = source(graph)
    first = outlook.read_headers()
    graph.meter.reset()
    assert outlook.read_headers() == first
    # In one batch: the tree's delta and nine message deltas (the five role folders,
    # Archive, Clients, Clients/Tailspin and the empty Clients/Contoso).
    assert graph.meter.requests == 1
    assert graph.meter.methods == {"mailFolders.delta": 1, "messages.delta": 9}


def test_past_nineteen_folders_an_idle_poll_takes_a_second_batch(graph: GraphSandbox) -> None:
    for n in range(11):
        graph.add_folder(f"Project {n:02d}")
    outlook = source(graph)
    outlook.read_headers()
    graph.meter.reset()
    outlook.read_headers()
    assert graph.meter.methods == {"mailFolders.delta": 1, "messages.delta": 20}
    assert graph.meter.requests == 2  # JSON batches hold 20 requests


def test_a_folder_made_after_the_first_sync_is_read(graph: GraphSandbox) -> None:
    outlook = source(graph)
    outlook.read_headers()
    made = graph_client(graph).request(
        "POST",
        f"/me/mailFolders/{graph.folder_id('Clients')}/childFolders",
        json={"displayName": "Northwind"},
    )
    graph.deliver(reply("Re: Intro", "intro@northwind.example"), folder=made.json()["id"])
    graph.meter.reset()
    read = by_subject_of(outlook.read_headers())
    assert read["Re: Intro"].place == made.json()["id"]
    # The tree's delta showed the folder in the first batch; its first delta the next.
    assert graph.meter.requests == 2


def test_a_folder_deleted_into_the_trash_keeps_its_replies_until_deleted_for_good(
    graph: GraphSandbox,
) -> None:
    outlook = source(graph)
    tailspin = graph.folder_id("Clients/Tailspin")
    assert by_subject_of(outlook.read_headers())["Re: Pricing"].place == tailspin
    client = graph_client(graph)
    client.request("DELETE", f"/me/mailFolders/{graph.folder_id('Clients')}")  # into Trash
    # A reply the user deleted is still an answer (docs/rules.md, "Replied").
    assert by_subject_of(outlook.read_headers())["Re: Pricing"].place == tailspin
    restored = graph.folder_id("Deleted Items/Clients")
    client.request("POST", f"/me/mailFolders/{restored}/move", json={"destinationId": ROOT_ID})
    assert "Re: Pricing" in by_subject_of(outlook.read_headers())
    client.request("POST", f"/me/mailFolders/{restored}/permanentDelete")
    assert "Re: Pricing" not in by_subject_of(outlook.read_headers())


@pytest.mark.parametrize("towards_the_inbox", [False, True], ids=["filed", "taken_back"])
def test_a_move_between_folders_in_one_poll_keeps_the_message(
    graph: GraphSandbox, towards_the_inbox: bool
) -> None:
    # The Inbox's answer is applied before a user folder's: filing a message away meets
    # the removal first, taking it back meets the arrival first.
    outlook = source(graph)
    key = by_subject_of(outlook.read_headers())["Re: Pricing"].key
    tailspin = graph.folder_id("Clients/Tailspin")
    if towards_the_inbox:
        graph_client(graph).request(
            "POST", f"/me/messages/{key}/move", json={"destinationId": "inbox"}
        )
    else:
        contoso = graph.folder_id("Clients/Contoso")
        graph_client(graph).request(
            "POST", f"/me/messages/{key}/move", json={"destinationId": contoso}
        )
    graph.meter.reset()
    moved = {m.key: m for m in outlook.read_headers()}[key]
    expected = (Folder.INBOX, None) if towards_the_inbox else (Folder.OTHER, contoso)
    assert (moved.folder, moved.place) == expected
    assert moved.place != tailspin
    assert graph.meter.methods["messages.get"] == 0  # seen arriving: nothing to look up


@pytest.mark.parametrize("into", ["inbox", "a new folder"])
def test_a_message_that_left_before_its_new_folder_was_read_is_looked_up(
    graph: GraphSandbox, into: str
) -> None:
    """Past 19 folders a poll takes two batches; a move between them shows the message
    leaving its folder (second batch) but not arriving (first batch, or a folder made
    after the tree was read)."""
    for n in range(16):
        graph.add_folder(f"Project {n:02d}")
    late = graph.add_folder("Zulu")  # the last folder asked, in the second batch
    key = graph.deliver(reply("Re: Proposal", "late-reply@contoso.example"), folder=late)
    batches: list[int] = []

    def move_after_the_first_batch(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/$batch"):
            batches.append(1)
            if len(batches) == 1:
                target = "inbox" if into == "inbox" else graph.add_folder("Clients/Fabrikam")
                graph_client(graph).request(
                    "POST", f"/me/messages/{key}/move", json={"destinationId": target}
                )

    outlook = source(graph)
    assert by_subject_of(outlook.read_headers())  # first sync, before the hook
    outlook.sync.client.http = httpx.Client(event_hooks={"response": [move_after_the_first_batch]})
    graph.meter.reset()
    read = {m.key: m for m in outlook.read_headers()}
    assert read[key].folder == (Folder.INBOX if into == "inbox" else Folder.OTHER)
    assert graph.meter.methods["messages.get"] == 1  # looked up once, by id
    # A folder made mid-poll: the tree is read again and the folder from scratch.
    assert graph.meter.methods["mailFolders.delta"] == (1 if into == "inbox" else 2)
    assert {m.key: m for m in outlook.read_headers()}[key] == read[key]


def test_a_cursor_from_before_folders_were_read_continues_and_reads_the_rest(
    graph: GraphSandbox,
) -> None:
    old = source(graph)
    everything = sorted(m.key for m in old.read_headers())
    # What a cursor held before: the four role folders' links and their messages.
    links = {folder: link for folder, link in old.cursors.items() if folder in ROLE_FOLDERS}
    headers = [m for m in old.read_headers() if m.place is None]
    upgraded = OutlookSource(graph_client(graph, retry=NO_RETRY), auto_commit=False)
    upgraded.resume(json.dumps(links), headers)
    graph.meter.reset()
    assert sorted(m.key for m in upgraded.read_headers()) == everything
    delta = upgraded.delta()
    assert delta is not None
    assert not delta.reset  # the four folders' stored mail is kept, the rest is added
    assert {m.subject for m in delta.upserts.values()} == {"Re: Proposal", "Re: Pricing"}
    assert set(json.loads(delta.cursor)) == {"links", "tree"}


def test_a_reply_filed_away_between_two_polls_stays_a_reply(tmp_path: Path) -> None:
    """Kathy answers in the Inbox; after the first cycle a rule (or the user) files her
    answer into Clients/Contoso. The next, incremental cycles — and a restarted process —
    must still see it: a nudge now would chase someone who already replied."""
    box = Mailbox(tmp_path / "mail")
    box.add("Sent", ME, KATHY, "Proposal", "2026-11-16 10:00")
    box.folder("Clients.Contoso")
    with (
        GraphSandbox.serve(seed=box.root, user=ME) as graph,
        Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store,
    ):
        store.upgrade()
        answer = graph.deliver(reply("Re: Proposal", "answer@contoso.example"))

        def cycle(outlook: OutlookSource, now: str) -> CycleReport:
            actions = OutlookActions(graph_client(graph))
            return run_cycle(ME, outlook, actions, store, RULES, SENDER, when(now), TZ,
                             provider="outlook")  # fmt: skip

        outlook = OutlookSource(graph_client(graph), auto_commit=False)
        assert cycle(outlook, "2026-11-20 15:00").states == {"replied": 1}
        contoso = graph.folder_id("Clients/Contoso")
        graph_client(graph).request("POST", f"/me/messages/{answer}/move",
                               json={"destinationId": contoso})  # fmt: skip
        later = cycle(outlook, "2026-11-23 15:00")
        assert (later.states, later.drafts_due, later.drafts_created) == ({"replied": 1}, 0, 0)
        restarted = cycle(OutlookSource(graph_client(graph), auto_commit=False), "2026-11-24 15:00")
        assert (restarted.states, restarted.drafts_created) == ({"replied": 1}, 0)
        with store.transaction() as tx:
            stored = {m.key: m for m in tx.cached_headers(1, "outlook")}
        assert (stored[answer].folder, stored[answer].place) == (Folder.OTHER, contoso)
        assert not [w for w in graph.writes if w.method == "messages.createReply"]
