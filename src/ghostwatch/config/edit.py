"""Adding one account to a configuration file's text without disturbing the rest of it.

The file is the user's: their comments, order and other accounts stay as they are. The
new account is spliced in as text after the last entry of the top-level `accounts:`
list (or as a new list at the end), and the result is parsed again and compared with
the old data plus the account. A layout this cannot splice into safely is refused with
the block to paste by hand, rather than the file being rewritten.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ghostwatch.errors import UserError

_ACCOUNTS = re.compile(r"accounts[ \t]*:[ \t]*(#.*)?")
_TOP_LEVEL = re.compile(r"[^\s#-]")  # a line starting the next top-level key
_CONTENT = re.compile(r"[ \t]*[^\s#]")  # neither blank nor only a comment


def account_block(account: dict[str, Any], indent: int, comment: str) -> str:
    """`account` as one YAML list entry, indented, under a comment line."""
    text = yaml.safe_dump([account], sort_keys=False, default_flow_style=False)
    pad = " " * indent
    return f"{pad}# {comment}\n" + "".join(pad + line for line in text.splitlines(True))


def with_account(text: str, account: dict[str, Any], comment: str) -> str:
    """`text` with `account` added to its top-level `accounts:` list; UserError if the
    file's layout does not allow that without rewriting it."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _ACCOUNTS.fullmatch(line.rstrip())), None)
    if start is None:
        if re.search(r"^accounts[ \t]*:", text, re.MULTILINE):  # `accounts: [...]` inline
            raise _refused(account, comment)
        tail = "" if not text or text.endswith("\n") else "\n"
        spliced = f"{text}{tail}accounts:\n{account_block(account, 2, comment)}"
    else:
        end = _block_end(lines, start)
        body = lines[start + 1 : end]
        last = max((i for i, line in enumerate(body) if _CONTENT.match(line)), default=-1)
        at = start + 1 + last + 1
        block = account_block(account, _item_indent(body), comment)
        spliced = "".join([*lines[:at], block, *lines[at:]])
    _check(text, spliced, account, comment)
    return spliced


def _block_end(lines: list[str], start: int) -> int:
    following = range(start + 1, len(lines))
    return next((i for i in following if _TOP_LEVEL.match(lines[i])), len(lines))


def _item_indent(body: list[str]) -> int:
    """How far the list's entries are indented (YAML needs every entry at the same)."""
    items = [line for line in body if line.lstrip().startswith("-")]
    return len(items[0]) - len(items[0].lstrip()) if items else 2


def _check(old: str, new: str, account: dict[str, Any], comment: str) -> None:
    before = yaml.safe_load(old) or {}
    expected = {**before, "accounts": [*(before.get("accounts") or []), account]}
    try:
        after = yaml.safe_load(new)
    except yaml.YAMLError:
        after = None
    if after != expected:
        raise _refused(account, comment)


def _refused(account: dict[str, Any], comment: str) -> UserError:
    return UserError(
        f"cannot add account {account['name']!r} without rewriting the file: add this "
        f"under its `accounts:` and run again:\n{account_block(account, 2, comment)}"
    )
