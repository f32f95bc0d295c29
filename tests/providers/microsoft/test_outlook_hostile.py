"""The hostile-input contract (tests/contracts/contract_hostile.py) through the Outlook
provider (httpx) against the Graph sandbox."""

from __future__ import annotations

import pytest

from tests.contracts.contract_hostile import HostileContract


@pytest.mark.server
class TestOutlookHostile(HostileContract):
    provider = "outlook"
