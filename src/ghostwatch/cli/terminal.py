"""What ghostwatch prints: text a stranger wrote, shown, never obeyed by the terminal.

Subjects, names, meeting titles and the words of a message reach `scan`, `preview` and
`classify` as their senders wrote them. A terminal obeys escape sequences in what it is
given (ECMA-48: CSI `ESC [`, OSC `ESC ]` — which can set the window title or, in some
terminals, write a clipboard or a link), and C1 controls such as U+009B act as CSI on
some of them; bidirectional overrides (U+202A-U+202E, U+2066-U+2069) reorder what is
seen. So every line printed goes through `shown` (and JSON through `json_text`): escape
sequences are removed whole, other control characters become `?`, and only the line
feeds and tabs ghostwatch itself writes are kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

# ECMA-48 §5.4 control sequences (CSI ... final byte), OSC/DCS/APC/PM/SOS strings up to
# their terminator (BEL or ST), and two-byte escapes; also their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# Everything else a terminal may act on or that hides what follows: C0 but tab and line
# feed, DEL, C1, the line and paragraph separators, bidirectional controls.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same set, escaped inside JSON strings (json.dumps leaves C1 and U+2028 raw).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """`text` with escape sequences removed and other control characters as `?`."""
    return _CONTROLS.sub("?", _ESCAPES.sub("", text))


def echo(text: str, *, err: bool = False) -> None:
    """`click.echo` of `shown(text)`: for any line that may hold a stranger's words."""
    click.echo(shown(text), err=err)


def json_text(payload: Any) -> str:
    """JSON in which no string can carry a control character raw: json.dumps escapes C0
    already; C1, line separators and bidi controls are escaped here (`\\u009b`), so
    the value read back is unchanged and the terminal never sees them."""
    text = json.dumps(payload, ensure_ascii=False)
    return _JSON_RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
