"""A reply's own words: what its writer wrote this time, without what it quotes or signs.

docs/rules.md "Said stop, or said later": an intent counts only in the reply's own text.
The split is mail-parser-reply's (maintained, MIT, no dependencies), which knows the
reply headers mail clients write above a top-posted original — Gmail's "On … wrote:",
Apple's, Outlook's "From: / Sent:" block, "-----Original Message-----" — in English,
German, French, Spanish, Italian and Dutch. Around it, three steps measured on the
corpora (`benchmarks/reply_split.py`, README "Why these libraries"):

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
from typing import Any

from mailparser_reply import EmailReplyParser

LIMIT = 20_000
"""Characters read: an answer is written at the top; a longer text is quotes and legalese."""

_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_PARSER: Any = EmailReplyParser(languages=_LANGUAGES)

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
    for cut in (_MISSED_HEADERS, _SIGNATURE):  # the signature first too: the library
        if found := cut.search(text):  # drops a rule of underscores, keeping what follows
            text = text[: found.start()]
    return str(_PARSER.parse_reply(text) or "").strip()
