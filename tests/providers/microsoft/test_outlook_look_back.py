"""An Outlook first sync with a look-back decides exactly as a full read (issue 20).

Each folder's delta reads only mail received within the look-back; every conversation
that holds such a message is then read whole by `conversationId`
(`providers/microsoft/older.py`), so the older messages the decisions need — my first
message, my earlier nudges, the prospect's old answer — are there, and a conversation
wholly older than the look-back is never read. Both reads go through the real provider
over HTTP against the Graph sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import ConversationDecision, State
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.retry import NO_RETRY
from ghostwatch.service.pipeline import run_scan
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import graph_client
from ghostwatch_sandbox.server import Request
from tests.support.builder import ME, Mailbox

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LOOK_BACK = timedelta(days=90)
SINCE = NOW - LOOK_BACK  # 2026-08-22
RULES = Rules(me=Identity.of([ME]), look_back=LOOK_BACK)


def _seed(root: Path) -> None:
    box = Mailbox(root)
    # Begun long before the look-back, live inside it: two nudges of mine are older, so
    # the third one counts as the third attempt.
    a = box.add("Sent", ME, "Ann <ann@acme.example>", "Offer A", "2026-05-04 09:00")
    a2 = box.add("Sent", ME, "Ann <ann@acme.example>", "Re: Offer A", "2026-05-18 09:00",
                 reply_to=a)  # fmt: skip
    box.add("Sent", ME, "Ann <ann@acme.example>", "Re: Offer A", "2026-11-02 09:00",
            reply_to=a2, references=[a])  # fmt: skip
    # My offer long ago, her answer within the look-back: she replied to me.
    b = box.add("Sent", ME, "Bob <bob@bolt.example>", "Offer B", "2026-06-01 09:00")
    box.add("INBOX", "Bob <bob@bolt.example>", ME, "Re: Offer B", "2026-11-16 10:00",
            reply_to=b)  # fmt: skip
    # Her old answer, then my new question within the look-back: one attempt after it.
    c = box.add("Sent", ME, "Cy <cy@corn.example>", "Offer C", "2026-04-01 09:00")
    c2 = box.add("INBOX", "Cy <cy@corn.example>", ME, "Re: Offer C", "2026-04-03 10:00",
                 reply_to=c)  # fmt: skip
    box.add("Sent", ME, "Cy <cy@corn.example>", "Re: Offer C", "2026-11-05 09:00",
            reply_to=c2, references=[c])  # fmt: skip
    # Wholly older than the look-back: never read.
    d = box.add("Sent", ME, "Dee <dee@dune.example>", "Offer D", "2026-03-01 09:00")
    box.add("Sent", ME, "Dee <dee@dune.example>", "Re: Offer D", "2026-03-15 09:00",
            reply_to=d)  # fmt: skip
    # My offer long ago; within the look-back her colleague writes anew under my subject,
    # in a conversation of its own (Threading: a subject and a sender who takes part).
    box.add("Sent", ME, ["Fay <fay@fig.example>", "Gil <gil@fig.example>"], "Offer F",
            "2026-05-05 09:00")  # fmt: skip
    box.add("INBOX", "Gil <gil@fig.example>", ME, "Offer F", "2026-11-12 10:00")
    # Wholly within it.
    box.add("Sent", ME, "Eve <eve@elm.example>", "Offer E", "2026-11-09 09:00")
    # Never mine: no decision follows it up, so its past is not asked for.
    news = box.add("INBOX", "News <news@letters.example>", ME, "Weekly", "2026-05-01 06:00")
    box.add("INBOX", "News <news@letters.example>", ME, "Re: Weekly", "2026-11-15 06:00",
            reply_to=news)  # fmt: skip


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphSandbox]:
    _seed(tmp_path / "mail")
    with GraphSandbox.serve(seed=tmp_path / "mail", user=ME) as sandbox:
        yield sandbox


def _decided(source: OutlookSource) -> dict[str, ConversationDecision]:
    plan = run_scan(source, RULES, NOW).plan
    return {d.subject: d for d in plan.conversations if d.state != State.NOT_TRACKED}


def test_a_look_back_first_sync_decides_as_a_full_read(graph: GraphSandbox) -> None:
    full = _decided(OutlookSource(graph_client(graph, retry=NO_RETRY)))
    assert set(full) == {"Offer A", "Offer B", "Offer C", "Offer E", "Offer F"}  # D: past it
    assert full["Offer A"].attempt != full["Offer C"].attempt  # the older mail mattered
    assert full["Offer B"].state == State.REPLIED

    graph.meter.methods.clear()
    source = OutlookSource(graph_client(graph, retry=NO_RETRY), since=SINCE)
    assert _decided(source) == full
    read = {m.subject for m in source.read_headers()}
    assert not read & {"Offer D", "Re: Offer D"}  # wholly older: not one message read
    assert "Weekly" not in read  # older, in a conversation that is not mine
    # Sent Items listed once, one request per conversation of mine that the look-back
    # reaches (A, B, C, E, and F's first: none for D's, nor the newsletter's), and one
    # for the reports received since my latest message of B and F, before the look-back.
    assert graph.meter.methods["messages.list"] == 1 + 5 + 1


def test_a_first_sync_without_the_older_messages_would_decide_otherwise(
    graph: GraphSandbox,
) -> None:
    """The proof above can fail: the delta alone (no conversation read whole) does not
    reach the full read's decisions on this mailbox."""
    full = _decided(OutlookSource(graph_client(graph, retry=NO_RETRY)))
    source = OutlookSource(graph_client(graph, retry=NO_RETRY), since=SINCE)
    source.sync.whole = None  # the delta's filter alone
    assert _decided(source) != full


def test_a_conversation_is_read_page_by_page(graph: GraphSandbox, tmp_path: Path) -> None:
    """A long conversation's pages are followed to the end (list messages pages by
    `$top`); the sandbox refuses `$orderby` beside the filter, as Exchange does."""
    box = graph.mailbox
    conversation = next(m.conversation_id for m in box.messages.values()
                        if m.subject == "Offer A")  # fmt: skip
    http = graph_client(graph, retry=NO_RETRY)
    literal = f"conversationId eq '{conversation}'"
    first = http.request("GET", "/me/messages", params={"$filter": literal, "$top": "2"})
    page = first.json()
    assert len(page["value"]) == 2
    rest = http.request("GET", http.relative(page["@odata.nextLink"])).json()
    assert len(rest["value"]) == 1
    assert "@odata.nextLink" not in rest
    ordered = {"$filter": literal, "$orderby": "receivedDateTime desc"}
    refused = graph.call(_get("/v1.0/me/messages", ordered, graph.token))
    assert refused.status == 400
    assert b"InefficientFilter" in refused.body


def _get(path: str, params: dict[str, str], token: str) -> Request:
    query = {k: [unquote(v)] for k, v in params.items()}
    headers = {"authorization": f"Bearer {token}"}
    return Request("GET", path, query, headers, b"")


def test_an_older_message_filed_after_the_first_sync_is_kept(graph: GraphSandbox) -> None:
    """After the first sync, a folder made since is read whole, and a message held
    that leaves a folder is kept wherever it went, however old: Cy's answer from
    before the look-back, filed into a new folder, still counts as her answer."""
    source = OutlookSource(graph_client(graph, retry=NO_RETRY), since=SINCE)
    before = _decided(source)
    clients = graph.add_folder("Clients")
    answer = next(m for m in graph.mailbox.messages.values()
                  if m.subject == "Re: Offer C" and m.folder == "inbox")  # fmt: skip
    client = graph_client(graph, retry=NO_RETRY)
    client.request("POST", f"/me/messages/{answer.immutable_id}/move",
                   json={"destinationId": clients})  # fmt: skip
    after = _decided(source)
    assert after == _decided(OutlookSource(graph_client(graph, retry=NO_RETRY)))
    assert after["Offer C"].attempt == before["Offer C"].attempt
