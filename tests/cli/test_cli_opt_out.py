"""An opt-out outlives its mail; `ghostwatch unmute ADDRESS` lifts it (docs/rules.md "Said
stop, or said later"): the real daemon (`run --once`) on a Maildir account, the store in
between, and the CLI as a user types it."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from ghostwatch import config
from ghostwatch.cli.main import main
from ghostwatch.model.decisions import State
from ghostwatch.store import Store
from tests.support.builder import ME, Mailbox

KATHY = "Kathy Lopez <kathy@contoso.example>"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GHOSTWATCH_SECRET_KEY", "GHOSTWATCH_DATABASE_URL", "GHOSTWATCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = {
        "data_dir": str(tmp_path / "data"),
        "log_format": "json",
        "accounts": [
            {
                "name": "box",
                "provider": "maildir",
                "address": ME,
                "maildir": {"path": str(tmp_path / "mail")},
            }
        ],
    }
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--config", str(path)])


def _states(path: Path) -> dict[str, State]:
    with Store.open(config.load(path).database()) as store, store.transaction() as tx:
        return {s.subject: s.state for s in tx.snapshots(1).values()}


def _drafts_to(box: Mailbox) -> list[str]:
    folder = box.root / ".Drafts" / "cur"
    found = (
        [message_from_bytes(p.read_bytes()) for p in folder.iterdir()] if folder.is_dir() else []
    )
    return sorted(str(m["To"]) for m in found)


def test_an_opt_out_is_kept_after_its_mail_is_gone_until_unmute_lifts_it(setup: Path) -> None:
    box = Mailbox(setup.parent / "mail")
    proposal = box.add("Sent", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-02 10:00")
    stop = box.add(
        "INBOX", KATHY, ME, "Re: Proposal", "2026-11-03 09:00",
        reply_to=proposal, body="Please remove me from your mailing list.",
    )  # fmt: skip
    assert _run(setup, "run", "--once", "--now", "2026-11-05T10:00:00+00:00").exit_code == 0
    assert _states(setup) == {"Proposal": State.MUTED}
    # The reply leaves the mailbox; weeks later the user writes to Kathy again.
    (reply,) = [p for p in (box.root / "cur").iterdir() if stop.strip("<>") in p.read_text()]
    kept = reply.read_bytes()
    reply.unlink()
    box.add("Sent", f"Alex <{ME}>", KATHY, "New pricing", "2026-11-16 10:00")
    assert _run(setup, "run", "--once", "--now", "2026-11-25T10:00:00+00:00").exit_code == 0
    assert _states(setup)["New pricing"] == State.MUTED
    assert _drafts_to(box) == []
    lifted = _run(setup, "unmute", "Kathy@Contoso.example", "--account", "box")
    assert lifted.exit_code == 0, lifted.output
    assert lifted.output == "unmuted kathy@contoso.example: they may be contacted again\n"
    # Lifted: the reply that said it, put back, no longer counts either.
    box.add_bytes("INBOX", kept)
    assert _run(setup, "run", "--once", "--now", "2026-11-25T11:00:00+00:00").exit_code == 0
    assert _states(setup)["New pricing"] == State.DUE
    assert _drafts_to(box) == [KATHY]


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("kathy@", "is not an email address"),
        ("a@b@contoso.example", "is not an email address"),
        ("lee@contoso.example", "has no opt-out for lee@contoso.example"),
    ],
)
def test_unmute_of_a_bad_address_says_the_fix_in_one_line(
    setup: Path, address: str, says: str
) -> None:
    Mailbox(setup.parent / "mail")
    assert _run(setup, "run", "--once", "--now", "2026-11-05T10:00:00+00:00").exit_code == 0
    result = _run(setup, "unmute", address, "--account", "box")
    assert result.exit_code == 2
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
