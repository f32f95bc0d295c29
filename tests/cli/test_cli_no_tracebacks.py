"""What a newcomer met as tracebacks (issue 16, found 1) ends in one line, in a real
`python -m ghostwatch` process: a sign-in service that does not answer, a template with
a typo, Ctrl-C. Every error of ours is worded once, at the command line's edge
(cli/errors.py); libraries' exceptions are translated where they are raised."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ghostwatch.compose import templating
from ghostwatch.providers.google import signin as google
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from tests.support.paths import EXAMPLES

NOW = "2026-11-20T15:00:00+00:00"
ME = "alex@ghostwatch.example"


@pytest.fixture
def refused() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening (so no other
    test can take it meanwhile)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy"):
        keep.pop(proxy, None)
    keep.pop("no_proxy", None)
    return {**keep, "OAUTHLIB_INSECURE_TRANSPORT": "1", **extra}


def _ghostwatch(
    *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", *args], input=stdin, capture_output=True,
        text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """Exit code 2, nothing but one `Error: …` line on stderr."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: "), done.stderr
    assert done.returncode == 2, done.stderr
    return lines[0]


def test_auth_check_with_google_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    key = new_key()
    vault = vault_in(tmp_path / "data", resolve_key(key, None))
    with GmailSandbox.serve(user=ME) as sandbox:
        granted = sandbox.sign_in(google.google_scopes(junk_rescue=False))
        google.store_user_login(vault, "alex", granted)
    # The sandbox is gone: its token endpoint now refuses the connection.
    done = _ghostwatch(
        "auth", "check", "--account", "alex", "--data-dir", str(tmp_path / "data"),
        env=_env(GHOSTWATCH_SECRET_KEY=key),
    )  # fmt: skip
    line = _one_error_line(done)
    assert "cannot reach Google's sign-in service" in line
    assert "Connection refused" in line
    assert "run the command again" in line
    assert "object at 0x" not in line  # urllib3's repr of its connection is no reason


def _client_file(directory: Path, port: int) -> Path:
    path = directory / "client_secret.json"
    installed = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": f"http://127.0.0.1:{port}/token",
        "redirect_uris": ["http://localhost"],
    }
    path.write_text(json.dumps({"installed": installed}), encoding="utf-8")
    return path


def test_headless_google_sign_in_without_network_says_so(tmp_path: Path, refused: int) -> None:
    done = _ghostwatch(
        "auth", "google", "--account", "alex", "--headless", "--data-dir", str(tmp_path),
        "--client-secrets", str(_client_file(tmp_path, refused)),
        env=_env(GHOSTWATCH_SECRET_KEY=new_key()), stdin="4/the-one-time-code\n",
    )  # fmt: skip
    assert "Open this address" in done.stdout  # it got as far as the paste
    line = _one_error_line(done)
    assert "cannot reach Google's sign-in service" in line
    assert not (tmp_path / "tokens" / "google.alex.json").exists()


def test_microsoft_sign_in_without_network_says_so(tmp_path: Path, refused: int) -> None:
    # Every request goes through a proxy that refuses: a machine with no way out.
    proxy = f"http://127.0.0.1:{refused}"
    done = _ghostwatch(
        "auth", "microsoft", "--account", "alex", "--client-id", "00000000-1111",
        "--data-dir", str(tmp_path),
        env=_env(GHOSTWATCH_SECRET_KEY=new_key(), HTTPS_PROXY=proxy, HTTP_PROXY=proxy),
    )  # fmt: skip
    line = _one_error_line(done)
    assert "cannot reach Microsoft's identity platform" in line
    assert "run the command again" in line


def _copied_template(tmp_path: Path, name: str, typo: tuple[str, str]) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    text = templating.builtin_text(name)
    assert typo[0] in text
    (folder / name).write_text(text.replace(typo[0], typo[1], 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", ["preview", "digest"])
def test_a_template_typo_names_the_variable_file_line_and_what_it_gets(
    tmp_path: Path, command: str
) -> None:
    folder = _copied_template(tmp_path, "nudge.txt", ("{{ since }}", "{{ first_nmae }}"))
    line_no = 1 + (folder / "nudge.txt").read_text().split("first_nmae")[0].count("\n")
    out = ["--out", str(tmp_path / "d.html")] if command == "digest" else []
    done = _ghostwatch(
        command, "--maildir", str(EXAMPLES / "mailbox"), "--me", ME, "--now", NOW,
        "--templates", str(folder), *out, env=_env(),
    )  # fmt: skip
    line = _one_error_line(done)
    assert f"{folder / 'nudge.txt'}, line {line_no}" in line
    assert "unknown variable 'first_nmae'" in line
    assert "nudge templates get" in line
    assert all(name in line for name in ("greeting", "since", "reason", "signature"))
    assert not (tmp_path / "d.html").exists()


def test_an_attribute_typo_is_said_with_its_line_when_rendering(tmp_path: Path) -> None:
    folder = _copied_template(tmp_path, "nudge.txt", ("{{ since }}", "{{ since.txet }}"))
    line_no = 1 + (folder / "nudge.txt").read_text().split("txet")[0].count("\n")
    done = _ghostwatch(
        "preview", "--maildir", str(EXAMPLES / "mailbox"), "--me", ME, "--now", NOW,
        "--templates", str(folder), env=_env(),
    )  # fmt: skip
    line = _one_error_line(done)
    assert f"nudge.txt, line {line_no}" in line
    assert "txet" in line
    assert "nudge templates get" in line


def test_version_names_the_installed_package() -> None:
    done = _ghostwatch("--version", env=_env())
    assert done.returncode == 0
    assert done.stdout.strip() == f"ghostwatch {importlib.metadata.version('ghostwatch')}"


def _interrupt(process: subprocess.Popen[str], ready: str, stream: str) -> tuple[str, str]:
    """SIGINT (what Ctrl-C sends) once `ready` was printed on `stream`; both outputs."""
    pipe = process.stdout if stream == "stdout" else process.stderr
    assert pipe is not None
    seen = ""
    deadline = time.monotonic() + 60
    while ready not in seen:
        assert time.monotonic() < deadline, seen
        assert process.poll() is None, seen
        seen += pipe.readline()
    time.sleep(0.3)  # into the wait that follows the line
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return (seen + out, err) if stream == "stdout" else (out, seen + err)


def _as_at_a_terminal() -> None:
    """In the child, before exec: SIGINT as a terminal delivers it. A test run started in
    the background (`pytest &` in a script) hands its children SIGINT ignored, and Python
    then installs no KeyboardInterrupt handler at all; Ctrl-C at a terminal never is."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted(process: subprocess.Popen[str], err: str) -> None:
    assert process.returncode == 130, err
    assert "Traceback" not in err, err
    said = [line for line in err.splitlines() if line.strip() and not line.startswith("{")]
    assert said == ["interrupted"], err


def test_ctrl_c_at_a_prompt_ends_with_130_and_one_line(tmp_path: Path, refused: int) -> None:
    """Ctrl-C while `auth google --headless` waits for the pasted address. Its standard
    input is a pipe whose writing end this test holds open until the process has ended:
    the prompt never sees end-of-file, so SIGINT is the one thing that can end it (with a
    PIPE, communicate() closed stdin at once and EOF raced the signal: exit 1 or 130)."""
    reading, writing = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "ghostwatch", "auth", "google", "--account", "alex",
             "--headless", "--data-dir", str(tmp_path),
             "--client-secrets", str(_client_file(tmp_path, refused))],
            stdin=reading, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_env(GHOSTWATCH_SECRET_KEY=new_key()), preexec_fn=_as_at_a_terminal,
        )  # fmt: skip
        os.close(reading)
        _, err = _interrupt(process, "localhost page", "stdout")
        assert process.returncode is not None  # ended by the signal alone, stdin still open
    finally:
        os.close(writing)
    _interrupted(process, err)


def test_ctrl_c_stops_the_daemon_with_130(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "mailbox", tmp_path / "mailbox")
    account = {"name": "alex", "provider": "maildir", "address": ME,
               "maildir": {"path": str(tmp_path / "mailbox")}}  # fmt: skip
    settings = {"data_dir": str(tmp_path / "data"), "health": {"enabled": False},
                "log_format": "json", "log_level": "info", "accounts": [account]}  # fmt: skip
    config = tmp_path / "ghostwatch.yaml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "ghostwatch", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        preexec_fn=_as_at_a_terminal,
    )  # fmt: skip
    _, err = _interrupt(process, "daemon_started", "stderr")
    _interrupted(process, err)
