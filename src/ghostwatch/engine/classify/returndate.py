"""When will the absent person be back? A return date from an out-of-office notice.

Month and weekday names come from Babel's CLDR data, never from hand-typed tables.
Numeric dates are read in the writer's order where it can be told: a dotted date is
always day-first (no locale writes month-first with dots), a first number above 12
is a day, otherwise the language decides — day-first everywhere ghostwatch reads
except US English.

Which date: one right after a return/until keyword ("back on", "bis", "jusqu'au",
"hasta", "fino al", "tot en met", "até", ...) wins; of a range "from X to Y", Y; else
the latest plausible one. Plausible means between a few days before the notice was
sent and a year after it — older dates are quoted history, later ones are noise.

"Until" and "back on" name the return day itself; a notice that names the *last day
away* — "through 27 November", "bis einschließlich 27.11.", "tot en met 27 november",
"jusqu'au 27 novembre inclus" — returns the day after (docs/rules.md "Return dates").
A bare ordinal day after a keyword ("through Friday the 27th") is the next such day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from ghostwatch.engine.classify import datewords
from ghostwatch.engine.classify.datewords import LANGUAGES

_TOLERANCE = timedelta(days=7)
_HORIZON = timedelta(days=366)
_KEYWORD_REACH = 32
"""Characters between a keyword's end and the date it governs ("back in the office on Monday, ")."""
_SCAN_LIMIT = 2500
"""Absence notices are short; further down are signatures, disclaimers and quotes."""
_DAY_FIRST_ENGLISH = frozenset({"gb", "uk", "ie", "au", "nz", "in", "za"})
_DIGITS_RE = re.compile(r"\d+")
_MONTH_REACH = 24
"""Longest stretch between a date's digits and its edge ("septiembre de ", "Sept. the ")."""
_ORDINAL = r"(?:st|nd|rd|th|er|re|e|ème|eme|º|°|ª|\.)?"
_RANGE_GAP_RE = re.compile(
    r"^\W{0,3}(?:to|until|till|through|thru|bis(?: zum| einschlie(?:ß|ss)lich)?|au|à|al|a"
    r"|hasta(?: el)?|fino al|tot(?: en met)?|t/m|até|ao|-|–|—)\W{0,3}$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    year: int | None
    month: int
    day: int


@dataclass(frozen=True, slots=True)
class _Reading:
    """How to read the text: its language, and whether 01/02 means 1 February."""

    language: str
    day_first: bool


def _reading(text: str, language: str | None) -> _Reading:
    tag = (language or "").split(",")[0].strip().lower().replace("_", "-")
    base, _, region = tag.partition("-")
    if base not in LANGUAGES:
        base = datewords.guess_language(text)
        region = ""
    day_first = base != "en" or region in _DAY_FIRST_ENGLISH
    return _Reading(base, day_first)


@cache
def _date_re(language: str) -> re.Pattern[str]:
    months = datewords.month_alternation(language)
    return re.compile(
        rf"(?<![\w.])(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})(?!\d)"
        rf"|(?<![\w.])(?P<d>\d{{1,2}}){_ORDINAL}(?:\s+de|\s+of)?\s*(?P<m>{months})\.?"
        rf"(?:,?\s*(?:de\s+)?(?P<y>\d{{4}}))?(?!\w)"
        rf"|(?<!\w)(?P<m2>{months})\.?\s+(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s*[-–]\s*)?"
        rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
        rf"(?:,?\s*(?P<y2>\d{{4}})(?!\d))?"
        rf"|(?<![\w.])(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})"
        rf"(?:(?P=sep)(?P<ny>\d{{4}}|\d{{2}})(?![\d.]\d)|(?P<dot>\.)(?![\d]))",
        re.I,
    )


def _numeric(found: re.Match[str], reading: _Reading) -> tuple[int | None, int, int] | None:
    first, second = int(found["a"]), int(found["b"])
    if found["sep"] == "." and found["ny"] is None and found["dot"] is None:
        return None
    if found["sep"] != "." and found["ny"] is None:
        return None  # "3/4" alone is a fraction as often as a date
    year = int(found["ny"]) if found["ny"] else None
    if year is not None and year < 100:
        year += 2000
    day_first = found["sep"] == "." or first > 12 or (second <= 12 and reading.day_first)
    return (year, second, first) if day_first else (year, first, second)


def _fields(found: re.Match[str], reading: _Reading) -> tuple[int | None, int, int] | None:
    if found["iy"]:
        return int(found["iy"]), int(found["im"]), int(found["id"])
    if found["m"]:
        year = int(found["y"]) if found["y"] else None
        return year, datewords.month_number(found["m"]), int(found["d"])
    if found["m2"]:
        year = int(found["y2"]) if found["y2"] else None
        return year, datewords.month_number(found["m2"]), int(found["d2"])
    return _numeric(found, reading)


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans around digit runs: every date form has a digit, and scanning only near
    digits keeps the long month-name alternation off the rest of the text."""
    spans: list[tuple[int, int]] = []
    for digits in _DIGITS_RE.finditer(text):
        start, end = max(0, digits.start() - _MONTH_REACH), digits.end() + _MONTH_REACH
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _candidates(text: str, reading: _Reading) -> list[_Candidate]:
    found_all = []
    pattern = _date_re(reading.language)
    for start, end in _windows(text):
        for found in pattern.finditer(text, start, end):
            fields = _fields(found, reading)
            if fields is not None and 1 <= fields[1] <= 12 and 1 <= fields[2] <= 31:
                found_all.append(_Candidate(found.start(), found.end(), *fields))
    return found_all


def _shifted(day: date, delta: timedelta) -> date:
    """`day + delta`, clamped to the calendar's ends (a Date header can say year 9999)."""
    try:
        return day + delta
    except OverflowError:
        return date.max if delta > timedelta(0) else date.min


def _resolve(candidate: _Candidate, sent: date | None) -> date | None:
    """The calendar date, the year inferred as the first one on/after the sent date."""
    if candidate.year is None and sent is None:
        return None
    floor = _shifted(sent, -_TOLERANCE) if sent else None
    years = [candidate.year] if candidate.year else [floor.year, floor.year + 1] if floor else []
    for year in years:
        try:
            when = date(year, candidate.month, candidate.day)
        except ValueError:
            continue
        if floor is None or floor <= when <= _shifted(floor, _HORIZON + _TOLERANCE):
            return when
    return None


def _after_keyword(text: str, candidate: _Candidate, keyword_ends: list[int]) -> bool:
    return any(candidate.start - _KEYWORD_REACH <= end <= candidate.start for end in keyword_ends)


# Words that make a date the last day away rather than the day back: before it
# ("through", "thru", "up to and including", "bis einschließlich", "tot en met", "t/m")
# or right after it ("inclus", "inclusive", "einschließlich", "incluso", "compreso", ...).
_LAST_DAY_BEFORE_RE = re.compile(
    r"(?<!\w)(?:through|thru|(?:up\s+)?to\s+and\s+including|einschlie(?:ß|ss)lich|inklusive"
    rf"|tot\s+en\s+met|t/m)(?!\w)[^.;:!?\n]{{0,{_KEYWORD_REACH}}}$",
    re.I,
)
_LAST_DAY_AFTER_RE = re.compile(
    r"[\s,(]{0,3}(?:inclus|incluse|inclusive|inclusief|inclusivamente|incluso|inclusa"
    r"|inclu[íi]do|inclu[íi]da|compres[oa]|einschlie(?:ß|ss)lich|inkl\.?|included)(?!\w)",
    re.I,
)


def _last_day_away(text: str, start: int, end: int, ends: list[int]) -> bool:
    """Whether the date at text[start:end] is the last day away: its governing keyword
    (the nearest one before it) says "through", or an "inclusive" word follows it."""
    if _LAST_DAY_AFTER_RE.match(text, end, end + 16):
        return True
    governing = max((e for e in ends if start - _KEYWORD_REACH <= e <= start), default=None)
    if governing is None:
        return False
    head = text[max(0, governing - 40) : start]
    return bool(_LAST_DAY_BEFORE_RE.search(head))


def _day_back(when: date, last_day: bool) -> date:
    return _shifted(when, timedelta(days=1)) if last_day else when


def _preferred(text: str, candidates: list[_Candidate], keyword_ends: list[int]) -> list[bool]:
    """Which candidates follow a return keyword or end a "from X to Y" range."""
    preferred = [_after_keyword(text, c, keyword_ends) for c in candidates]
    for i in range(len(candidates) - 1):
        gap = text[candidates[i].end : candidates[i + 1].start]
        if _RANGE_GAP_RE.match(gap):
            preferred[i], preferred[i + 1] = False, True
    return preferred


_BARE_DAY_RE = re.compile(r"(?<![\w/.-])(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)(?!\w)", re.I)


def _bare_day_return(text: str, sent: date | None, ends: list[int]) -> date | None:
    """ "Through Friday the 27th", "until the 27th": a day of the month with no month,
    right after a keyword, is the first such day on or after the day the notice was sent."""
    if sent is None:
        return None
    for found in _BARE_DAY_RE.finditer(text):
        if not any(found.start() - _KEYWORD_REACH <= end <= found.start() for end in ends):
            continue
        day = int(found[1])
        for month_ahead in range(3):
            year, month = divmod(sent.month - 1 + month_ahead, 12)
            try:
                when = date(sent.year + year, month + 1, day)
            except ValueError:
                continue
            if when >= sent:
                return _day_back(when, _last_day_away(text, found.start(), found.end(), ends))
    return None


def _weekday_return(
    text: str, reading: _Reading, sent: date | None, ends: list[int]
) -> date | None:
    """ "Back on Monday": the next such weekday after the notice was sent ("through
    Friday": the day after it)."""
    if sent is None:
        return None
    for found in datewords.weekday_re(reading.language).finditer(text):
        if any(found.start() - _KEYWORD_REACH <= end <= found.start() for end in ends):
            ahead = (datewords.weekday_number(found.group(0)) - sent.weekday() - 1) % 7 + 1
            last_day = _last_day_away(text, found.start(), found.end(), ends)
            return _day_back(_shifted(sent, timedelta(days=ahead)), last_day)
    return None


def find_return_date(
    text: str, subject: str, sent: datetime | None, language: str | None = None
) -> date | None:
    """The date an absence notice says its writer returns, or None when it does not say."""
    body = f"{subject}\n{text[:_SCAN_LIMIT]}"
    reading = _reading(body, language)
    day_sent = sent.date() if sent else None
    keyword_ends = [m.end() for m in datewords.keyword_re().finditer(body)]
    candidates = _candidates(body, reading)
    preferred = _preferred(body, candidates, keyword_ends)
    dated = [
        (p, _day_back(when, _last_day_away(body, c.start, c.end, keyword_ends)))
        for c, p in zip(candidates, preferred, strict=True)
        if (when := _resolve(c, day_sent))
    ]
    if any(p for p, _ in dated):
        return max(when for p, when in dated if p)
    if dated:
        return max(when for _, when in dated)
    bare = _bare_day_return(body, day_sent, keyword_ends)
    return bare or _weekday_return(body, reading, day_sent, keyword_ends)


# iCloud's vacation responder says nothing in words and sends no Auto-Submitted; its
# headers say it: `X-Apple-Criteria: {kind=VACATION,startDate=…,endDate=…Z}`.
_APPLE_END_RE = re.compile(r"\bendDate=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z", re.I)
_MINUTES_A_DAY = 24 * 60
_QUARTER_HOUR = 15
"""Every time zone in use is a whole number of quarter hours from UTC."""


def apple_vacation_return(criteria: str, utc_offset_minutes: int | None) -> date | None:
    """The first day back from an iCloud vacation reply's `X-Apple-Criteria`.

    iCloud asks for the last day away as a date and writes `endDate` as the last second of
    that day in the user's own zone, in UTC (`2020-01-10T14:59:59Z` is 23:59:59 in Tokyo).
    The next second is the user's midnight, so it tells the zone, and the day back is that
    midnight's date: 11 January. An end that is no midnight anywhere is read in the
    message's own offset."""
    back = _apple_end(criteria)
    if back is None:
        return None
    offset = _midnight_offset(back)
    if offset is None:
        offset = utc_offset_minutes or 0
    return (back + timedelta(minutes=offset)).date()


def _apple_end(criteria: str) -> datetime | None:
    """The instant right after `endDate` (naive, UTC)."""
    found = _APPLE_END_RE.search(criteria)
    try:
        return datetime.fromisoformat(found[1]) + timedelta(seconds=1) if found else None
    except ValueError:  # endDate=2020-13-45T...: a date that does not exist
        return None


def _midnight_offset(instant: datetime) -> int | None:
    """The UTC offset, in minutes, of the zone where this UTC instant is midnight."""
    minutes = instant.hour * 60 + instant.minute
    if instant.second or minutes % _QUARTER_HOUR:
        return None
    offset = -minutes % _MINUTES_A_DAY
    return offset - _MINUTES_A_DAY if offset > _MINUTES_A_DAY // 2 else offset  # UTC-5, not +19
