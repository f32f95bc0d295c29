"""Templates for the daemon (issue 16, found 5): `templates copy` writes the built-in
ones out, an account's `templates:` folder is checked by `config check` (each unknown
variable with its file, its line and the values that template gets), and `ghostwatch
run` writes its drafts and digest from it. Real processes over a real Maildir account."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import yaml

from ghostwatch.compose import templating
from tests.support.paths import EXAMPLES

NOW = "2026-11-20T15:00:00+00:00"
ME = "alex@ghostwatch.example"


def _ghostwatch(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", *args], capture_output=True, text=True,
        env=env, timeout=120, check=False,
    )  # fmt: skip


def _configure(tmp_path: Path, templates: Path) -> Path:
    shutil.copytree(EXAMPLES / "mailbox", tmp_path / "mail")
    account = {"name": "alex", "provider": "maildir", "address": ME,
               "time_zone": "Europe/London", "templates": str(templates),
               "maildir": {"path": str(tmp_path / "mail")}}  # fmt: skip
    settings = {"data_dir": str(tmp_path / "data"), "health": {"enabled": False},
                "accounts": [account]}  # fmt: skip
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_copy_writes_every_built_in_template_and_lists_what_each_gets(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    done = _ghostwatch("templates", "copy", str(folder))
    assert done.returncode == 0, done.stderr
    for name in templating.builtin_files():
        assert (folder / name).read_text() == templating.builtin_text(name)
    for stem, values in templating.VALUES.items():
        assert f"  {stem}.txt, {stem}.html: {', '.join(values)}" in done.stdout
    again = _ghostwatch("templates", "copy", str(folder))
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert _ghostwatch("templates", "check", str(folder)).returncode == 0


def test_config_check_names_an_unknown_variable_with_file_line_and_the_list(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    assert _ghostwatch("templates", "copy", str(folder)).returncode == 0
    text = (folder / "breakup.txt").read_text()
    (folder / "breakup.txt").write_text(text.replace("{{ greeting }}", "{{ first_nmae }}", 1))
    line = 1 + text.split("{{ greeting }}")[0].count("\n")
    done = _ghostwatch("config", "check", "--config", str(_configure(tmp_path, folder)))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [problem] = [row for row in done.stderr.splitlines() if "accounts.0.templates" in row]
    assert f"{folder / 'breakup.txt'}, line {line}: unknown variable 'first_nmae'" in problem
    assert "breakup templates get " + ", ".join(templating.VALUES["breakup"]) in problem
    missing = _ghostwatch(
        "config", "check", "--config", str(_configure(tmp_path / "b", tmp_path / "nowhere"))
    )
    assert "is not a folder" in missing.stderr
    assert "ghostwatch templates copy" in missing.stderr


def test_the_daemon_writes_drafts_and_the_digest_from_the_accounts_templates(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    assert _ghostwatch("templates", "copy", str(folder)).returncode == 0
    drafted = ("nudge", "nudge_second", "nudge_after_absence", "breakup", "meeting_followup")
    for name in (*drafted, "digest"):
        text = (folder / f"{name}.txt").read_text()
        (folder / f"{name}.txt").write_text(f"MY OWN {name.upper()}\n{text}")
    config = _configure(tmp_path, folder)
    done = _ghostwatch("run", "--once", "--now", NOW, "--config", str(config))
    assert done.returncode == 0, done.stderr
    drafts = [_text(p) for p in (tmp_path / "mail" / ".Drafts" / "cur").iterdir()]
    ours = [(m, body) for m, body in drafts if m["X-Ghostwatch-Step"]]
    assert ours
    assert all(body.startswith("MY OWN ") for _, body in ours)
    digests = [body for m, body in map(_text, (tmp_path / "mail" / "new").iterdir())
               if m["X-Ghostwatch-Digest"]]  # fmt: skip
    assert digests
    assert digests[0].startswith("MY OWN DIGEST")


def _text(path: Path) -> tuple[EmailMessage, str]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    return message, body.get_content() if body is not None else ""
