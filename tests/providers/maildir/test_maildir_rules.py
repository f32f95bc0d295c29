"""The decision rules on a plain Maildir (`ghostwatch scan`): the reference every other
provider must agree with (`tests/contracts/contract_rules.py`)."""

from __future__ import annotations

from tests.contracts.contract_rules import RulesContract


class TestMaildirRules(RulesContract):
    provider = "maildir"
