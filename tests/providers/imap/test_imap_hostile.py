"""The hostile-input contract (tests/contracts/contract_hostile.py) through the IMAP
provider against a real Dovecot (and Radicale for the calendar); without Dovecot the
rig skips, saying how to install it."""

from __future__ import annotations

import pytest

from tests.contracts.contract_hostile import HostileContract

pytestmark = pytest.mark.server


class TestImapHostile(HostileContract):
    provider = "imap"
