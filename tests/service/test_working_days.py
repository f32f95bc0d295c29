"""`working_hours.days`: polls run on the days given (default Monday to Friday)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ghostwatch import config
from ghostwatch.config.account import Weekday
from ghostwatch.service.app import build_daemon
from ghostwatch.service.runner import AccountRunner
from ghostwatch.store import Store
from tests.support.paths import EXAMPLES

SATURDAY = datetime.fromisoformat("2026-11-21T10:00:00+00:00")


def _runner(tmp_path: Path, days: list[Weekday] | None) -> AccountRunner:
    hours = config.WorkingHours() if days is None else config.WorkingHours(days=days)
    account = config.AccountConfig(
        name="alex",
        provider="maildir",
        address="alex@ghostwatch.example",
        working_hours=hours,
        maildir=config.MaildirOptions(path=EXAMPLES / "mailbox"),
    )
    settings = config.Settings(data_dir=tmp_path, accounts=[account])
    store = Store.open(f"sqlite:///{tmp_path / 'gw.db'}")
    store.upgrade()
    return build_daemon(settings, store, clock=lambda: SATURDAY).runners[0]


def test_a_weekend_desk_is_polled_on_saturday_and_the_default_is_not(tmp_path: Path) -> None:
    default = _runner(tmp_path, None)
    weekend = _runner(tmp_path, ["sat", "sun"])
    assert not default.working(SATURDAY)
    assert default.next_work(SATURDAY)[1] == "the weekend"
    assert weekend.working(SATURDAY)
    monday_desk = _runner(tmp_path, ["mon"])
    when, why = monday_desk.next_work(SATURDAY)
    assert (when.weekday(), when.hour, why) == (0, 8, "the weekend")
