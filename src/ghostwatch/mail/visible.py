"""Text a stranger wrote, made safe to show: one rule for the terminal, the digest and
the drafts' headers.

Subjects, display names and meeting titles arrive as their senders wrote them. A
terminal obeys escape sequences in what it is given (ECMA-48: CSI `ESC [`, OSC `ESC ]`,
which can set the window title or, in some terminals, write a clipboard or a link), and
C1 controls such as U+009B act as CSI on some of them; bidirectional overrides
(U+202A-U+202E, U+2066-U+2069) reorder what is seen, and line separators start lines
nobody wrote. The same text reaches a terminal again from the digest's plain-text part
(a terminal mail client, `cat` of the .eml `ghostwatch digest --eml` writes) and HTML,
where a control character is a parse error (HTML Standard, "control-character-in-input-
stream"). So an escape sequence is removed whole (its visible tail, `[31m`, is not the
sender's text either) and every other control character becomes `?`; the line feeds
and tabs of text we lay out ourselves are kept, and a value shown inside one of our
lines is made one line (`one_line`).
"""

from __future__ import annotations

import re

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


def without_escapes(text: str) -> str:
    """`text` with every escape sequence removed whole, the rest as it was."""
    return _ESCAPES.sub("", text)


def visible(text: str) -> str:
    """`text` with escape sequences removed and other control characters as `?`."""
    return _CONTROLS.sub("?", without_escapes(text))


def one_line(text: str) -> str:
    """`visible(text)` on one line, runs of white space as one space: for a value shown
    inside a line we lay out (a table cell, a header line). A meeting title's line feeds
    started lines of their own in `scan`'s table, where they read as rows nobody wrote."""
    return " ".join(visible(text).split())
