"""Everything the engine's decisions depend on besides the mail itself and `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ghostwatch.engine.cadence import BusinessCalendar, Cadence
from ghostwatch.engine.people import Identity


@dataclass(frozen=True)
class Rules:
    me: Identity
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    cadence: Cadence = field(default_factory=Cadence)
    meeting_window_days: int = 14
    muted: frozenset[str] = frozenset()
    """Conversation ids the user told ghostwatch to leave alone."""
    high_value: frozenset[str] = frozenset()
    """Conversation ids the user marked high-value (escalation suggestions)."""
    bounce_clock_skew: timedelta = timedelta(minutes=10)
    """A bounce's Date comes from another server's clock: allow it to read slightly
    earlier than the message it reports on."""
