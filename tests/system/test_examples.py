"""The example mailbox that `make demo` scans lands every conversation in its documented state."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ghostwatch.cli.main import main
from tests.support.paths import REPO

EXAMPLES = REPO / "examples"


def _scan() -> dict[str, object]:
    args = [
        "scan",
        "--maildir",
        str(EXAMPLES / "mailbox"),
        "--me",
        "alex@ghostwatch.example",
        "--now",
        "2026-11-20T15:00:00+00:00",
        "--tz",
        "Europe/London",
        "--json",
        "--all",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_example_mailbox_matches_its_documented_states() -> None:
    expected = json.loads((EXAMPLES / "expected.json").read_text())
    result = _scan()
    # A spammer may reuse a subject: that one must stay a separate, untracked conversation.
    got: dict[str, list[dict[str, object]]] = {}
    for conversation in result["conversations"]:  # type: ignore[attr-defined]
        got.setdefault(conversation["subject"], []).append(conversation)
    for subject, want in expected["conversations"].items():
        assert want in [{k: c[k] for k in want} for c in got.get(subject, [])], subject
    meetings = {m["summary"]: m for m in result["meetings"]}  # type: ignore[attr-defined]
    for summary, want in expected["meetings"].items():
        assert {k: meetings[summary][k] for k in want} == want, summary


def test_example_mailbox_covers_every_state() -> None:
    states = {c["state"] for c in _scan()["conversations"]}  # type: ignore[attr-defined]
    assert states >= {"due", "waiting", "replied", "snoozed", "bounced", "let_go", "not_tracked"}
