"""Month and weekday names (from Babel's CLDR data), return keywords and a language guess.

Wide month names of every supported language are always recognised — "1 décembre"
in an English notice is still December. Abbreviations are recognised only for the
notice's own language and English, because several are ordinary words elsewhere
("out" is October in Portuguese, "set" September in Italian).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Literal

from babel.dates import get_day_names, get_month_names

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")

# Words frequent in short notices of each language; enough to tell them apart.
_LANGUAGE_WORDS = {
    "en": "i am the and will be office until back out return my you with of on",
    "de": "ich bin und der die das bis im nicht zurück büro sie mit ihre ab wieder",
    "fr": "je suis le les et du au jusqu bureau vous mon retour des absent à",
    "es": "estoy el los y hasta oficina su con mi fuera regreso usted del",
    "it": "sono il e di fino ufficio mio rientro della per non sarò al",
    "nl": "ik ben het en tot van kantoor niet met terug mijn op afwezig",
    "pt": "estou o os até escritório com meu regresso não do da em volta",
}
_WORD_LANGUAGES: dict[str, list[str]] = {}
for _lang, _words in _LANGUAGE_WORDS.items():
    for _word in _words.split():
        _WORD_LANGUAGES.setdefault(_word, []).append(_lang)
_WORD_RE = re.compile(r"\w+")

# Phrases after which a date is the return date (or the last day away).
_KEYWORDS = (
    # English
    "back",
    "return",
    "returning",
    "returns",
    "until",
    "till",
    "til",
    "through",
    "thru",
    "up to and including",
    "to and including",
    "in the office on",
    "available again",
    "available from",
    "available on",
    # German
    "bis",
    "zurück",
    "wieder im büro",
    "wieder erreichbar",
    "wieder da",
    "ab dem",
    "ab",
    # French
    "jusqu'au",
    "jusqu’au",
    "jusqu'à",
    "de retour",
    "retour le",
    "retour",
    "à partir du",
    "dès le",
    # Spanish
    "hasta",
    "regreso",
    "regresaré",
    "vuelta",
    "volveré",
    "a partir del",
    # Italian
    "fino al",
    "fino a",
    "rientro",
    "rientrerò",
    "al mio ritorno",
    "ritorno",
    "dal",
    # Dutch
    "tot en met",
    "t/m",
    "terug",
    "tot",
    "vanaf",
    "weer aanwezig",
    # Portuguese
    "até",
    "regresso",
    "regressarei",
    "volta",
    "voltarei",
    "retorno",
    "a partir de",
)


def fold(word: str) -> str:
    """Case- and accent-insensitive key: 'Décembre.' → 'decembre'."""
    stripped = unicodedata.normalize("NFKD", word.strip().rstrip("."))
    return "".join(c for c in stripped if not unicodedata.combining(c)).casefold()


@cache
def _month_words(language: str) -> dict[str, int]:
    """Month spelling (lower-case, as written and accent-folded) → month number."""
    words: dict[str, int] = {}
    for lang in LANGUAGES:
        widths: tuple[Literal["wide", "abbreviated"], ...] = (
            ("wide", "abbreviated") if lang in (language, "en") else ("wide",)
        )
        for width in widths:
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, locale=lang, context=context).items():
                    words.setdefault(name.rstrip(".").lower(), number)
                    words.setdefault(fold(name), number)
    words.setdefault("sept", 9)  # English "Sept." is common; CLDR abbreviates "Sep"
    return words


@cache
def month_alternation(language: str) -> str:
    """A regex alternation of the month names, accented and plain, longest first."""
    words = sorted(_month_words(language), key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


def month_number(word: str) -> int:
    return _all_month_words().get(fold(word), 0)


@cache
def _all_month_words() -> dict[str, int]:
    merged: dict[str, int] = {}
    for lang in LANGUAGES:
        merged.update(_month_words(lang))
    return merged


@cache
def _weekday_words() -> dict[str, int]:
    """Folded weekday name → Python weekday (Monday 0), wide names of every language."""
    words: dict[str, int] = {}
    for lang in LANGUAGES:
        for number, name in get_day_names("wide", locale=lang).items():
            words[fold(name)] = number
            words.setdefault(fold(name.split("-")[0]), number)  # "segunda-feira" → "segunda"
    return words


@cache
def weekday_re(language: str) -> re.Pattern[str]:
    names = {n for lang in LANGUAGES for n in get_day_names("wide", locale=lang).values()}
    spellings = {n.lower() for n in names} | set(_weekday_words())
    body = "|".join(re.escape(w) for w in sorted(spellings, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I)


def weekday_number(word: str) -> int:
    return _weekday_words().get(fold(word), 0)


@cache
def keyword_re() -> re.Pattern[str]:
    body = "|".join(
        re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_KEYWORDS, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I)


def guess_language(text: str) -> str:
    """The supported language whose common words the text uses most; English on a tie."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for word in _WORD_RE.findall(text[:2000].lower()):
        for language in _WORD_LANGUAGES.get(word, ()):
            counts[language] += 1
    best = max(counts.values())
    return "en" if counts["en"] == best else max(counts, key=counts.__getitem__)
