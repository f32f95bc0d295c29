"""What the Microsoft Graph v1.0 reference allows Exchange to do, one freedom at a time
(`ghostwatch_sandbox/microsoft/leeway.py`), each against the real Outlook provider over
HTTP. Every test here failed before the provider read the documented envelope rather
than one answer from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostwatch.model.mail import Folder
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.store import Store
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.leeway import Leeway
from ghostwatch_sandbox.playground.sources import graph_client
from tests.contracts.contract_cycle import EXAMPLE, NOW
from tests.contracts.contract_mail_source import seed
from tests.support.builder import ME
from tests.support.provider_rigs import (
    ATTEMPTS,
    DIGEST_ID,
    STEP,
    OutlookRig,
    Sleeps,
    graph_digest,
    policy,
    sqlite_store,
)

ARRIVAL = (
    b"From: Kathy Lee <kathy@contoso.example>\r\nTo: alex@ghostwatch.example\r\n"
    b"Cc: Raj <raj@contoso.example>\r\nSubject: Re: Proposal\r\n"
    b"Message-ID: <late-answer@contoso.example>\r\n"
    b"Date: Fri, 20 Nov 2026 14:00:00 +0000\r\n\r\nThursday works.\r\n"
)
EXPIRIES = [(400, "SyncStateNotFound"), (400, "resyncRequired"), (404, "syncStateNotFound"),
            (410, "syncStateNotFound")]  # fmt: skip


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    seed(tmp_path / "mail")
    return tmp_path / "mail"


def serve(mailbox: Path, leeway: Leeway) -> Iterator[GraphSandbox]:
    with GraphSandbox.serve(seed=mailbox, user=ME, leeway=leeway) as sandbox:
        yield sandbox


def source_of(sandbox: GraphSandbox) -> OutlookSource:
    client = graph_client(sandbox)
    return OutlookSource(client, OutlookCalendar(client, ME))


@pytest.mark.parametrize(("status", "code"), EXPIRIES, ids=lambda v: str(v))
def test_an_expired_delta_link_in_any_documented_shape_is_read_again(
    mailbox: Path, status: int, code: str
) -> None:
    for sandbox in serve(mailbox, Leeway(expiry_status=status, expiry_code=code)):
        source = source_of(sandbox)
        source.read_headers()
        sandbox.expire_delta()
        sandbox.deliver(ARRIVAL)
        # Twice: a poll that failed (400) or skipped the folder (404) would fail again.
        for _ in range(2):
            found = {m.message_id: m for m in source.read_headers()}
            assert "late-answer@contoso.example" in found
        assert source.sync.resyncs == 6  # every folder once, none forever


def test_a_header_block_without_addresses_falls_back_to_the_structured_properties(
    mailbox: Path,
) -> None:
    for sandbox in serve(mailbox, Leeway(bare_headers=True)):
        sandbox.deliver(ARRIVAL)
        found = {m.message_id: m for m in source_of(sandbox).read_headers()}
        answer = found["late-answer@contoso.example"]
        assert answer.sender is not None
        assert (answer.sender.email, answer.sender.name) == ("kathy@contoso.example", "Kathy Lee")
        assert [p.email for p in answer.to] == [ME]
        assert [p.email for p in answer.cc] == ["raj@contoso.example"]
        assert answer.subject == "Re: Proposal"
        assert answer.folder == Folder.INBOX


def test_a_text_body_sent_as_a_plain_string_in_a_batch_is_read(mailbox: Path) -> None:
    for sandbox in serve(mailbox, Leeway(plain_text_parts=True)):
        key = sandbox.deliver(ARRIVAL)
        source = source_of(sandbox)
        contents = source.load_content([key])
        assert "Thursday works." in contents[key].text


def test_a_throttled_part_of_a_batch_is_sent_again_alone(mailbox: Path) -> None:
    """json-batching: each request in a batch is evaluated, and throttled, on its own;
    resending all twenty for one refusal multiplies the load that caused it."""
    for sandbox in serve(mailbox, Leeway()):
        keys = [sandbox.deliver(ARRIVAL.replace(b"late-answer", b"a%d" % n)) for n in range(20)]
        sleeps = Sleeps()
        source = OutlookSource(graph_client(sandbox, retry=policy(sleeps)))
        sandbox.faults.add("429", count=1, method="messages.getMime", retry_after=1)
        sandbox.meter.reset()
        contents = source.load_content(keys)
        assert sorted(contents) == sorted(keys)
        assert sandbox.meter.methods["messages.getMime"] == 21  # twenty, and the one again
        assert sandbox.meter.requests == 2
        assert min(sleeps) >= 1  # as long as Retry-After asked


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with sqlite_store(tmp_path / "ghostwatch.db") as opened:
        yield opened


def test_reply_drafts_stripped_of_our_header_are_still_known_as_ours(store: Store) -> None:
    """message-createreply documents no custom headers: our own extended property, set by
    PATCH, is the proof that the reply drafts exist."""
    with GraphSandbox.serve(EXAMPLE, ME, leeway=Leeway(reply_drops_custom_headers=True)) as g:
        rig = OutlookRig(g, store)
        first = rig.cycle(NOW)
        replies = [m for m in g.mailbox.in_folder("drafts") if m.header("In-Reply-To")]
        assert replies
        assert not any(m.header(STEP) for m in replies)  # the freedom taken
        rig.restart()
        second = rig.cycle(NOW)
        assert (second.drafts_created, second.steps_abandoned) == (0, 0)
        assert sorted(rig.steps().values()) == [1] * first.drafts_created


def test_a_digest_whose_message_id_exchange_replaced_is_found_not_resent(store: Store) -> None:
    """resources/message: internetMessageId is "updatable only if isDraft is true"; a lost
    answer to the digest's create is settled by our own property instead."""
    with GraphSandbox.serve(EXAMPLE, ME, leeway=Leeway(ignores_message_id=True)) as g:
        rig = OutlookRig(g, store)
        rig.cycle(NOW)
        g.faults.add("drop", count=ATTEMPTS + 1, method="messages.create")
        rig.cycle(NOW, digest=True)
        rig.clear_faults()
        rig.restart()
        rig.cycle(NOW, digest=True)
        digests = [m for m in g.mailbox.in_folder("inbox") if graph_digest(m)]
        assert len(digests) == 1
        assert not digests[0].internet_message_id.startswith(DIGEST_ID)  # the freedom taken


def test_structured_addresses_a_stranger_wrote_never_stop_the_read(mailbox: Path) -> None:
    """Any string may come back as a name or an address (a corpus spam had U+FFFD in its
    sender): it is read as one line, never raised on."""
    odd = ARRIVAL.replace(b"From: Kathy Lee <kathy@contoso.example>",
                          'From: "K\\"a\\\\t" <k\u00e4thy@contoso.example>'.encode())  # fmt: skip
    for sandbox in serve(mailbox, Leeway(bare_headers=True)):
        sandbox.deliver(odd)
        found = {m.message_id: m for m in source_of(sandbox).read_headers()}
        assert found["late-answer@contoso.example"].sender is not None
