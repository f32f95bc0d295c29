"""Said stop, or said later (docs/rules.md) through the Imap provider: the same
scenarios as every provider, the same decisions (`tests/contracts/contract_intents.py`)."""

from __future__ import annotations

import pytest

from ghostwatch_sandbox.dovecot import dovecot_binary
from tests.contracts.contract_intents import IntentsContract

pytestmark = pytest.mark.skipif(
    dovecot_binary() is None, reason="Dovecot is not installed (tests/providers/imap says how)"
)


class TestImapIntents(IntentsContract):
    provider = "imap"
