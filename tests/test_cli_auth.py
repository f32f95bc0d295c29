"""`ghostwatch auth …` through click: keys, sign-in, and one-line errors with exit code 2."""

from __future__ import annotations

from click.testing import CliRunner

from ghostwatch.auth.keys import resolve_key
from ghostwatch.cli import main


def test_auth_key_prints_a_usable_key_alone_on_stdout() -> None:
    result = CliRunner().invoke(main, ["auth", "key"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip()
    assert "\n" not in printed
    resolve_key(printed, None)
    assert "GHOSTWATCH_SECRET_KEY" in result.stderr
    assert result.stdout.strip() != CliRunner().invoke(main, ["auth", "key"]).stdout.strip()
