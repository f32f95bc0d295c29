"""User mistakes on the command line end in one clear line and exit code 2, never a traceback.

Table-driven through click's CliRunner (click >= 8.2 keeps `result.stderr` separate from
`result.stdout` always; there is no `mix_stderr` any more), and a few through a real
`python -m ghostwatch` subprocess, where an escaping exception would print a real traceback.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from ghostwatch.cli.main import main
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from tests.support.builder import ME, Mailbox

NOW = "2026-11-20T15:00:00+00:00"
KATHY = "Kathy Lopez <kathy@contoso.example>"
# Deterministic "binary garbage": every byte value, NULs, lone CRs, high bytes.
GARBAGE = bytes(range(256)) * 8 + b"\x00\r\x00\xff\xfe" * 50


CLICK_REFUSALS = ("Error: Invalid value", "Error: No such", "Error: Missing", "Error: Got unex")
"""How click's own parsing errors begin (click.exceptions: BadParameter, NoSuchOption,
MissingParameter, unexpected extra arguments)."""


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    # CliRunner swallows escaping exceptions into `result.exception` (exit code 1).
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def _error_line(stderr: str) -> str:
    """The single `Error: ...` line click prints for a usage error."""
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _assert_user_error(result: Result, *hints: str) -> str:
    _no_traceback(result)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""  # stdout is for the JSON contract only
    line = _error_line(result.stderr)
    for hint in hints:
        assert hint in line, (hint, line)
    return line


# --- fixtures: a good Maildir, and the bad places a user may point at --------------------


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    mailbox = Mailbox(tmp_path / "mail")
    mailbox.add("Sent", f"Alex <{ME}>", KATHY, "Proposal", "2026-11-02 10:00")
    return mailbox


@dataclass(frozen=True)
class Case:
    """A bad command line: `args` is built from the good Maildir and a scratch folder."""

    name: str
    args: Callable[[Path, Path], list[str]]
    hints: tuple[str, ...]


def _scan(maildir: Path, *extra: str, me: str = ME) -> list[str]:
    return ["scan", "--maildir", str(maildir), "--me", me, "--now", NOW, *extra]


# Trust auth at 127.0.0.1 ignores it: a password that must never be shown.
PASSWORD = "s3cret-pw"
NOTHING_LISTENS = f"postgresql://ghost:{PASSWORD}@127.0.0.1:1/ghostwatch"


def _service(md: Path, tmp: Path, database: str, *command: str) -> list[str]:
    """A service command over a good Maildir account and the given database URL."""
    account = {"name": "box", "provider": "maildir", "address": ME, "maildir": {"path": str(md)}}
    settings = {"data_dir": str(tmp / "data"), "database_url": database, "accounts": [account]}
    path = tmp / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings))
    return [*command, "--config", str(path)]


DATABASE_CASES = [
    Case(
        "run --once: PostgreSQL where nothing listens",
        lambda md, tmp: _service(md, tmp, NOTHING_LISTENS, "run", "--once", "--now", NOW),
        ("cannot open database", "ghost:***@127.0.0.1:1/", "Connection refused", "server"),
    ),
    Case(
        "accounts: PostgreSQL where nothing listens",
        lambda md, tmp: _service(md, tmp, NOTHING_LISTENS, "accounts"),
        ("cannot open database", "127.0.0.1:1", "Connection refused"),
    ),
    Case(
        "db upgrade: PostgreSQL where nothing listens",
        lambda md, tmp: ["db", "upgrade", "--database-url", NOTHING_LISTENS],
        ("cannot open database", "127.0.0.1:1", "Connection refused"),
    ),
    Case(
        "run --once: SQLite in a folder that does not exist",
        lambda md, tmp: _service(md, tmp, f"sqlite:///{tmp}/nowhere/gw.db", "run", "--once"),
        (f"{os.sep}nowhere does not exist", "create the folder"),
    ),
    Case(
        "accounts: SQLite in a 'folder' that is a file",
        lambda md, tmp: _service(md, tmp, f"sqlite:///{tmp}/a-file.txt/gw.db", "accounts"),
        ("a-file.txt is a file, not a folder",),
    ),
    Case(
        "mute: SQLite file that is not a database",
        lambda md, tmp: _service(md, tmp, f"sqlite:///{tmp}/a-file.txt", "mute", "c1"),
        ("cannot open database sqlite:///", "file is not a database", "check that"),
    ),
]

CASES = [
    Case("missing --maildir", lambda md, tmp: ["scan", "--me", ME], ("--maildir",)),
    Case(
        "--maildir does not exist",
        lambda md, tmp: _scan(tmp / "nowhere"),
        ("--maildir", "does not exist"),
    ),
    Case("--maildir is a file", lambda md, tmp: _scan(tmp / "a-file.txt"), ("--maildir", "file")),
    Case(
        "--maildir is an empty folder, not a Maildir",
        lambda md, tmp: _scan(tmp / "empty"),
        ("not a Maildir", "cur/"),
    ),
    Case("missing --me", lambda md, tmp: ["scan", "--maildir", str(md)], ("--me",)),
    Case("--me empty", lambda md, tmp: _scan(md, me=""), ("not an email address", "--me")),
    Case("--me only commas", lambda md, tmp: _scan(md, me=" , "), ("not an email address",)),
    Case("--me without @", lambda md, tmp: _scan(md, me="alex"), ("'alex'", "--me")),
    Case("--me a@", lambda md, tmp: _scan(md, me="a@"), ("'a@'", "not an email address")),
    Case("--me @b.c", lambda md, tmp: _scan(md, me="@b.c"), ("'@b.c'", "not an email address")),
    Case("--me a b@c", lambda md, tmp: _scan(md, me="a b@c.example"), ("'a b@c.example'",)),
    Case("--me a@b@c", lambda md, tmp: _scan(md, me="a@b@c.example"), ("'a@b@c.example'",)),
    Case(
        "--me one good, one bad",
        lambda md, tmp: _scan(md, me=f"{ME},bob"),
        ("bob", "not an email address"),
    ),
    Case(
        "--now yesterday",
        lambda md, tmp: _scan(md, "--now", "yesterday"),
        ("'yesterday'", "ISO 8601"),
    ),
    Case(
        "--now month 13",
        lambda md, tmp: _scan(md, "--now", "2026-13-01"),
        ("'2026-13-01'", "ISO 8601"),
    ),
    Case("--now empty", lambda md, tmp: _scan(md, "--now", ""), ("ISO 8601",)),
    Case("--tz Mars/Base", lambda md, tmp: _scan(md, "--tz", "Mars/Base"), ("'Mars/Base'", "IANA")),
    Case("--tz path traversal", lambda md, tmp: _scan(md, "--tz", "../../etc/passwd"), ("IANA",)),
    Case("--tz empty", lambda md, tmp: _scan(md, "--tz", ""), ("time zone",)),
    Case("--country XX", lambda md, tmp: _scan(md, "--country", "XX"), ("'XX'", "ISO 3166")),
    Case("unknown option", lambda md, tmp: _scan(md, "--bogus"), ("--bogus",)),
    Case("unknown command", lambda md, tmp: ["sacn"], ("sacn",)),
    Case(
        "bad --log-level",
        lambda md, tmp: ["--log-level", "loud", *_scan(md)],
        ("--log-level", "loud"),
    ),
    Case("classify with no files", lambda md, tmp: ["classify"], ("FILES",)),
    Case(
        "classify a missing file",
        lambda md, tmp: ["classify", str(tmp / "missing.eml")],
        ("missing.eml", "does not exist"),
    ),
    Case(
        "classify a directory",
        lambda md, tmp: ["classify", str(tmp / "empty")],
        ("is a directory",),
    ),
    Case(
        "classify a good file and a missing one",
        lambda md, tmp: ["classify", str(tmp / "a-file.txt"), str(tmp / "missing.eml")],
        ("missing.eml",),
    ),
    *DATABASE_CASES,
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_user_mistakes_exit_2_with_one_clear_line(
    case: Case, box: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GHOSTWATCH_DATABASE_URL", "GHOSTWATCH_DATA_DIR", "GHOSTWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)  # the cases' own settings, not the shell's
    scratch = tmp_path / "scratch"
    (scratch / "empty").mkdir(parents=True)
    (scratch / "a-file.txt").write_text("From: a@b.c\n\nhello\n")
    result = _invoke(case.args(box.root, scratch))
    line = _assert_user_error(result, *case.hints)
    assert PASSWORD not in result.stderr
    # Usage text only for a command line click itself refused; when the command line was
    # fine and the file, folder or database was not, "Try --help" would mislead.
    assert ("Usage:" in result.stderr) == line.startswith(CLICK_REFUSALS), result.stderr


@pytest.mark.parametrize(
    ("option", "value"), [("--now", "yesterday"), ("--tz", "Mars/Base"), ("--country", "XX")]
)
def test_a_bad_value_names_its_option(box: Mailbox, option: str, value: str) -> None:
    """click's own wording for option errors: "Invalid value for '--now': ..."."""
    line = _assert_user_error(_invoke(_scan(box.root, option, value)))
    assert option in line


# --- the good Maildir still scans: sanity for the table above ----------------------------


def test_the_good_maildir_scans(box: Mailbox) -> None:
    result = _invoke(_scan(box.root, "--json"))
    _no_traceback(result)
    assert result.exit_code == 0, result.stderr
    (conversation,) = json.loads(result.stdout)["conversations"]
    assert (conversation["state"], conversation["action"]) == ("due", "nudge")


# --- damaged content inside an otherwise fine Maildir ------------------------------------


def test_garbage_calendar_is_a_clear_one_line_error(box: Mailbox) -> None:
    """Decision recorded: a calendar.ics that is not iCalendar stops the scan (exit 2)
    with a message naming the file, rather than silently deciding without meetings."""
    (box.root / "calendar.ics").write_bytes(b"this is not a calendar\nat all\n")
    line = _assert_user_error(_invoke(_scan(box.root, "--json")), "calendar.ics", "iCalendar")
    assert str(box.root / "calendar.ics") in line


def test_binary_garbage_calendar_is_still_one_line(box: Mailbox) -> None:
    (box.root / "calendar.ics").write_bytes(GARBAGE)
    _assert_user_error(_invoke(_scan(box.root, "--json")), "calendar.ics")


def test_garbage_calendar_error_has_no_control_characters(box: Mailbox) -> None:
    (box.root / "calendar.ics").write_bytes(b"\x00\x07garbage\rError: a fake line\n")
    line = _assert_user_error(_invoke(_scan(box.root, "--json")), "calendar.ics")
    assert not any(ord(c) < 32 and c != "\t" for c in line), repr(line)
    assert "\r" not in line


def test_binary_garbage_message_is_skipped_and_the_scan_succeeds(box: Mailbox) -> None:
    box.add_bytes("INBOX", GARBAGE)
    box.add_bytes("Sent", GARBAGE)
    box.add_bytes("Junk", b"\xff\xfe\x00" * 4000, sub="new")
    box.add_bytes("INBOX", b"")  # an empty file
    result = _invoke(_scan(box.root, "--json"))
    _no_traceback(result)
    assert result.exit_code == 0, result.stderr
    (conversation,) = json.loads(result.stdout)["conversations"]
    assert conversation["contacts"] == ["kathy@contoso.example"]
    assert (conversation["state"], conversation["action"]) == ("due", "nudge")
    # ... and the readable table does not choke on them either.
    table = _invoke(_scan(box.root, "--all"))
    _no_traceback(table)
    assert table.exit_code == 0, table.stderr


@pytest.mark.parametrize("content", [GARBAGE, b"", b"\n\n  \n"], ids=["garbage", "empty", "blank"])
def test_classify_calls_no_file_without_headers_human(tmp_path: Path, content: bytes) -> None:
    """Issue 16: random bytes and empty files came out "human" (no machine signal found),
    which reads as a verdict. They are not messages: one line, exit code 2."""
    path = tmp_path / "garbage.eml"
    path.write_bytes(content)
    result = _invoke(["classify", str(path), "--json"])
    _no_traceback(result)
    line = _error_line(result.stderr)
    assert str(path) in line
    assert "empty" in line or "not an email message" in line
    assert result.exit_code == 2
    assert result.stdout == ""


def test_classify_goes_on_past_a_file_that_is_no_message(tmp_path: Path) -> None:
    """One bad file among many gets its own line; every other file is still classified
    (it stopped the whole command, leaving the files after it without a verdict)."""
    good = tmp_path / "reply.eml"
    good.write_bytes(f"From: {KATHY}\nTo: {ME}\nSubject: Re: quote\n\nThanks!\n".encode())
    bad = tmp_path / "garbage.eml"
    bad.write_bytes(GARBAGE)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = _invoke(["classify", str(good), str(bad), str(empty), str(good), "--json"])
    _no_traceback(result)
    assert result.exit_code == 2
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["file"], row["class"]) for row in rows] == [(str(good), "human")] * 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2, result.stderr
    assert str(bad) in errors[0]
    assert "not an email message" in errors[0]
    assert str(empty) in errors[1]
    assert "empty" in errors[1]


# --- unreadable files -----------------------------------------------------------------


def _unreadable(path: Path) -> None:
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as root: chmod 000 does not make a file unreadable")


def test_classify_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.eml"
    path.write_bytes(b"From: a@b.c\n\nhi\n")
    _unreadable(path)
    _assert_user_error(_invoke(["classify", str(path)]), "cannot read", "locked.eml")


def test_an_unreadable_message_stops_the_scan_with_one_line(box: Mailbox) -> None:
    """Issue 16: it was a warning and exit 0, but an unread message could be the reply."""
    path = box.add_bytes("INBOX", b"From: kathy@contoso.example\n\nhi\n")
    if os.geteuid() == 0:
        # root reads any file whatever its mode: a file whose read fails for everyone
        # (procfs answers EIO for the unmapped first page of a process's memory).
        if not Path("/proc/self/mem").exists():
            pytest.skip("needs /proc/self/mem to make a file nobody can read")
        path.unlink()
        path.symlink_to("/proc/self/mem")
    else:
        _unreadable(path)
    result = _invoke(_scan(box.root, "--json"))
    _assert_user_error(result, "cannot read", path.name, "could be the reply")
    assert result.stdout == ""


def test_an_unreadable_calendar_is_a_user_error(box: Mailbox) -> None:
    path = box.root / "calendar.ics"
    path.write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    _unreadable(path)
    _assert_user_error(_invoke(_scan(box.root, "--json")), "calendar.ics")


@pytest.fixture
def deny_reading(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], list[Path]]:
    """Make opening one path fail with EACCES, as chmod 000 would for a normal user.

    Runs as root too. Every `open` spelling is covered (`Path.open`/`read_bytes` go
    through `io.open`; the Maildir reader uses `os.open`); the returned list records
    the attempts, so a test notices when the code stops reading the path at all.
    """
    real = io.open
    real_os_open = os.open

    def install(locked: Path) -> list[Path]:
        attempts: list[Path] = []

        def deny(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike) and Path(os.fspath(file)) == locked:
                attempts.append(locked)
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real(file, *args, **kwargs)

        def deny_fd(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike) and Path(os.fspath(file)) == locked:
                attempts.append(locked)
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_os_open(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", deny)
        monkeypatch.setattr(builtins, "open", deny)
        monkeypatch.setattr(os, "open", deny_fd)
        return attempts

    return install


def test_classify_unreadable_file_simulated(
    tmp_path: Path, deny_reading: Callable[[Path], list[Path]]
) -> None:
    path = tmp_path / "locked.eml"
    path.write_bytes(b"From: a@b.c\n\nhi\n")
    attempts = deny_reading(path)
    _assert_user_error(_invoke(["classify", str(path)]), "cannot read", "Permission denied")
    assert attempts


def test_unreadable_message_simulated_stops_the_scan(
    box: Mailbox, deny_reading: Callable[[Path], list[Path]]
) -> None:
    locked = box.add_bytes("INBOX", b"From: kathy@contoso.example\n\nhi\n")
    attempts = deny_reading(locked)
    result = _invoke(_scan(box.root, "--json"))
    assert attempts
    _assert_user_error(result, "cannot read", locked.name, "Permission denied")


def test_unreadable_calendar_simulated_is_a_user_error(
    box: Mailbox, deny_reading: Callable[[Path], list[Path]]
) -> None:
    path = box.root / "calendar.ics"
    path.write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    attempts = deny_reading(path)
    _assert_user_error(_invoke(_scan(box.root, "--json")), "cannot read", "calendar.ics")
    assert attempts


def test_a_stray_file_named_cur_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    (root / "new").mkdir(parents=True)
    (root / "cur").write_text("not a folder")
    (root / "new" / "1700000001.M1P1.host").write_bytes(
        b"From: kathy@contoso.example\nTo: alex@ghostwatch.example\nSubject: Hi\n"
        b"Date: Mon, 02 Nov 2026 10:00:00 +0000\nMessage-ID: <n@x>\n\nhi\n"
    )
    result = _invoke(_scan(root, "--json", "--all"))
    _no_traceback(result)
    assert result.exit_code == 0, result.stderr
    (conversation,) = json.loads(result.stdout)["conversations"]
    assert conversation["subject"] == "Hi"  # the message in new/ was read


def test_an_unreadable_cur_folder_is_a_user_error_simulated(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.scandir
    locked = box.root / ".Sent" / "cur"

    def deny(path: object) -> object:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", deny)
    # Not a silent skip: deciding without the Sent folder would nudge everyone.
    _assert_user_error(
        _invoke(_scan(box.root, "--json")), "cannot read", str(locked), "permissions"
    )


# --- --now at the edges of what a datetime can hold ------------------------------------


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
@pytest.mark.parametrize("as_json", [False, True])
def test_now_at_the_end_of_time_is_a_user_error_not_a_crash(
    box: Mailbox, now: str, as_json: bool
) -> None:
    result = _invoke(_scan(box.root, "--now", now, *(["--json"] if as_json else [])))
    _assert_user_error(result, "--now", repr(now))


def test_a_sent_message_dated_9999_does_not_stop_the_scan(box: Mailbox) -> None:
    box.add_bytes(
        "Sent",
        b"From: alex@ghostwatch.example\nTo: raj@tailspin.example\n"
        b"Date: Fri, 31 Dec 9999 10:00:00 +0000\nMessage-ID: <far@x>\nSubject: Far\n\nhi\n",
    )
    # A look-back long enough to reach 2023, the fallback date below.
    result = _invoke(_scan(box.root, "--json", "--look-back-days", "3650"))
    _no_traceback(result)
    assert result.exit_code == 0, result.stderr
    # The absurd Date counts as missing: the Maildir falls back to the delivery time in
    # the file name (2023 here), so both conversations are decided.
    found = {c["contacts"][0]: c for c in json.loads(result.stdout)["conversations"]}
    assert found["kathy@contoso.example"]["state"] == "due"
    raj = found["raj@tailspin.example"]
    assert (raj["state"], raj["due_at"][:4]) == ("due", "2023")


# --- `ghostwatch sandbox`: every check before anything is bound or written ---------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as listening:
        yield int(listening.getsockname()[1])


def _elsewhere(config: Path, data: Path) -> None:
    """A real account already named `sandbox` (a Maildir one)."""
    account = {"name": "sandbox", "provider": "maildir", "address": ME, "maildir": {"path": "."}}
    config.write_text(yaml.safe_dump({"accounts": [account]}))


def _real_sign_in(config: Path, data: Path) -> None:
    vault = vault_in(data, resolve_key(SANDBOX_KEY, None))
    vault.put_json("google.sandbox", {"kind": "service_account", "subject": ME})


SANDBOX_KEY = new_key()
SANDBOX_CASES = [
    ("missing mailbox", ["--mailbox", "{tmp}/nowhere"], True, None, ("--mailbox", "not exist")),
    ("not a Maildir", ["--mailbox", "{tmp}/empty"], True, None, ("not a Maildir",)),
    ("no key", [], False, None, ("ghostwatch auth key", "GHOSTWATCH_SECRET_KEY")),
    ("port in use", ["--port", "{taken}"], True, None, ("in use", "--port")),
    ("account is another", [], True, _elsewhere, ("not this sandbox", "--account")),
    ("vault holds a real sign-in", [], True, _real_sign_in, ("real Google sign-in", "--account")),
]


@pytest.mark.parametrize(
    ("extra", "with_key", "setup", "hints"),
    [case[1:] for case in SANDBOX_CASES],
    ids=[case[0] for case in SANDBOX_CASES],
)
def test_sandbox_mistakes_exit_2_and_change_nothing(
    tmp_path: Path,
    taken_port: int,
    extra: list[str],
    with_key: bool,
    setup: Callable[[Path, Path], None] | None,
    hints: tuple[str, ...],
) -> None:
    (tmp_path / "empty").mkdir()
    config, data = tmp_path / "ghostwatch.yaml", tmp_path / "data"
    if setup is not None:
        setup(config, data)
    before = sorted(p.name for p in tmp_path.rglob("*")), config.exists() and config.read_text()
    free = ["--port", str(_free_port())]
    args = [a.format(tmp=tmp_path, taken=taken_port) for a in [*free, *extra]]
    env = {"GHOSTWATCH_SECRET_KEY": SANDBOX_KEY if with_key else None}
    env |= {"GHOSTWATCH_DATA_DIR": str(data), "GHOSTWATCH_CONFIG": str(config)}
    result = CliRunner().invoke(main, ["sandbox", *args], env=env)
    _assert_user_error(result, *hints)
    after = sorted(p.name for p in tmp_path.rglob("*")), config.exists() and config.read_text()
    assert after == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a real process: nothing escapes as a Python traceback --------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ghostwatch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("make_args", "hint"),
    [
        (lambda root, tmp: _scan(tmp / "nowhere"), "does not exist"),
        (lambda root, tmp: _scan(tmp), "not a Maildir"),
        (lambda root, tmp: _scan(root, me="a@"), "not an email address"),
        (lambda root, tmp: _scan(root, "--now", "2026-13-01"), "ISO 8601"),
        (lambda root, tmp: _scan(root, "--tz", "Mars/Base"), "IANA"),
        (lambda root, tmp: ["classify", str(tmp)], "is a directory"),
        (lambda root, tmp: ["sandbox", "--mailbox", str(tmp / "nowhere")], "does not exist"),
        (lambda root, tmp: _service(root, tmp, NOTHING_LISTENS, "accounts"), "Connection refused"),
    ],
    ids=[
        "missing-maildir",
        "not-a-maildir",
        "bad-me",
        "bad-now",
        "bad-tz",
        "classify-dir",
        "sandbox-missing-mailbox",
        "postgresql-nothing-listens",
    ],
)
def test_subprocess_user_errors_have_no_traceback(
    box: Mailbox,
    tmp_path: Path,
    make_args: Callable[[Path, Path], list[str]],
    hint: str,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = _run(*make_args(box.root, scratch))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert hint in _error_line(done.stderr)
    assert PASSWORD not in done.stderr


def test_subprocess_garbage_message_scans_cleanly(box: Mailbox) -> None:
    box.add_bytes("INBOX", GARBAGE)
    done = _run(*_scan(box.root, "--json"))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["conversations"]) == 1


def test_subprocess_now_at_the_end_of_time(box: Mailbox) -> None:
    done = _run(*_scan(box.root, "--now", "9999-12-31T23:00:00-05:00"))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stderr
    assert "--now" in _error_line(done.stderr)
