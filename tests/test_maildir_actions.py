"""MaildirActions holds to what tests/test_cycle.py asks of GmailActions: drafts once, in
Drafts, never twice, never lost; one rescue; one digest a day; and the account wiring
that picks it (and Gmail) from the configuration."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ghostwatch import config
from ghostwatch.compose.values import Draft, Sender
from ghostwatch.errors import UserError
from ghostwatch.preview import compose_drafts
from ghostwatch.providers.gmail import GmailSource
from ghostwatch.providers.maildir import MaildirMailbox
from ghostwatch.providers.maildir_actions import MaildirActions
from ghostwatch.providers.port import MailActions
from ghostwatch.sandbox import GmailSandbox
from ghostwatch.scan import run_scan
from ghostwatch.service import CycleReport, run_cycle
from ghostwatch.service.wiring import ProviderRegistry, default_registry, rules_for, sender_for
from ghostwatch.store import LedgerStatus, Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mailbox"
ME = "alex@ghostwatch.example"
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")
TZ = ZoneInfo("Europe/London")


class Crash(Exception):
    """Not a GhostwatchError: it escapes the cycle as a killed process would."""


def _account(root: Path) -> config.AccountConfig:
    return config.AccountConfig(
        name="alex",
        provider="maildir",
        address=ME,
        time_zone="Europe/London",
        maildir=config.MaildirOptions(path=root),
    )


@dataclass
class World:
    root: Path
    store: Store
    account: config.AccountConfig

    @property
    def actions(self) -> MaildirActions:
        return MaildirActions(self.root)

    def cycle(self, actions: MailActions | None = None, **options: Any) -> CycleReport:
        return run_cycle(
            "alex",
            MaildirMailbox(self.root),
            actions or self.actions,
            self.store,
            rules_for(self.account),
            sender_for(self.account),
            NOW,
            TZ,
            provider="maildir",
            **options,
        )

    def due(self) -> list[Draft]:
        source = MaildirMailbox(self.root)
        scan = run_scan(source, rules_for(self.account), NOW)
        return compose_drafts(scan, source, sender_for(self.account), TZ)

    def files(self, folder: str, sub: str = "*") -> list[Path]:
        base = self.root / folder if folder else self.root
        return sorted(base.glob(f"{sub}/*"))

    def steps(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for path in self.files(".Drafts"):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("X-Ghostwatch-Step:"):
                    found[line.partition(":")[2].strip()] += 1
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    root = tmp_path / "mail"
    shutil.copytree(EXAMPLE, root)
    with Store.open(f"sqlite:///{tmp_path / 'ghostwatch.db'}") as store:
        store.upgrade()
        yield World(root, store, _account(root))


def test_first_cycle_writes_every_due_draft_into_drafts_flagged_d(world: World) -> None:
    due = world.due()
    report = world.cycle()
    assert report.drafts_created == len(due) > 0
    assert world.steps() == Counter(d.step_key for d in due)
    assert [p.name for p in (world.root / ".Drafts" / "tmp").iterdir()] in ([], [".gitkeep"])
    written = [p for p in world.files(".Drafts") if "X-Ghostwatch-Step" in p.read_text()]
    assert len(written) == len(due)
    assert all(p.parent.name == "cur" and p.name.endswith(":2,D") for p in written)


def test_a_second_cycle_writes_nothing_new(world: World) -> None:
    world.cycle()
    count = len(world.files(".Drafts"))
    assert world.cycle().drafts_created == 0
    assert len(world.files(".Drafts")) == count
    assert all(n == 1 for n in world.steps().values())


def test_dry_run_writes_no_file(world: World) -> None:
    before = sorted(p.name for p in world.root.rglob("*") if p.is_file())
    report = world.cycle(dry_run=True, junk_rescue=True, digest=True)
    assert report.drafts_due > 0
    assert sorted(p.name for p in world.root.rglob("*") if p.is_file()) == before


class _Wrapped:
    """The real MaildirActions, with one method replaced by a subclass."""

    def __init__(self, inner: MaildirActions) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _CrashAfterCreate(_Wrapped):
    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        self.inner.create_draft(draft, message, thread_id)
        raise Crash


def test_crash_after_the_write_is_confirmed_next_cycle_not_duplicated(world: World) -> None:
    with pytest.raises(Crash):
        world.cycle(_CrashAfterCreate(world.actions))
    report = world.cycle()
    assert report.drafts_reconciled == 1
    assert report.drafts_created == len(world.due()) - 1
    assert all(n == 1 for n in world.steps().values())
    with world.store.transaction() as tx:
        assert tx.pending(1) == []


def test_a_draft_the_user_deleted_is_not_made_again(world: World) -> None:
    world.cycle()
    gone, key = next(iter(world.actions.existing_steps().items()))
    folder, _, unique = key.partition("/")
    next((world.root / f".{folder}").glob(f"*/{unique}*")).unlink()
    report = world.cycle()
    assert report.drafts_created == 0
    assert report.steps_abandoned == 1
    assert gone not in world.steps()
    with world.store.transaction() as tx:
        entry = tx.entry(1, f"draft:{gone}")
    assert entry is not None
    assert entry.status == LedgerStatus.ABANDONED


def test_junk_rescue_moves_the_reply_into_the_inbox_once(world: World) -> None:
    junk = len(world.files(".Junk"))
    inbox = len(world.files("", "cur")) + len(world.files("", "new"))
    first = world.cycle(junk_rescue=True)
    assert first.rescued == 1
    assert world.cycle(junk_rescue=True).rescued == 0
    assert len(world.files(".Junk")) == junk - 1
    assert len(world.files("", "cur")) + len(world.files("", "new")) == inbox + 1


def test_digest_lands_unseen_in_the_inbox_once_a_day(world: World) -> None:
    before = set(world.files("", "new"))
    assert world.cycle(digest=True).digest_delivered
    assert not world.cycle(digest=True).digest_delivered
    [digest] = set(world.files("", "new")) - before
    assert "ghostwatch-digest-" in digest.read_text(errors="replace")


class _CrashAfterDigest(_Wrapped):
    def deliver_digest(self, message: EmailMessage) -> str:
        self.inner.deliver_digest(message)
        raise Crash


def test_a_digest_whose_confirmation_was_lost_is_found_not_delivered_again(
    world: World,
) -> None:
    before = set(world.files("", "new"))
    with pytest.raises(Crash):
        world.cycle(_CrashAfterDigest(world.actions), digest=True)
    # The crashed cycle reported nothing: the one that finds the digest counts it (once).
    assert world.cycle(digest=True).digest_delivered
    assert not world.cycle(digest=True).digest_delivered
    assert len(set(world.files("", "new")) - before) == 1


# --- wiring -----------------------------------------------------------------------------


def test_the_registry_opens_maildir_and_gmail_and_refuses_what_it_lacks(tmp_path: Path) -> None:
    with GmailSandbox.serve(seed=EXAMPLE, user=ME) as sandbox:
        gmail = config.AccountConfig(
            name="g", provider="gmail", address=ME, gmail=config.GmailOptions.sandbox(sandbox.url)
        )
        registry = default_registry(lambda account: sandbox.credentials())
        opened = registry.open(gmail)
        assert isinstance(opened.source, GmailSource)
        through_gmail = {m.message_id for m in opened.source.read_headers()}
    local = registry.open(_account(EXAMPLE))
    # The Gmail sync reads what bears on decisions (port.py), the Maildir reader all.
    assert through_gmail < {m.message_id for m in local.source.read_headers()}
    outlook = config.AccountConfig(name="o", provider="outlook", address=ME)
    with pytest.raises(UserError, match="ghostwatch auth microsoft --account o"):
        registry.open(outlook)
    with pytest.raises(UserError, match="not available"):
        ProviderRegistry().open(outlook)
    with pytest.raises(UserError, match="ghostwatch auth google --account g"):
        default_registry().open(gmail)


def test_settings_become_rules_and_sender(tmp_path: Path) -> None:
    account = _account(EXAMPLE).model_copy(
        update={
            "aliases": ["alex.morgan@ghostwatch.example"],
            "holiday_country": "GB",
            "display_name": "Alex Morgan",
            "cadence": config.CadenceConfig.model_validate(
                {"steps": [{"action": "nudge", "after": 2}], "let_go_after": 5}
            ),
        }
    )
    rules = rules_for(account)
    assert rules.me.is_me("alex.morgan@ghostwatch.example")
    assert not rules.calendar.is_business_day(datetime(2026, 12, 25).date())
    assert [s.after_business_days for s in rules.cadence.steps] == [2]
    sender = sender_for(account)
    assert (sender.name, sender.address, sender.signature) == ("Alex Morgan", ME, "Alex Morgan")
    assert isinstance(sender, Sender)
