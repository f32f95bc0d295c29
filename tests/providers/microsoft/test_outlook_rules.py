"""The decision rules through the Outlook provider and the Graph sandbox (`scan --through
outlook`): the same scenarios as a plain Maildir scan, the same decisions
(`tests/contracts/contract_rules.py`)."""

from __future__ import annotations

from tests.contracts.contract_rules import RulesContract


class TestOutlookRules(RulesContract):
    provider = "outlook"
