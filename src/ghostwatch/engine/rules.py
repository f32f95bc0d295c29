"""Everything the engine's decisions depend on besides the mail itself and `now`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ghostwatch.engine.cadence import BusinessCalendar, Cadence
from ghostwatch.engine.people import Identity

LOOK_BACK = timedelta(days=90)
"""The default look-back: docs/rules.md, "Horizon"."""


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
    opted_out: Mapping[str, datetime] = field(default_factory=dict)
    """Addresses that asked not to be contacted, as the store remembers them (address →
    when they asked): honoured whatever the age of the message that said it."""
    opt_out_lifted: Mapping[str, datetime] = field(default_factory=dict)
    """Address → when the user lifted its opt-out (`ghostwatch unmute ADDRESS`): an
    opt-out asked at or before that instant no longer counts."""
    look_back: timedelta | None = LOOK_BACK
    """The horizon (docs/rules.md "Horizon"): a conversation whose latest message is
    older than this is `not_tracked`; None follows everything ever sent."""
    deferred: Mapping[str, datetime] = field(default_factory=dict, hash=False)
    """Conversation id → the date a deferral names ("write me in March"): kept in scope
    until then (`engine.horizon`). The hook for deferrals read from replies."""
    bounce_clock_skew: timedelta = timedelta(minutes=10)
    """A bounce's Date comes from another server's clock: allow it to read slightly
    earlier than the message it reports on."""
