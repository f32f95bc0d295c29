"""The decision rules through the Gmail provider and its sandboxes (`scan --through gmail`):
the same scenarios as a plain Maildir scan, the same decisions
(`tests/contracts/contract_rules.py`)."""

from __future__ import annotations

from tests.contracts.contract_rules import RulesContract


class TestGmailRules(RulesContract):
    provider = "gmail"
