"""The service cycle through Outlook: run_cycle with the Outlook provider against the
Graph sandbox (seeded from examples/mailbox) and a SQLite store in tmp.

Drafts once, never twice: across repeated cycles, a restart (new provider objects,
the same database), a junk rescue (a folder move that keeps the message's immutable id),
and a crash between the Graph call and its confirmation. Nothing is ever sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.compose.values import Draft, Sender
from ghostwatch.config import AccountConfig, OutlookOptions
from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model import Folder
from ghostwatch.preview import compose_drafts, sender_from_mail
from ghostwatch.providers.outlook import OutlookSource
from ghostwatch.providers.outlook_actions import OutlookActions
from ghostwatch.providers.outlook_graph import OutlookError
from ghostwatch.providers.port import MailActions
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.sandbox.graph import GraphSandbox
from ghostwatch.sandbox.graph.store import GraphMessage
from ghostwatch.scan import run_scan
from ghostwatch.service import CycleReport, run_cycle
from ghostwatch.service.wiring import default_registry
from ghostwatch.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
TZ = ZoneInfo("Europe/London")
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")
RULES = Rules(me=Identity.of([ME]), calendar=BusinessCalendar(TZ))
FAST = RetryPolicy(sleep=lambda _seconds: None)
WRITES = {"messages.createReply", "messages.update", "messages.create", "messages.move"}


class Crash(Exception):
    """Not a GhostwatchError: it escapes run_cycle as a dying process would."""


@pytest.fixture(scope="module")
def preview() -> tuple[Sender, list[Draft]]:
    """What `ghostwatch preview --through outlook` would list for the example mailbox."""
    with GraphSandbox.serve(seed=EXAMPLE, user=ME) as graph:
        source = graph.outlook_source()
        scan = run_scan(source, RULES, NOW)
        sender = sender_from_mail(scan, RULES.me, ME, None)
        return sender, compose_drafts(scan, source, sender, TZ)


@dataclass
class World:
    graph: GraphSandbox
    store: Store
    sender: Sender
    source: OutlookSource
    actions: OutlookActions

    def cycle(self, actions: MailActions | None = None, **options: Any) -> CycleReport:
        report = run_cycle(ME, self.source, actions or self.actions, self.store, RULES,
                           self.sender, NOW, TZ, provider="outlook", **options)  # fmt: skip
        self.source.commit()
        return report

    def restart(self) -> None:
        """A new process: new provider objects (empty state), the same database."""
        self.source = self.graph.outlook_source(FAST)
        self.source.auto_commit = False
        self.actions = OutlookActions(self.graph.client(retry=FAST))

    def calls(self, method: str) -> int:
        return sum(1 for write in self.graph.writes if write.method == method)

    def steps(self) -> Counter[str]:
        """Step keys of every draft in the mailbox, counted (a duplicate shows as 2)."""
        found: Counter[str] = Counter()
        for message in self.graph.mailbox.in_folder("drafts"):
            found.update(v for k, v in message.headers if k == "X-Ghostwatch-Step")
        return found


@pytest.fixture
def world(tmp_path: Path, preview: tuple[Sender, list[Draft]]) -> Iterator[World]:
    with (
        GraphSandbox.serve(seed=EXAMPLE, user=ME) as graph,
        Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store,
    ):
        store.upgrade()
        source = graph.outlook_source(FAST)
        source.auto_commit = False
        yield World(graph, store, preview[0], source, OutlookActions(graph.client(retry=FAST)))


def _keys(drafts: list[Draft]) -> Counter[str]:
    return Counter(d.step_key for d in drafts)


def test_first_cycle_writes_the_previewed_drafts_in_their_conversations(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    report = world.cycle()
    assert report.errors == []
    assert report.drafts_created == len(preview[1]) > 0
    assert world.steps() == _keys(preview[1])
    by_id = {m.message_id: m for m in world.graph.outlook_source().read_headers()}
    drafts = {m.header("X-Ghostwatch-Step"): m for m in world.graph.mailbox.in_folder("drafts")}
    for draft in preview[1]:
        made = drafts[draft.step_key]
        assert made.is_draft
        assert made.body in (draft.html, draft.text)
        assert made.subject == draft.subject
        if draft.in_reply_to:
            assert made.header("In-Reply-To") == f"<{draft.in_reply_to}>"
            assert made.conversation_id == by_id[draft.in_reply_to].thread_id
    assert world.graph.sent == []


def test_repeated_cycles_and_a_restart_write_nothing_new(world: World) -> None:
    world.cycle()
    before = [w for w in world.graph.writes if w.method in WRITES]
    assert world.cycle().drafts_created == 0
    world.restart()
    assert world.cycle().drafts_created == 0
    assert [w for w in world.graph.writes if w.method in WRITES] == before
    assert all(n == 1 for n in world.steps().values())


def test_an_idle_cycle_costs_two_graph_requests(world: World) -> None:
    world.cycle()
    world.graph.meter.reset()
    world.cycle()
    # One batch of four deltas (the scan) and one Drafts delta (the mailbox's proof);
    # meetings and bodies are read only for what is due.
    assert world.graph.meter.methods["messages.delta"] == 5


def test_junk_rescue_moves_once_and_the_message_keeps_its_key(world: World) -> None:
    before = {m.key: m for m in world.source.read_headers() if m.folder == Folder.JUNK}
    first = world.cycle(junk_rescue=True)
    second = world.cycle(junk_rescue=True)
    assert (first.rescued, second.rescued) == (1, 0)
    assert world.calls("messages.move") == 1
    [moved] = [w.ids[0] for w in world.graph.writes if w.method == "messages.move"]
    after = {m.key: m for m in world.source.read_headers()}
    assert moved in before
    assert after[moved].folder == Folder.INBOX
    assert all(n == 1 for n in world.steps().values())


def test_digest_is_delivered_once_unread_and_not_a_draft(world: World) -> None:
    assert world.cycle(digest=True).digest_delivered
    assert not world.cycle(digest=True).digest_delivered
    world.restart()
    assert not world.cycle(digest=True).digest_delivered
    created = [world.graph.mailbox.get(w.ids[0]) for w in world.graph.writes
               if w.method == "messages.create"]  # fmt: skip
    [digest] = [m for m in created if m.folder == "inbox"]
    assert (digest.is_draft, digest.is_read) == (False, False)
    assert digest.internet_message_id.startswith("<ghostwatch-digest-")
    assert world.graph.sent == []


def _digests(world: World) -> list[GraphMessage]:
    return [m for m in world.graph.mailbox.in_folder("inbox")
            if m.internet_message_id.startswith("<ghostwatch-digest-")]  # fmt: skip


# A failed mark-unread (5xx, or the connection lost after Graph acted), and a create that
# Graph carried out but whose answer was lost (the next cycle finds it by Message-ID).
DIGEST_FAULTS = [("500", "messages.update"), ("drop", "messages.update"),
                 ("drop", "messages.create")]  # fmt: skip


@pytest.mark.parametrize(("kind", "method"), DIGEST_FAULTS, ids=lambda v: str(v))
def test_a_fault_while_delivering_the_digest_leaves_one_unread_digest(
    world: World, kind: str, method: str
) -> None:
    world.cycle()  # the drafts first, so the armed fault can only meet the digest's calls
    world.graph.faults.add(kind, count=5, method=method)
    reports = [world.cycle(digest=True)]
    fired = list(world.graph.faults.fired)
    world.graph.faults.clear()
    world.restart()
    reports += [world.cycle(digest=True), world.cycle(digest=True)]

    [digest] = _digests(world)
    # /metrics counts digests from these reports: the cycle that learns of it counts it once.
    assert sum(r.digest_delivered for r in reports) == 1
    assert (digest.is_draft, digest.is_read) == (False, False)
    assert fired or method == "messages.update"  # one request left no PATCH to fail
    with world.store.transaction() as tx:
        assert tx.pending(tx.account(ME, "outlook", ME)) == []


def test_a_lost_digest_is_not_made_again_while_graph_cannot_find_it(world: World) -> None:
    world.cycle()
    world.graph.faults.add("drop", method="messages.create")  # made, answer lost
    lost = world.cycle(digest=True)
    # Every attempt of the internetMessageId search fails: unknown is not absent.
    world.graph.faults.add("500", count=FAST.attempts, method="messages.list")
    world.restart()
    failed = world.cycle(digest=True)
    assert [e.split(":")[0] for e in failed.errors] == ["find_message"]
    world.restart()
    found = world.cycle(digest=True)
    assert len(_digests(world)) == 1
    assert [r.digest_delivered for r in (lost, failed, found)] == [False, False, True]


class _CrashAfterCreate:
    """The draft reaches Graph, then the process dies before the confirmation."""

    def __init__(self, inner: OutlookActions) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        self.inner.create_draft(draft, message, thread_id)
        raise Crash


def test_crash_after_the_call_is_reconciled_not_duplicated(
    world: World, preview: tuple[Sender, list[Draft]]
) -> None:
    with pytest.raises(Crash):
        world.cycle(_CrashAfterCreate(world.actions))
    world.restart()
    report = world.cycle()
    assert report.drafts_reconciled == 1
    assert report.drafts_created == len(preview[1]) - 1
    assert world.steps() == _keys(preview[1])


def test_an_unreadable_drafts_folder_is_an_error_not_an_absence(world: World) -> None:
    world.cycle()
    world.restart()
    world.graph.faults.add("500", count=FAST.attempts, method="messages.delta")
    with pytest.raises(OutlookError, match="500"):
        world.actions.existing_steps()


def test_the_registry_opens_an_outlook_account_with_the_auth_token(world: World) -> None:
    options = OutlookOptions(graph_endpoint=world.graph.base_url)
    account = AccountConfig(name="o", provider="outlook", address=ME, outlook=options)
    token = world.graph.token
    opened = default_registry(microsoft_tokens=lambda _account: lambda: token).open(account)
    assert opened.provider == "outlook"
    assert len(opened.source.read_headers()) == len(world.source.read_headers())
