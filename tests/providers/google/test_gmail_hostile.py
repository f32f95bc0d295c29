"""The hostile-input contract (tests/contracts/contract_hostile.py) through the Gmail
provider and google-api-python-client against the Gmail and Calendar sandboxes."""

from __future__ import annotations

import pytest

from tests.contracts.contract_hostile import HostileContract


@pytest.mark.server
class TestGmailHostile(HostileContract):
    provider = "gmail"
