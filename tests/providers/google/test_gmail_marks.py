"""The mailbox as the control panel through Gmail: labels `ghostwatch/…` made and applied
through the real client against the Gmail sandbox (`tests/contracts/contract_marks.py`)."""

from __future__ import annotations

from tests.contracts.contract_marks import MarksContract


class TestGmailMarks(MarksContract):
    provider = "gmail"
