"""What makes a draft personal, taken only from what the mail already holds.

Three things (docs/rules.md: brief, specific, the prospect's own reason to talk):

- how to greet the people written to: their first name from the display name, or a
  safe "Hi there" when there is no name or the address belongs to a role, not a person;
- how long ago something happened, in words ("yesterday", "on Tuesday", "last week");
- the *reason*: the sentence of my own last message that carried the ask or the value,
  or the note the user set for the conversation. Nothing here invents a fact: the
  reason is quoted, never paraphrased.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Literal

from ghostwatch.compose.tone import pressure_phrases
from ghostwatch.model.mail import Address

# --- names -----------------------------------------------------------------------------

# Local parts that belong to a function, not a person: "Hi Sales" is worse than "Hi there".
_ROLE_LOCALS = frozenset(
    (
        *("info", "sales", "team", "support", "hello", "hi", "contact", "contacts", "admin"),
        *("administrator", "office", "help", "helpdesk", "service", "services", "billing"),
        *("accounts", "accounting", "invoices", "finance", "legal", "hr", "jobs", "careers"),
        *("press", "media", "marketing", "enquiries", "inquiries", "reception", "frontdesk"),
        *("orders", "shop", "store", "partners", "partnerships", "procurement", "purchasing"),
        *("webmaster", "it", "ops", "operations", "security", "privacy", "compliance"),
        *("feedback", "mail", "customerservice", "customercare", "general", "questions"),
        *("booking", "bookings", "events", "newsletter", "office", "team", "mailbox"),
    )
)
# Words that make a display name a role ("Contoso Sales", "Support Team", "Accounts") —
# only words that are nobody's first or last name ("Emily Post" is a person).
_ROLE_WORDS = frozenset(
    (
        *("team", "sales", "support", "info", "admin", "office", "helpdesk", "service"),
        *("services", "billing", "accounts", "accounting", "invoices", "finance", "hr"),
        *("jobs", "careers", "marketing", "enquiries", "inquiries", "reception"),
        *("procurement", "purchasing", "webmaster", "operations", "compliance", "feedback"),
        *("customer", "customers", "department", "dept", "desk", "group", "inc", "ltd", "llc"),
        *("gmbh", "corp", "corporation", "company", "plc", "center", "centre", "noreply"),
        *("newsletter", "notifications", "mailbox"),
    )
)
_TITLES = frozenset(
    (
        *("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "herr"),
        *("frau", "hr", "fr", "mme", "mlle", "m", "sr", "sra", "srta", "sig", "dott", "ing"),
    )
)
_SUFFIXES = frozenset(("jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa", "dds"))
_INITIAL = re.compile(r"^\w\.?$")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")
_LETTERS = re.compile(r"^[^\W\d_]+(?:[-'’][^\W\d_]+)*$")


def first_name(address: Address) -> str | None:
    """The first name to greet someone by, or None when there is no safe one.

    "Kathy Lopez", "Lopez, Kathy", "Dr. Kathy Lopez" and "KATHY LOPEZ" all give
    "Kathy". A role address (info@, sales@, …) or a role-like name gives None, as does
    a name that is really an address or a user name.
    """
    if _is_role_address(address.email):
        return None
    tokens = _name_tokens(address.name, address.email)
    if not tokens or any(t.lower().strip(".") in _ROLE_WORDS for t in tokens):
        return None
    for token in tokens:
        bare = token.strip(".")
        if bare.lower() in _TITLES or _INITIAL.match(token):
            continue
        return _fix_case(bare) if _LETTERS.match(bare) and len(bare) > 1 else None
    return None


def _is_role_address(email: str) -> bool:
    local = email.rpartition("@")[0].lower()
    head = re.split(r"[-_.+]", local, maxsplit=1)[0]
    return local in _ROLE_LOCALS or head in _ROLE_LOCALS


def _name_tokens(name: str, email: str) -> list[str]:
    """The display name's words in "first last" order, without brackets and suffixes."""
    name = " ".join(_BRACKETED.sub(" ", name).replace('"', " ").split())
    if not name or "@" in name:
        return []
    if "," in name:
        before, _, after = name.partition(",")
        after_words = after.replace(",", " ").split()
        # "Lopez, Kathy" is surname first; "Kathy Lopez, PhD" is a suffix after a comma.
        suffix = all(w.lower().strip(".") in _SUFFIXES for w in after_words)
        name = before if suffix or not after_words else f"{after} {before}"
    tokens = [t for t in name.replace(",", " ").split() if t.lower().strip(".") not in _SUFFIXES]
    if len(tokens) == 1 and _is_user_name(tokens[0], email):
        return []
    return tokens


def _is_user_name(token: str, email: str) -> bool:
    """A one-word name copied from the address is a login, not a name: "jsmith
    <jsmith@…>" cannot be greeted as "Jsmith" (but "Kathy <kathy@…>" is Kathy)."""
    local = email.rpartition("@")[0]
    return (token.islower() and token == local.lower()) or bool(re.search(r"[._\d]", token))


def _fix_case(word: str) -> str:
    """Leave "McKenzie" and "Jürgen" alone; mend "KATHY" and "kathy"."""
    if word.isupper() or word.islower():
        return "-".join(part.capitalize() for part in word.split("-"))
    return word


def greeting(people: Sequence[Address]) -> str:
    """ "Hi Kathy", "Hi Kathy and Tom", "Hi Kathy, Tom and Ana", else "Hi there"/"Hello".

    People without a usable name (a role address on copy) are not greeted by name;
    when nobody has one, the greeting stays general.
    """
    names = list(dict.fromkeys(n for n in map(first_name, people) if n))
    if not names:
        return "Hi there" if len(people) <= 1 else "Hello"
    if len(names) > 3:
        return "Hi all"
    if len(names) == 1:
        return f"Hi {names[0]}"
    return f"Hi {', '.join(names[:-1])} and {names[-1]}"


# --- time --------------------------------------------------------------------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_COUNTS = {2: "two", 3: "three"}


def _local(when: datetime, tz: tzinfo) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(tz)


def time_in_words(then: datetime | None, now: datetime, tz: tzinfo) -> str:
    """When `then` was, seen from `now` in the user's time zone, as a phrase that reads
    after a verb: "I sent {it} yesterday / on Tuesday / last week / on 3 October"."""
    if then is None:
        return "recently"
    day, today = _local(then, tz).date(), _local(now, tz).date()
    days = (today - day).days
    if days < 0:
        return "recently"  # another server's clock ran ahead: no date we could defend
    if days == 0:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days <= 6:
        return f"on {_WEEKDAYS[day.weekday()]}"
    if days <= 13:
        return "last week"
    if days <= 27:
        return f"{_COUNTS[days // 7]} weeks ago"
    if days <= 59 and _months_apart(day, today) == 1:
        return "last month"
    return f"on {_day_month(day, today)}"


def _months_apart(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _day_month(day: date, today: date) -> str:
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


def meeting_days(now: datetime, tz: tzinfo) -> str:
    """Days to suggest for a new meeting: the rest of this working week, or next week.

    Reads after "Would some time …": "on Thursday or Friday, or early next week".
    Today is never offered: a prospect reading this today cannot also meet today.
    """
    weekday = _local(now, tz).weekday()
    left = [_WEEKDAYS[d] for d in range(weekday + 1, 5)][-2:]
    if len(left) == 2:
        return f"on {left[0]} or {left[1]}, or early next week"
    if len(left) == 1:
        return f"on {left[0]} or early next week"
    return "early next week, or later in the week"


# --- the reason ----------------------------------------------------------------------------

ReasonKind = Literal["note", "question", "statement"]


@dataclass(frozen=True, slots=True)
class Reason:
    """The line that reminds the prospect why we were talking.

    `kind` lets a template introduce it: a "question" or "statement" is quoted from my
    own last message; a "note" is the user's own words and goes in as written.
    """

    text: str
    kind: ReasonKind


MAX_REASON_WORDS = 30

# Where my own words end: a quoted reply's attribution line or header block, or my
# signature. Everything after belongs to someone else (or is my signature).
_ATTRIBUTION = re.compile(
    r"(?:wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|escreveu)\s*:\s*$",
    re.IGNORECASE,
)
_CUT_LINE = re.compile(
    r"""^(?:-{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine
                    |mensaje\s+original|messaggio\s+originale|oorspronkelijk\s+bericht)\s*-{2,}
          |_{10,}
          |(?:from|von|de|da|van):\s.*
          |--\s*
          |sent\s+from\s+my\s.*
        )$""",
    re.IGNORECASE | re.VERBOSE,
)
_GREETING_LINE = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hallo|bonjour|hola|ciao"
    r"|greetings)\b[^.!?]{0,40}[,!:]?$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(?:best|best\s+regards|kind\s+regards|warm\s+regards|regards|cheers|thanks|thank\s+you"
    r"|many\s+thanks|all\s+the\s+best|sincerely|yours|talk\s+soon|speak\s+soon"
    r"|mit\s+freundlichen\s+grüßen|viele\s+grüße|cordialement|saludos|grazie)"
    # "Best," / "Thanks again!" / "Best, Alex" — a short line, not "Thanks for the call."
    r"(?:\s+(?:so\s+much|again|a\s+lot))?\s*[,!.]?(?:\s+[^\W\d_]+){0,2}$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
# A sentence ends at . ! ? (or …) followed by space and a capital, digit or quote —
# but not after a title or a common abbreviation.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9À-Ý])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|approx|incl|no|dr|mr|mrs|ms|prof|st|cf|jan|feb|mar|apr|jun"
    r"|jul|aug|sep|sept|oct|nov|dec)\.)$",
    re.IGNORECASE,
)
# The words of an ask or of the value offered (docs/rules.md: their reason to talk).
_ASK_OR_VALUE = re.compile(
    r"\b(?:would|could|shall|should\s+we|happy\s+to|glad\s+to|help|helps|save|saves|saving"
    r"|reduce|reduces|improve|improves|proposal|pilot|demo|trial|pricing|price|quote|offer"
    r"|value|next\s+steps?|call|meeting|plan|budget|cost|roi|discount|sandbox|onboarding"
    r"|rollout)\b",
    re.IGNORECASE,
)
# Sentences that carry no reason at all, however polite.
_GENERIC = re.compile(
    r"^(?:please\s+)?(?:let\s+me\s+know\s+if\s+you\s+have\s+any\s+questions"
    r"|(?:do\s+)?let\s+me\s+know\s+(?:if|what)\s+you\s+think"
    r"|feel\s+free|don'?t\s+hesitate|(?:i\s+)?hope\s+(?:you|this|all|your)"
    r"|looking\s+forward|thanks?\s|thank\s+you|any\s+questions|does\s+(?:that|this)\s+make\s+sense"
    r"|(?:just\s+)?(?:checking|following)\s+(?:in|up)|how\s+are\s+you)",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)


def reason(body: str | None, note: str | None = None) -> Reason | None:
    """The user's note if set; else the ask/value sentence of my last message, if any."""
    if note is not None and note.strip():
        return Reason(_as_sentence(note), "note")
    if not body:
        return None
    sentences = [s for s in _sentences(own_words(body)) if _quotable(s)]
    for sentence in sentences:
        if sentence.endswith("?"):
            return Reason(sentence, "question")
    for sentence in sentences:
        if _ASK_OR_VALUE.search(sentence):
            return Reason(sentence, "statement")
    return None


def own_words(body: str) -> list[str]:
    """The lines I wrote myself: no quoted reply, no greeting, no sign-off or signature."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, raw in enumerate(lines):
        line = raw.strip()
        if _ends_own_words(line, lines[index + 1 : index + 2]) or (kept and _SIGN_OFF.match(line)):
            break
        if line.startswith(">"):
            continue
        if not any(kept_line for kept_line in kept) and _GREETING_LINE.match(line):
            continue  # only the opening line is a greeting; "Hi" later is prose
        kept.append(line)
    return kept


def _ends_own_words(line: str, following: list[str]) -> bool:
    if _CUT_LINE.match(line) or _ATTRIBUTION.search(line):
        return True
    # "On Thu, Nov 5, 2026 at 11:30 AM Alex Morgan <alex@…" wrapped before "wrote:".
    return (
        line.lower().startswith(("on ", "am ", "le ", "el ", "il ", "op ", "em "))
        and bool(following)
        and bool(_ATTRIBUTION.search(following[0].strip()))
    )


def _sentences(lines: list[str]) -> list[str]:
    """Paragraphs (hard wraps joined, bullets apart) split into sentences."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if not line or _BULLET.match(line):
            paragraphs.append([])
        if line:
            paragraphs[-1].append(_BULLET.sub("", line))
    found: list[str] = []
    for paragraph in paragraphs:
        text = " ".join(" ".join(paragraph).split())
        found.extend(_split_sentences(text))
    return found


def _split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start()]
        if _ABBREVIATION.search(head):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _quotable(sentence: str) -> bool:
    words = len(sentence.split())
    return (
        4 <= words <= MAX_REASON_WORDS
        and not _GENERIC.match(sentence)
        and not _URL.search(sentence)
        # Never quote my own pressure back at them (an earlier "as per my last email").
        and not pressure_phrases(sentence)
    )


def _as_sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else f"{text}."
