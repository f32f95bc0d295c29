"""The service configuration: the YAML file, environment overrides, secrets, and errors
that name the bad key and say how to fix it, all of them at once."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from ghostwatch import config
from ghostwatch.cli.main import main
from ghostwatch.errors import UserError
from tests.support.paths import REPO

ROOT = REPO
MAILDIR = str(ROOT / "examples" / "mailbox")

GOOD: dict[str, Any] = {
    "accounts": [
        {"name": "alex", "provider": "gmail", "address": "alex@ghostwatch.example"},
        {
            "name": "box",
            "provider": "maildir",
            "address": "alex@ghostwatch.example",
            "maildir": {"path": MAILDIR},
        },
    ]
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at a dotted path replaced (DELETE removes the key)."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


DELETE = object()

# (where the bad value goes, the value, the dotted path reported, a word of the fix)
BAD: list[tuple[str, Any, str, str]] = [
    ("accounts", [], "accounts", "at least one"),
    ("accounts.0.name", "Alex Morgan", "accounts.0.name", "lower-case"),
    ("accounts.1.name", "alex", "accounts", "unique"),
    (
        "accounts.0.provider",
        "pop3",
        "accounts.0.provider",
        "'gmail', 'outlook', 'maildir' or 'imap'",
    ),
    ("accounts.0.provider", DELETE, "accounts.0.provider", "add this key"),
    ("accounts.0.address", "alex", "accounts.0.address", "name@company.com"),
    ("accounts.0.address", "a@b@c", "accounts.0.address", "name@company.com"),
    ("accounts.0.aliases", ["ok@x.example", "nope"], "accounts.0.aliases.1", "name@company"),
    ("accounts.0.aliases", "a@b.example", "accounts.0.aliases", "list"),
    ("accounts.0.time_zone", "Mars/Olympus", "accounts.0.time_zone", "IANA"),
    ("accounts.0.time_zone", "Europe", "accounts.0.time_zone", "IANA"),
    ("accounts.0.holiday_country", "XX", "accounts.0.holiday_country", "ISO 3166"),
    ("accounts.0.digest_time", "25:00", "accounts.0.digest_time", "HH:MM"),
    ("accounts.0.digest_time", "breakfast", "accounts.0.digest_time", "HH:MM"),
    # A number was read as seconds after midnight, with a UTC offset that made the first
    # poll's comparison with the local clock a TypeError (issue: `start: 8` passed check).
    ("accounts.0.digest_time", 730, "accounts.0.digest_time", "not a clock time: write HH:MM"),
    ("accounts.0.digest_time", 7.5, "accounts.0.digest_time", "not a clock time"),
    ("accounts.0.digest_time", "07:30+02:00", "accounts.0.digest_time", "local time alone"),
    (
        "accounts.0.working_hours",
        {"start": 8, "end": "18:00"},
        "accounts.0.working_hours.start",
        "in quotes, e.g. '08:00'",
    ),
    ("accounts.0.junk_rescue", "sometimes", "accounts.0.junk_rescue", "true or false"),
    ("accounts.0.dry_run", "maybe", "accounts.0.dry_run", "true or false"),
    (
        "accounts.0.working_hours",
        {"start": "18:00", "end": "08:00"},
        "accounts.0.working_hours",
        "not after start",
    ),
    ("accounts.0.cadence", {"steps": []}, "accounts.0.cadence.steps", "at least one"),
    (
        "accounts.0.cadence",
        {"steps": [{"action": "call", "after": 3}]},
        "accounts.0.cadence.steps.0.action",
        "'nudge' or 'breakup'",
    ),
    (
        "accounts.0.cadence",
        {"steps": [{"action": "nudge", "after": 0}]},
        "accounts.0.cadence.steps.0.after",
        "larger number",
    ),
    ("accounts.0.maildir", {"path": MAILDIR}, "accounts.0.maildir", "provider maildir"),
    ("accounts.1.maildir", DELETE, "accounts.1.maildir", "add `maildir:"),
    ("accounts.1.maildir", {"path": "/no/such/folder"}, "accounts.1.maildir", "existing Maildir"),
    ("accounts.0.time_zon", "UTC", "accounts.0.time_zon", "did you mean 'time_zone'"),
    ("accounts.0.colour", "blue", "accounts.0.colour", "remove it"),
    ("health.address", "8787", "health.address", "HOST:PORT"),
    ("health.address", "127.0.0.1:99999", "health.address", "HOST:PORT"),
    ("health.adress", "127.0.0.1:8787", "health.adress", "did you mean 'address'"),
    ("schedule.mail_minutes", 0, "schedule.mail_minutes", "larger number"),
    ("schedule.jitter_seconds", "lots", "schedule.jitter_seconds", "whole number"),
    ("log_format", "xml", "log_format", "'auto', 'json' or 'console'"),
    ("databse_url", "sqlite:///x.db", "databse_url", "did you mean 'database_url'"),
    (
        "accounts.0.gmail",
        {"api_endpoint": "http://gmail.googleapis.com/"},
        "accounts.0.gmail.api_endpoint",
        "use an https:// URL",
    ),
    ("accounts.0.gmail", {"batch_uri": "ftp://x/"}, "accounts.0.gmail.batch_uri", "https://"),
]


@pytest.mark.parametrize(("where", "value", "path", "fix"), BAD)
def test_a_bad_value_names_its_key_and_the_fix(where: str, value: Any, path: str, fix: str) -> None:
    with pytest.raises(config.ConfigError) as raised:
        config.build(_with(where, value), "ghostwatch.yaml")
    problems = [p for p in raised.value.problems if p.startswith(f"{path}: ")]
    assert len(problems) == 1, raised.value.problems
    assert fix in problems[0]


def test_every_problem_is_listed_at_once() -> None:
    data = _with("accounts.0.time_zone", "Nowhere")
    data["accounts"][1]["digest_time"] = "noon"
    data["health"] = {"address": "x"}
    with pytest.raises(config.ConfigError) as raised:
        config.build(data, "ghostwatch.yaml")
    paths = sorted(p.partition(":")[0] for p in raised.value.problems)
    assert paths == ["accounts.0.time_zone", "accounts.1.digest_time", "health.address"]
    assert str(raised.value).startswith("ghostwatch.yaml has 3 problems:")


def test_the_cli_prints_the_problems_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(_with("accounts.0.time_zone", "Nowhere")))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert "accounts.0.time_zone: unknown time zone 'Nowhere'" in result.output
    assert "Traceback" not in result.output


def test_good_settings_and_their_defaults() -> None:
    settings = config.build(GOOD, "ghostwatch.yaml")
    first = settings.accounts[0]
    assert first.digest_time == time(7, 30)
    assert first.junk_rescue is False
    assert settings.health.host_port() == ("127.0.0.1", 8787)
    assert settings.database() == f"sqlite:///{Path('data') / 'ghostwatch.db'}"
    assert settings.accounts[1].maildir is not None


def test_environment_overrides_the_file_key_by_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTWATCH_HEALTH__ADDRESS", "0.0.0.0:9000")
    monkeypatch.setenv("GHOSTWATCH_LOG_FORMAT", "json")
    data = {**GOOD, "health": {"enabled": False, "address": "127.0.0.1:1"}}
    settings = config.build(data, "ghostwatch.yaml")
    assert settings.health.address == "0.0.0.0:9000"
    assert settings.health.enabled is False  # the file's other keys in the section stay
    assert settings.log_format == "json"


def test_a_bad_environment_value_is_reported_like_a_bad_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """...and blamed on the variable it came from, not on the file, which is fine."""
    monkeypatch.setenv("GHOSTWATCH_SCHEDULE__MAIL_MINUTES", "often")
    with pytest.raises(config.ConfigError) as raised:
        config.build(GOOD, "ghostwatch.yaml")
    assert raised.value.problems == [
        "schedule.mail_minutes (from GHOSTWATCH_SCHEDULE__MAIL_MINUTES): Input should be a "
        "valid number, unable to parse string as a number; write a number, e.g. 5 or 0.5"
    ]
    assert str(raised.value).startswith("ghostwatch.yaml and the environment it runs in have")


def test_an_account_key_set_from_the_environment_is_blamed_on_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GHOSTWATCH_ACCOUNTS__0__DRY_RUN replaces the list of accounts with a mapping: the
    problem was "accounts: Input should be a valid list", blamed on a file that is fine."""
    monkeypatch.setenv("GHOSTWATCH_ACCOUNTS__0__DRY_RUN", "true")
    with pytest.raises(config.ConfigError) as raised:
        config.build(GOOD, "ghostwatch.yaml")
    [problem] = raised.value.problems
    assert problem.startswith("accounts (from GHOSTWATCH_ACCOUNTS__0__DRY_RUN): ")
    assert "change it in the file, or give the whole list as JSON in GHOSTWATCH_ACCOUNTS" in problem
    assert str(raised.value).startswith("ghostwatch.yaml and the environment it runs in have")


def test_the_whole_list_of_accounts_can_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = [{"name": "sam", "provider": "gmail", "address": "sam@ghostwatch.example"}]
    monkeypatch.setenv("GHOSTWATCH_ACCOUNTS", json.dumps(accounts))
    assert [a.name for a in config.build(GOOD, "ghostwatch.yaml").accounts] == ["sam"]


def test_secrets_come_from_mounted_files_and_stay_hidden(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ghostwatch:s3cret@db/ghostwatch"
    (tmp_path / "ghostwatch_database_url").write_text(url)
    settings = config.build(GOOD, "ghostwatch.yaml", secrets_dir=tmp_path)
    assert settings.database() == url
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in settings.model_dump_json()


def test_an_unquoted_clock_time_in_yaml_means_that_time(tmp_path: Path) -> None:
    path = tmp_path / "ghostwatch.yaml"
    text = yaml.safe_dump(GOOD).replace("name: alex\n", "name: alex\n  digest_time: 07:45\n", 1)
    path.write_text(text)
    assert config.load(path).accounts[0].digest_time == time(7, 45)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("accounts: [\n", "line 2"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_a_file_that_is_not_a_settings_mapping(tmp_path: Path, text: str, fix: str) -> None:
    path = tmp_path / "ghostwatch.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=fix):
        config.load(path)


def test_a_file_not_in_utf8_says_so_not_permissions(tmp_path: Path) -> None:
    """A config saved as UTF-16 by an editor read as "check the file's permissions"."""
    path = tmp_path / "ghostwatch.yaml"
    path.write_text("accounts: []\n", encoding="utf-16")
    with pytest.raises(UserError) as raised:
        config.load(path)
    assert str(raised.value) == (
        f"{path} is not UTF-8 text (byte 0xff at offset 0): save it as UTF-8, or check "
        "that --config names the YAML file"
    )


def test_a_missing_file_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="ghostwatch init"):
        config.load(tmp_path / "nope.yaml")


def test_init_writes_the_documented_example_which_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "ghostwatch.yaml"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--path", str(path)]).exit_code == 0
    template = ROOT / "src" / "ghostwatch" / "config" / "template.yaml"
    assert path.read_text() == template.read_text()
    # Valid as written, and its placeholder account is off: nothing can fail yet (issue 16:
    # an enabled `you` ended every `run --once` in "cycle failed for you").
    checked = runner.invoke(main, ["config", "check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "you: gmail you@example.com (disabled)" in checked.output
    enabled = path.read_text().replace("enabled: false ", "enabled: true  ")
    path.write_text(enabled)
    refused = runner.invoke(main, ["config", "check", "--config", str(path)])
    assert refused.exit_code == 2
    assert "accounts.0.address: you@example.com is the placeholder" in refused.output
    again = runner.invoke(main, ["init", "--path", str(path)])
    assert again.exit_code == 2
    assert "--force" in again.output


def test_schema_is_json_schema_of_every_setting() -> None:
    result = CliRunner().invoke(main, ["config", "schema"])
    schema = json.loads(result.output)
    assert {"accounts", "database_url", "health", "log_format"} <= set(schema["properties"])
    account = schema["$defs"]["AccountConfig"]
    assert account["additionalProperties"] is False
    assert set(account["properties"]["provider"]["enum"]) == {"gmail", "outlook", "maildir", "imap"}


def test_init_by_default_writes_a_file_git_ignores(tmp_path: Path) -> None:
    """`ghostwatch init` in a clone writes config/ghostwatch.yaml: the user's own file, which
    git neither tracks nor shows (issue 16: init's default was a tracked file)."""
    git = ["git", "-C", str(ROOT)]
    tracked = subprocess.run([*git, "ls-files", "config/ghostwatch.yaml"], capture_output=True,
                             text=True, check=True)  # fmt: skip
    assert tracked.stdout == ""
    ignored = subprocess.run([*git, "check-ignore", "-q", "config/ghostwatch.yaml"])
    assert ignored.returncode == 0
    assert Path("config/ghostwatch.yaml") == config.DEFAULT_PATH
