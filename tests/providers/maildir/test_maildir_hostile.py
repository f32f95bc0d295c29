"""The hostile-input contract (tests/contracts/contract_hostile.py) on a real Maildir++ tree."""

from __future__ import annotations

from tests.contracts.contract_hostile import HostileContract


class TestMaildirHostile(HostileContract):
    provider = "maildir"
