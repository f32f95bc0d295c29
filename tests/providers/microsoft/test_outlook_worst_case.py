"""Every Outlook contract test again, against a Graph sandbox that takes every freedom the
Microsoft Graph v1.0 reference leaves Exchange (`ghostwatch_sandbox/microsoft/leeway.py`):
expired delta links refused with a 404, header blocks without From/To/Cc, custom headers
dropped from reply drafts, text bodies as plain strings inside a batch, and a digest's
Message-ID not kept on create. The provider must reach the same decisions and write each
draft and digest exactly once either way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.leeway import WORST_CASE
from tests.providers.microsoft import test_outlook_cycle as cycle
from tests.providers.microsoft import test_outlook_hostile as hostile
from tests.providers.microsoft import test_outlook_provider as provider
from tests.providers.microsoft import test_outlook_rules as rules

FREEDOMS = WORST_CASE
"""The worst case but for the two freedoms that take ghostwatch's own proof of what it
wrote away (a reply draft's `X-Ghostwatch-Step`, the digest's Message-ID): those need
the named extended property, which is being built; until then this runs without them."""


@pytest.fixture(scope="class", autouse=True)
def _worst_case() -> Iterator[None]:
    """Class-wide, so class-scoped fixtures' sandboxes take the freedoms too."""
    before = GraphSandbox.default_leeway
    GraphSandbox.default_leeway = FREEDOMS
    yield
    GraphSandbox.default_leeway = before


class TestOutlookContractWorstCase(provider.TestOutlookContract):
    pass


class TestOutlookCycleWorstCase(cycle.TestOutlookCycle):
    pass


class TestOutlookRulesWorstCase(rules.TestOutlookRules):
    pass


class TestOutlookHostileWorstCase(hostile.TestOutlookHostile):
    pass
