"""The tone rules a draft must keep (docs/rules.md: never pressure, accuse, guilt-trip or
sound hurt), as data a test can check every built-in template against.

The list is maintained by hand: add a phrasing here when you meet one in the wild.
Matching ignores case and treats curly and straight apostrophes alike.
"""

from __future__ import annotations

import re

MAX_WORDS = 120
"""A follow-up is read on a phone between two meetings: this many words, signature aside."""

PRESSURE_PHRASES: tuple[str, ...] = (
    # Pointing at the prospect's silence.
    "as per my last email",
    "as per my previous email",
    "per my last email",
    "per my previous email",
    "as i mentioned before",
    "as previously mentioned",
    "as i said before",
    "just following up again",
    "following up again",
    "following up for the third time",
    "you haven't responded",
    "you have not responded",
    "you haven't replied",
    "you have not replied",
    "you never replied",
    "you never got back",
    "i haven't heard back",
    "i haven't heard from you",
    "haven't heard anything",
    "no response from you",
    "radio silence",
    "ghosted",
    "ghosting",
    "did you get my email",
    "did you see my email",
    "did you receive my",
    "why haven't you",
    "ignoring my",
    "ignored my",
    "still waiting",
    "i've been waiting",
    "i've tried to reach you",
    "i have tried to reach you",
    "reached out several times",
    "reached out multiple times",
    "multiple attempts",
    "several attempts",
    "leaving me hanging",
    "left me hanging",
    # Sounding hurt, or making them feel guilty.
    "i'm disappointed",
    "i am disappointed",
    "disappointing",
    "i'm surprised",
    "i am surprised",
    "i expected to hear",
    "you promised",
    "you said you would",
    "sorry to keep bothering you",
    "hate to be a pest",
    "i guess you're not interested",
    "i assume you're not interested",
    "waste of my time",
    "waste of your time",
    # Manufactured urgency and demands.
    "last chance",
    "final notice",
    "act now",
    "urgent",
    "asap",
    "as soon as possible",
    "i need an answer",
    "i need your answer",
    "please respond",
    "please reply",
    "kindly revert",
    "kindly respond",
    "offer expires",
    "limited time",
    "before it's too late",
    "don't miss out",
    # Passive-aggressive "reminders" and bumps.
    "friendly reminder",
    "gentle reminder",
    "bumping this",
    "bump this",
    "circling back again",
    "just checking in again",
    "one more time",
)

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


def _pattern(phrase: str) -> re.Pattern[str]:
    # Anchored at the start only: "urgent" also catches "urgently", but "asap" does not
    # fire inside "wasap"; any run of whitespace matches a space (templates wrap lines).
    return re.compile(r"\b" + re.escape(phrase).replace(r"\ ", r"\s+"), re.IGNORECASE)


_PATTERNS = tuple((phrase, _pattern(phrase)) for phrase in PRESSURE_PHRASES)


def pressure_phrases(text: str) -> list[str]:
    """The listed phrasings that occur in `text` (empty: the text keeps the tone)."""
    folded = text.translate(_APOSTROPHES)
    return [phrase for phrase, pattern in _PATTERNS if pattern.search(folded)]


def word_count(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits (a "—" is not a word)."""
    return len(re.findall(r"[^\W_]+(?:['’.-][^\W_]+)*", text))
