"""The digest's display values (`Item`, `Group`) and how it writes dates.

`digest.py` assembles the sections into one context for `digest.html` and `digest.txt`;
digest_sections.py decides what each list section holds and how each line reads,
digest_numbers.py the "Your numbers" table. Every part reads dates through `Dates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from ghostwatch.mail.visible import one_line

# Fixed English names: the digest must not change with the server's C locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the digest: a conversation, a draft, a meeting or a rescued reply."""

    title: str
    who: str
    note: str
    link: str | None = None
    tips: tuple[tuple[str, str], ...] = ()
    """(label, text) of the suggestions shown under the item."""
    priority: bool = False
    """A high-value conversation (`ghostwatch/vip`, `note --high-value`): shown first in
    its group, with a badge."""

    def __post_init__(self) -> None:
        # Each is one line of the text part, quoting a subject, a name or a meeting's
        # title: a line feed in one started lines of its own there (mail/visible.py).
        for name in ("title", "who", "note"):
            object.__setattr__(self, name, one_line(getattr(self, name)))
        tips = tuple((one_line(label), one_line(text)) for label, text in self.tips)
        object.__setattr__(self, "tips", tips)


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    kind: str
    """Names the accent colour in the HTML template (junk, draft, meeting, bounce, ...)."""
    items: tuple[Item, ...]
    room: int | None = None
    """How many items to show (None: all); see `fit`."""

    @property
    def shown(self) -> tuple[Item, ...]:
        return self.items if self.room is None else self.items[: self.room]

    @property
    def more(self) -> int:
        return len(self.items) - len(self.shown)


# Gmail clips a message over ~102 KB ("[Message clipped]"), hiding everything below the
# cut; an item is ~2.7 KB of inline-styled HTML. Sections spend the budget in reading
# order, so rescued replies and drafts are always shown first.
PER_GROUP = 10
IN_ALL = 30


def fit(groups: Sequence[Group]) -> list[Group]:
    """The same groups, each told how many of its items fit in the digest."""
    left, fitted = IN_ALL, []
    for group in groups:
        room = min(len(group.items), PER_GROUP, left)
        left -= room
        fitted.append(replace(group, room=room))
    return fitted


class Dates:
    """Dates as the user reads them: in the account's zone, English, no year noise."""

    def __init__(self, tz: tzinfo, now: datetime) -> None:
        self.tz = tz
        self.now = now

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def day(self, when: datetime) -> str:
        return _day_label(self.local(when).date())

    def long_day(self, when: datetime) -> str:
        local = self.local(when)
        return f"{_day_label(local.date())} {local.year}"

    def day_time(self, when: datetime) -> str:
        local = self.local(when)
        return f"{_day_label(local.date())}, {local:%H:%M}"

    def age_days(self, when: datetime) -> int:
        return (self.local(self.now).date() - self.local(when).date()).days


def _day_label(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {short_day(day)}"


def short_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def valued_first(group: Group) -> Group:
    """The group with its high-value items first (docs/rules.md, "The mailbox as the
    control panel"); the order among the rest is kept."""
    ordered = sorted(group.items, key=lambda item: not item.priority)
    return replace(group, items=tuple(ordered))
