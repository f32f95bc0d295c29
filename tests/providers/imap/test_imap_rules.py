"""The decision rules through the IMAP provider, a real Dovecot and Radicale (`scan --through
imap`): the same scenarios as a plain Maildir scan, the same decisions
(`tests/contracts/contract_rules.py`)."""

from __future__ import annotations

import pytest

from ghostwatch_sandbox.dovecot import dovecot_binary
from tests.contracts.contract_rules import RulesContract

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(dovecot_binary() is None, reason="Dovecot is not installed"),
]


class TestImapRules(RulesContract):
    provider = "imap"
