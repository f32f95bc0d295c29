"""Did a person ask to be left alone, or to be contacted later — and when?

docs/rules.md "Said stop, or said later". Only the reply's own words count
(`mail.reply.reply_text`: never the quoted original, never a signature or a list's
footer), lower-cased, in the seven languages ghostwatch reads (`intentwords`).

* opt-out: one of the "stop" phrases, not negated ("don't remove me"), or a reply
  whose only word is "unsubscribe";
* deferral: a "not now / get back to me" phrase with a named time near it — a month
  ("in January"), a quarter ("next quarter", "Q3"), a date ("after 15 March"), next
  month, next year, or after the (year-end) holidays. The time is read relative to the
  day the reply was written, in the account's time zone; the first day of the named
  time is returned (`Intent.named`), and the engine moves it to a business day.

An opt-out beats a deferral in the same reply: "not now, and please remove me" is a no.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.classify import datewords
from ghostwatch.engine.classify import intentwords as words
from ghostwatch.mail.reply import reply_text
from ghostwatch.model.decisions import Classification, InboundClass, Intent, IntentKind
from ghostwatch.model.mail import Message

_REACH = 120
"""How far (characters) a named time may stand from the "later" phrase it goes with."""
_NEGATION_REACH = 20
_QUOTE_CHARS = 80


def message_intent(
    message: Message, verdict: Classification, calendar: BusinessCalendar
) -> Intent | None:
    """The intent a message carries: only a person's reply, read in its own words, with a
    deferral's time moved to the first business day of the account's calendar."""
    if verdict.kind != InboundClass.HUMAN or message.content is None or message.date is None:
        return None
    found = find_intent(message.content.text, calendar.local(message.date).date())
    if found is None or found.named is None:
        return found
    return replace(found, until=calendar.first_business_day(found.named))


def find_intent(text: str, written: date) -> Intent | None:
    """The intent in a reply's text body, `written` being its local date."""
    own = reply_text(text).lower()
    if not own:
        return None
    if found := _opt_out(own):
        return Intent(IntentKind.OPT_OUT, found)
    return _deferral(own, written)


def _opt_out(own: str) -> str | None:
    if found := words.BARE_OPT_OUT.search(own):
        return _words(own, found.start(), found.end())
    for found in words.OPT_OUT_RE.finditer(own):
        before = own[max(found.start() - _NEGATION_REACH, 0) : found.start()]
        if words.NEGATED_RE.search(before) and not _negative_phrase(found.group()):
            continue  # "please don't remove me": the opposite
        return _words(own, found.start(), found.end())
    return None


def _negative_phrase(phrase: str) -> bool:
    """A phrase that says its "not" itself ("do not contact me") is not turned around by it."""
    return bool(re.match(r"(?:do not|don't|dont|never|no |non |niet|não|nao|ne )", phrase))


def _words(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].split())[:_QUOTE_CHARS]


def _deferral(own: str, written: date) -> Intent | None:
    cues = [(m.start(), m.end()) for m in words.LATER_RE.finditer(own)]
    if not cues:
        return None
    for start, end, named in _named_times(own, written):
        near = any(
            start - _REACH <= cue_end and cue_start <= end + _REACH for cue_start, cue_end in cues
        )
        if near and named > written:
            first = min(start, *(s for s, e in cues if start - _REACH <= e <= end + _REACH))
            return Intent(IntentKind.DEFERRAL, _words(own, first, end), named)
    return None


def _named_times(own: str, written: date) -> Iterator[tuple[int, int, date]]:
    """(start, end, first day) of every time the text names, in text order."""
    found: list[tuple[int, int, date]] = []
    for match in _date_re().finditer(own):
        if (day := _explicit_date(match, written)) is not None:
            found.append((match.start(), match.end(), day))
    for match in _month_re().finditer(own):
        if any(s <= match.start() < e for s, e, _ in found):
            continue  # the month of a date already read
        month = datewords.month_number(match.group("month"))
        year = written.year if month > written.month else written.year + 1
        found.append((match.start(), match.end(), date(year, month, 1)))
    found.extend(_quarters(own, written))
    for pattern, first in (
        (words.NEXT_MONTH_RE, _next_month(written)),
        (words.NEXT_YEAR_RE, date(written.year + 1, 1, 1)),
        (words.HOLIDAYS_RE, _after_holidays(written)),
    ):
        found.extend((m.start(), m.end(), first) for m in pattern.finditer(own))
    yield from sorted(found)


def _quarters(own: str, written: date) -> Iterator[tuple[int, int, date]]:
    current = (written.month - 1) // 3 + 1
    for match in words.QUARTER_NEXT_RE.finditer(own):
        yield match.start(), match.end(), _quarter_start(written.year, current + 1)
    named = [(m, int(m.group(1))) for m in words.QUARTER_NAMED_RE.finditer(own)]
    named += [
        (m, words.QUARTER_ORDINALS[m.group(1)]) for m in words.QUARTER_ORDINAL_RE.finditer(own)
    ]
    for match, quarter in named:
        year = written.year if quarter > current else written.year + 1
        yield match.start(), match.end(), _quarter_start(year, quarter)


def _quarter_start(year: int, quarter: int) -> date:
    """The first day of `quarter` (1-4) of `year`; quarter 5 is next year's first."""
    year, index = year + (quarter - 1) // 4, (quarter - 1) % 4
    return date(year, index * 3 + 1, 1)


def _next_month(written: date) -> date:
    return date(written.year + written.month // 12, written.month % 12 + 1, 1)


def _after_holidays(written: date) -> date:
    """After the (year-end) holidays: the 2nd of January — New Year's Day is one of them."""
    year = written.year + 1 if written.month >= 7 else written.year
    return date(year, 1, 2)


# A month after a preposition ("in January", "im Januar", "en enero", "a gennaio",
# "after March"): a bare "may" or "march" is more often a verb than a month.
_MONTH_PREPOSITIONS = (
    r"in|im|en|a|ad|em|no|nel|after|nach|après|apres|después de|despues de|dopo|na"
    r"|depois de|from|ab|à partir de|a partir de|until|bis|early|mid|late|beginning of"
    r"|start of|end of|anfang|mitte|ende|début|debut|fin|principios de|inicio de"
    r"|inizio|begin|eind|início de|inicio de|fim de"
)


def _month_re() -> re.Pattern[str]:
    return _compiled("month")


def _date_re() -> re.Pattern[str]:
    return _compiled("date")


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(kind: str) -> re.Pattern[str]:
    if kind not in _PATTERNS:
        months = datewords.month_alternation("en")
        _PATTERNS["month"] = re.compile(
            rf"(?<!\w)(?:{_MONTH_PREPOSITIONS})\s+(?:(?:early|mid|late|the)\s+)?"
            rf"(?P<month>{months})(?!\w)"
        )
        _PATTERNS["date"] = re.compile(
            rf"(?<![\w.])(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|º|°|\.)?(?:\s+de|\s+of)?\s*"
            rf"(?P<m>{months})\.?(?:,?\s*(?:de\s+)?(?P<y>\d{{4}}))?(?!\w)"
            rf"|(?<!\w)(?P<m2>{months})\.?\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
            rf"(?:,?\s*(?P<y2>\d{{4}}))?"
            rf"|(?<![\w.])(?P<a>\d{{1,2}})\.(?P<b>\d{{1,2}})\.(?P<ny>\d{{4}})?(?![\d])"
            rf"|(?<![\w.])(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})(?!\d)"
        )
    return _PATTERNS[kind]


def _explicit_date(match: re.Match[str], written: date) -> date | None:
    """A written date; without a year, the first such day after the reply was written."""
    year: int | None
    if match.group("iy"):
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    elif match.group("a"):
        year = int(match["ny"]) if match["ny"] else None
        month, day = int(match["b"]), int(match["a"])
    elif match.group("m"):
        year = int(match["y"]) if match["y"] else None
        month, day = datewords.month_number(match["m"]), int(match["d"])
    else:
        year = int(match["y2"]) if match["y2"] else None
        month, day = datewords.month_number(match["m2"]), int(match["d2"])
    for candidate in (year,) if year else (written.year, written.year + 1):
        try:
            when = date(candidate, month, day)
        except ValueError:
            continue
        if when > written:
            return when
    return None
