"""Said stop, or said later (docs/rules.md) through the Outlook provider: the same
scenarios as every provider, the same decisions (`tests/contracts/contract_intents.py`)."""

from __future__ import annotations

from tests.contracts.contract_intents import IntentsContract


class TestOutlookIntents(IntentsContract):
    provider = "outlook"
