"""The README's samples of output are what the commands print (issue 16: "the README's
sample texts have drifted from what the code produces").

Each sample is read from the README itself and compared with a real run of the command it
shows, in a process of its own. A `…` in a sample stands for what the README leaves out
(the rest of a line, or on a line of its own, any lines): everything else must be there,
in that order. Nothing else is normalised.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from ghostwatch.vault.keys import new_key
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLE_NOW = "2026-11-20T15:00:00+00:00"


def block_after(marker: str) -> list[str]:
    """The indented block that follows the paragraph holding `marker`, dedented."""
    after = README.split(marker, 1)[1]
    found = re.search(r"\n\n((?:    .*\n|\n)+)", after)
    assert found, f"no indented block after {marker!r}"
    return [line[4:] for line in found.group(1).rstrip("\n").splitlines()]


def pattern(sample: str) -> re.Pattern[str]:
    return re.compile(".*".join(map(re.escape, sample.rstrip().split("…"))))


def assert_shown(sample: list[str], printed: str) -> None:
    """Every sample line matches a printed line, in order; `…` alone skips any lines."""
    lines = [line.rstrip() for line in printed.splitlines()]
    at = 0
    for wanted in sample:
        if wanted.strip() == "…":
            continue
        matcher = pattern(wanted)
        while at < len(lines) and not matcher.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), f"README line not printed: {wanted!r}\n--- printed:\n{printed}"
        at += 1


def ghostwatch(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", *args], cwd=cwd, env={**base, **(env or {})},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_scan_example_is_what_scan_prints() -> None:
    block = block_after("Example (`make demo` runs this):")
    command: list[str] = []
    output: list[str] = []
    for line in block:
        if line.startswith("$ ") or (command and command[-1].endswith("\\") and not output):
            command.append(line.removeprefix("$ ").strip())
        else:
            output.append(line)
    words = shlex.split(" ".join(c.removesuffix("\\") for c in command))
    assert words[0] == "ghostwatch"
    done = ghostwatch(*words[1:])
    assert done.returncode == 0, done.stderr
    assert_shown(output, done.stdout)


def test_the_draft_example_is_what_preview_prints() -> None:
    sample = block_after("An example, from `make demo`:")
    me = "alex@ghostwatch.example"
    done = ghostwatch("preview", "--maildir", "examples/mailbox", "--me", me,
                      "--now", EXAMPLE_NOW, "--tz", "Europe/London")  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = done.stdout[done.stdout.index(sample[0]) :]
    # The README wraps the draft's paragraphs; the draft has one line a paragraph.
    wanted = [" ".join(p.split()) for p in "\n".join(sample).split("\n\n")]
    got = [" ".join(p.split()) for p in printed.split("\n\n")[: len(wanted)]]
    assert got == wanted


def test_the_bad_file_example_is_what_config_check_prints(tmp_path: Path) -> None:
    sample = block_after("path of the key and the fix (exit code 2):")
    config = tmp_path / "config" / "ghostwatch.yaml"
    config.parent.mkdir()
    account = {"name": "alex", "provider": "maildir", "address": "alex@acme.example",
               "time_zone": "Europe/Londn", "maildir": {"path": str(tmp_path)}}  # fmt: skip
    config.write_text(yaml.safe_dump({"health": {"adress": "127.0.0.1:8787"},
                                      "accounts": [account]}))  # fmt: skip
    done = ghostwatch("config", "check", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.removeprefix("Error: ").splitlines() == sample


def test_the_environment_example_is_what_config_check_prints(tmp_path: Path) -> None:
    sample = block_after("never shown with its password, even one that does not parse:")
    config = tmp_path / "config" / "ghostwatch.yaml"
    config.parent.mkdir()
    account = {"name": "alex", "provider": "gmail", "address": "alex@acme.example"}
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "accounts": [account]}))
    env = {
        "GHOSTWATCH_HEALTH__ADDRESS": "everywhere",
        "GHOSTWATCH_DATABASE_URL": "postgresql+psycopg://gw:s3cret@db:notaport/gw",
        "GHOSTWATCH_SECRET_KEY": new_key(),
    }
    done = ghostwatch("config", "check", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "s3cret" not in done.stderr
    printed = done.stderr.removeprefix("Error: ")
    assert len(printed.splitlines()) == len(sample), printed
    assert_shown(sample, printed)
