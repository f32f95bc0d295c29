"""`make demo`'s second half: the daemon once against both sandboxes, read back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ghostwatch_sandbox.playground import demo
from tests.support.paths import REPO

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "mailbox"


def test_the_demo_shows_drafts_rescues_and_digests_for_both_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    started = time.monotonic()
    assert demo.main(["--mailbox", str(EXAMPLE), "--out", str(tmp_path / "demo")]) == 0
    took = time.monotonic() - started
    shown = capsys.readouterr().out
    for account in ("google", "microsoft"):
        header = next(
            line for line in shown.splitlines() if line.startswith(f"=== account {account}:")
        )
        assert "digest delivered" in header
        assert "1 rescued" in header
        page = (tmp_path / "demo" / f"digest-{account}.html").read_text()
        assert "<html" in page.lower()
        assert f"its HTML is in {tmp_path / 'demo' / f'digest-{account}.html'}" in shown
    drafts = [line for line in shown.splitlines() if line.startswith("--- draft ")]
    assert len(drafts) >= 2
    assert shown.count("\nBest,\n") == len(drafts)  # every draft printed with its text
    assert "\r" not in shown
    assert "send attempts refused by the sandboxes: 0" in shown
    assert took < 60
