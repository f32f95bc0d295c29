"""A Gmail project's budget divided among the replicas (providers/budget.py,
service/daemon.py): the daemon built as `ghostwatch run` builds it, on a real PostgreSQL,
aims at one over the live replicas of the project's limit after each lease round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ghostwatch import config
from ghostwatch.providers.budget import SHARE
from ghostwatch.service.app import build_daemon
from ghostwatch.service.leasing import Leaser
from ghostwatch.store import Store

pytestmark = [pytest.mark.server]

PROJECT = 1_200_000  # Gmail's units a minute per project (docs/providers.md, Quota)


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    with Store.open(pg_url) as opened:
        opened.upgrade()
        yield opened


def _settings(tmp_path: Path, pg_url: str) -> config.Settings:
    box = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    account = config.AccountConfig(
        name="alex", provider="maildir", address="alex@ghostwatch.example",
        maildir=config.MaildirOptions(path=box),
    )  # fmt: skip
    return config.Settings(data_dir=tmp_path, accounts=[account], database_url=SecretStr(pg_url))


def test_each_lease_round_sets_the_project_budget_to_its_share_of_the_replicas(
    tmp_path: Path, pg_url: str, store: Store
) -> None:
    daemon = build_daemon(_settings(tmp_path, pg_url), store)
    (project,) = daemon.shared_budgets
    assert project.room() == int(PROJECT * SHARE)  # no round yet: the whole limit
    other = Leaser(store, ["alex"], 60, holder="other")
    other.claim()  # a second replica is alive (and holds the account)
    daemon.run_once()
    assert project.room() == int(PROJECT * SHARE / 2)
    other.release()  # it stops cleanly: this replica is alone again
    daemon.run_once()
    daemon.release_leases()
    assert project.room() == int(PROJECT * SHARE)
