"""The mailbox as the control panel through Outlook: categories `ghostwatch/…` set by
PATCH against the Graph sandbox and read in the same delta
(`tests/contracts/contract_marks.py`)."""

from __future__ import annotations

from tests.contracts.contract_marks import MarksContract


class TestOutlookMarks(MarksContract):
    provider = "outlook"
