"""The digest's **Your numbers**: one row a week over four weeks and their total (reply
rate, share gone silent, median time to first reply), counts instead of rates for a small
sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ghostwatch.compose.digest_parts import short_day
from ghostwatch.model.decisions import WeekStats


@dataclass(frozen=True, slots=True)
class WeekRow:
    label: str
    started: int
    replied: int
    went_silent: int
    reply_rate: float | None
    """0..1, or None when nothing started that week (a rate of nothing is not 0%)."""
    silent_share: float | None
    median: str
    total: bool = False

    @property
    def reply_pct(self) -> int:
        return round((self.reply_rate or 0) * 100)

    @property
    def silent_pct(self) -> int:
        return round((self.silent_share or 0) * 100)

    @property
    def small(self) -> bool:
        """Too few started for a rate to mean anything (`SMALL_SAMPLE`): counts instead."""
        return 0 < self.started < SMALL_SAMPLE

    @property
    def replied_shown(self) -> str:
        """'2 of 3' for a small sample, '62%' otherwise, '—' when nothing started."""
        return self._shown(self.replied, self.reply_pct)

    @property
    def silent_shown(self) -> str:
        return self._shown(self.went_silent, self.silent_pct)

    def _shown(self, count: int, pct: int) -> str:
        if not self.started:
            return "—"
        return f"{count} of {self.started}" if self.small else f"{pct}%"


SMALL_SAMPLE = 20
"""Below this many conversations started, "Your numbers" shows counts ("2 of 3"), not
percentages: one silence in three is not a 33% problem (docs/rules.md, the digest)."""


def weeks(weeks: Sequence[WeekStats]) -> tuple[WeekRow, ...]:
    if not weeks:
        return ()
    rows = [
        _row(
            f"Week of {short_day(w.week_start)}",
            w.started,
            w.replied,
            w.went_silent,
            w.median_hours_to_reply,
        )
        for w in weeks
    ]
    total = _row(
        f"{len(weeks)} weeks",
        sum(w.started for w in weeks),
        sum(w.replied for w in weeks),
        sum(w.went_silent for w in weeks),
        _pooled_median(weeks),
        total=True,
    )
    return (*rows, total)


def _row(
    label: str, started: int, replied: int, silent: int, median: float | None, total: bool = False
) -> WeekRow:
    return WeekRow(
        label=label,
        started=started,
        replied=replied,
        went_silent=silent,
        reply_rate=replied / started if started else None,
        silent_share=silent / started if started else None,
        median=_hours(median),
        total=total,
    )


def _pooled_median(weeks: Sequence[WeekStats]) -> float | None:
    """The four-week median time to first reply.

    `WeekStats` carries one median per week, not the single reply times, so this is
    the median of the weekly medians weighted by each week's replies: exact when only
    one week had replies (the usual case early on), a close estimate otherwise.
    """
    weighted = sorted(
        (w.median_hours_to_reply, w.replied)
        for w in weeks
        if w.median_hours_to_reply is not None and w.replied
    )
    total = sum(n for _, n in weighted)
    seen = 0
    for hours, n in weighted:
        seen += n
        if seen * 2 >= total:
            return hours
    return None


def _hours(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 1 else f"{hours * 60:.0f} min"
    return f"{hours / 24:.1f} days"


def weeks_title(weeks: Sequence[WeekStats]) -> str:
    if not weeks:
        return "No numbers yet."
    first = weeks[0].week_start
    last = weeks[-1].week_start + timedelta(days=6)
    return f"Conversations you started {short_day(first)} – {short_day(last)}"
