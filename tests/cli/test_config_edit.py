"""Adding an account to a configuration's text: the user's lines stay, the file still loads."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ghostwatch.cli.service import template
from ghostwatch.config.edit import with_account
from ghostwatch.errors import UserError

NEW: dict[str, Any] = {"name": "sandbox", "provider": "gmail", "address": "a@b.example"}
NOTE = "added by a test"


def _kept_in_order(old: str, new: str) -> None:
    """Every line of `old` is in `new`, in the same order (nothing removed or moved)."""
    lines = iter(new.splitlines())
    for line in old.splitlines():
        assert line in lines, line


def test_the_init_template_keeps_every_comment_and_gains_the_account() -> None:
    text = template()
    new = with_account(text, NEW, NOTE)
    _kept_in_order(text, new)
    names = [a["name"] for a in yaml.safe_load(new)["accounts"]]
    assert names == ["you", "sandbox"]
    assert f"# {NOTE}" in new
    # The commented examples of other providers still come last, after the new account.
    assert new.index("name: sandbox") < new.index("# A Maildir on this machine")


def test_entries_at_column_zero_get_a_sibling_at_column_zero() -> None:
    text = "accounts:\n- name: a\n  provider: maildir\nlog_level: info\n"
    new = with_account(text, NEW, NOTE)
    data = yaml.safe_load(new)
    assert [a["name"] for a in data["accounts"]] == ["a", "sandbox"]
    assert data["log_level"] == "info"
    assert "\n- name: sandbox\n" in new


def test_a_file_without_accounts_gets_the_list_at_its_end() -> None:
    text = "log_level: info  # keep me"
    new = with_account(text, NEW, NOTE)
    assert new.startswith(text + "\n")
    assert yaml.safe_load(new) == {"log_level": "info", "accounts": [NEW]}


@pytest.mark.parametrize(
    "text",
    ["accounts: [{name: a, provider: maildir}]\n", "accounts:\n  [{name: a}]\n"],
    ids=["inline", "flow-on-next-line"],
)
def test_a_layout_that_cannot_be_spliced_is_refused_with_the_block(text: str) -> None:
    with pytest.raises(UserError, match="without rewriting the file") as raised:
        with_account(text, NEW, NOTE)
    assert "- name: sandbox" in str(raised.value)
