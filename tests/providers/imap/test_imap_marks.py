"""The mailbox as the control panel through IMAP on a real Dovecot: a copy in the folder
`ghostwatch/mute` (made and filled by the test's own connection, as a mail client would)
marks its conversation (`tests/contracts/contract_marks.py`)."""

from __future__ import annotations

import pytest

from tests.contracts.contract_marks import MarksContract

pytestmark = pytest.mark.server


class TestImapMarks(MarksContract):
    provider = "imap"
