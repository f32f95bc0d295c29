"""The mailbox as the control panel in a Maildir: a copy in the folder
`.ghostwatch.mute` (`ghostwatch/mute` in a mail client) marks its conversation
(`tests/contracts/contract_marks.py`)."""

from __future__ import annotations

from pathlib import Path

from tests.contracts.contract_cycle import NOW, opened
from tests.contracts.contract_marks import MarksContract
from tests.support.maildir_rig import MaildirRig
from tests.support.provider_rigs import DIGEST_ID


class TestMaildirMarks(MarksContract):
    provider = "maildir"


def test_a_maildir_digest_links_to_nothing(tmp_path: Path) -> None:
    """No web client opens a Maildir draft: the digest says nothing rather than show a
    dead link (docs/rules.md, the digest)."""
    with opened("maildir", tmp_path) as rig:
        assert isinstance(rig, MaildirRig)
        rig.cycle(NOW)
        rig.cycle(NOW, digest=True)
        assert "https://" not in rig.digest_text()
        [digest] = [p for p in rig.files() if DIGEST_ID.strip("<") in p.read_text(errors="replace")]
        assert "<a href=" not in digest.read_text(errors="replace")
