"""A reply's own words: what its writer wrote this time, without what it quotes or signs.

docs/rules.md "Said stop, or said later": an intent counts only in the reply's own text.
The split is at mail-parser-reply's reply headers (maintained, MIT, no dependencies):
the lines mail clients write above a top-posted original — Gmail's "On … wrote:",
Apple's, Outlook's "From: / Sent:" block, "-----Original Message-----" — in English,
German, French, Spanish, Italian and Dutch; the reply is what stands above the first.
Its patterns are compiled once and searched once per message: its `parse_reply` also
runs a signature pattern that backtracks over the whole text, 9 ms a message on the
scan benchmark. Around it, three steps measured on the corpora
(`benchmarks/reply_split.py`, README "A reply's own words"):

1. quoted lines (`>` — RFC 3676 §4.5 — and the `|` some clients use) are dropped first:
   the library reads a quoted "> From: … > Date:" block as the start of an original and
   keeps only the text above it, which loses every bottom-posted and interleaved answer;
2. the header lines the library misses, cut here first: Portuguese, which it lacks
   ("Em … escreveu:", "-----Mensagem original-----", "De: / Enviada em:"), and the forms
   of Gmail's header its Spanish and Dutch patterns do not match ("El lun, … (<a@b>)
   escribió:", "Op ma … schreef Alex <a@b>:");
3. only the library's split is used, not its signature guesses: those cut at a line
   starting "Thanks," or "Best," — exactly where "Thanks, but please remove me" begins.
   The signature is cut where the writer's client marks it (RFC 3676 §4.3 `-- `), at a
   mailing list footer's rule of underscores, or at a PGP signature block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

from mailparser_reply.parser import EmailMessage

LIMIT = 20_000
"""Characters read: an answer is written at the top; a longer text is quotes and legalese."""
OWN_LIMIT = 4_000
"""Characters of own words kept once quotes are gone: an intent is said briefly."""

_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_HEADERS: re.Pattern[str] = cast(Any, EmailMessage(text="", languages=_LANGUAGES)).HEADER_REGEX

_QUOTED_LINE = re.compile(r"^[ \t]*(?:>|\|).*(?:\n|$)", re.M)
_MISSED_HEADERS = re.compile(
    r"^(?:(?:Em|El|Op)\s.{1,200}?\s(?:escreveu|escribió|schreef)\b.{0,200}:[ \t]*$"
    r"|-{3,}\s*Mensagem original\s*-{3,}|De:\s.*\n(?:Enviad[ao](?: em)?|Data)\s?:)",
    re.M | re.I,
)
_SIGNATURE = re.compile(
    r"^(?:--[ \t]?|_{20,}|-----BEGIN PGP SIGNATURE-----)[ \t]*$",
    re.M,
)
_PGP_ARMOR = re.compile(r"^-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash:.*\n)?", re.M)


def reply_text(text: str) -> str:
    """The writer's own words in a reply's text body (quotes and signature removed)."""
    text = _PGP_ARMOR.sub("", text[:LIMIT].replace("\r\n", "\n"))
    text = _QUOTED_LINE.sub("", text)
    # The library's patterns expect lines without surrounding blanks (it strips them too).
    text = "\n".join(line.strip() for line in text.split("\n"))[:LIMIT]
    for cut in (_MISSED_HEADERS, _SIGNATURE):
        if found := cut.search(text):
            text = text[: found.start()]
    return _first_reply(text)[:OWN_LIMIT].strip()


# Every reply header starts at a line holding a colon ("… wrote:", "From: …"), a rule of
# dashes ("-----Original Message-----"), or the first word of an attribution that a
# client wrapped onto two lines ("On Mon, … Alex <" / "alex@example.com> wrote:"): the
# library's patterns are tried only there.
_HEADER_LINE = re.compile(r"^(?:[^\n]*:|-|(?:on|am|le|el|il|op|em)\s)", re.M | re.I)
_HEADER_REACH = 1000


def _headers(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each reply header, in order. The library's compiled patterns,
    tried at candidate lines only: searched over a whole text they backtrack at every
    position (5 ms a message on the scan benchmark, against 0.1 ms this way)."""
    after = 0
    for line in _HEADER_LINE.finditer(text):
        if line.start() < after:
            continue
        if found := _HEADERS.match(text, line.start(), line.start() + _HEADER_REACH):
            after = max(found.end(), line.start() + 1)
            yield found.start(), found.end()


def _first_reply(text: str) -> str:
    """The first non-blank text between reply headers, as the library's `read` takes it:
    a bottom-poster's "On … wrote:" stands above their own words, not below them."""
    start = 0
    for begin, end in _headers(text):
        if text[start:begin].strip():
            return text[start:begin]
        start = end
    return text[start:]
