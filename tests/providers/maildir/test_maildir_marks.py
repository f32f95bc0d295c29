"""The mailbox as the control panel in a Maildir: a copy in the folder
`.ghostwatch.mute` (`ghostwatch/mute` in a mail client) marks its conversation
(`tests/contracts/contract_marks.py`)."""

from __future__ import annotations

from tests.contracts.contract_marks import MarksContract


class TestMaildirMarks(MarksContract):
    provider = "maildir"
