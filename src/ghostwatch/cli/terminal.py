"""What ghostwatch prints: text a stranger wrote, shown, never obeyed by the terminal.

Subjects, names, meeting titles and the words of a message reach `scan`, `preview` and
`classify` as their senders wrote them, so every line printed goes through `shown` (and
JSON through `json_text`): the one rule of mail/visible.py, which the digest and the
drafts' headers follow too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from ghostwatch.mail.visible import one_line, visible

# Controls escaped inside JSON strings (json.dumps escapes C0 already but leaves C1,
# U+2028 and the bidi controls raw).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """`text` with escape sequences removed and other control characters as `?`."""
    return visible(text)


def cell(text: str) -> str:
    """`shown(text)` on one line: a stranger's value inside a line we lay out."""
    return one_line(text)


def echo(text: str, *, err: bool = False) -> None:
    """`click.echo` of `shown(text)`: for any line that may hold a stranger's words."""
    click.echo(shown(text), err=err)


def json_text(payload: Any) -> str:
    """JSON in which no string can carry a control character raw: json.dumps escapes C0
    already; C1, line separators and bidi controls are escaped here (`\\u009b`), so
    the value read back is unchanged and the terminal never sees them."""
    text = json.dumps(payload, ensure_ascii=False)
    return _JSON_RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
