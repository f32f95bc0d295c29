"""Drafts stay true (docs/rules.md): which conversations no longer want their draft.

A follow-up draft is written while a conversation is `due`. When the conversation moves
to a state in `WITHDRAWN_IN` — the prospect replied (in any folder), the address bounced,
the user muted it (an opt-out mutes too), or it is snoozed (an absence, a deferral) — a
draft still unsent would answer a question nobody is asking any more, and the cycle
withdraws it. A state decides it, never a message: a new state, or a new cause of one of
these, joins by this table alone.

Not here, on purpose: `waiting` (one voice per person moves a nudge a day back; the
draft is still wanted tomorrow), `let_go` and `not_tracked` (reached only after the
draft was sent, or by the look-back's age; nothing says the draft is wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ghostwatch.model.decisions import MeetingState, Plan, State

WITHDRAWN_IN: Mapping[State, str] = {
    State.REPLIED: "they replied",
    State.BOUNCED: "the address bounced",
    State.MUTED: "the conversation is muted",
    State.SNOOZED: "the conversation is snoozed",
}
"""State → what it means for an unsent draft, when the decision gives no reason."""

MEETINGS_WITHDRAWN_IN: Mapping[MeetingState, str] = {
    MeetingState.RESCHEDULED: "the meeting was rebooked or they wrote since",
}


@dataclass(frozen=True, slots=True)
class Unwanted:
    """Why a conversation's (or a missed meeting's) draft is no longer wanted."""

    subject: str
    recipients: tuple[str, ...]
    reason: str


def unwanted_drafts(plan: Plan) -> dict[str, Unwanted]:
    """Conversation id (or meeting uid) → why its unsent draft should be withdrawn."""
    found: dict[str, Unwanted] = {}
    for decision in plan.conversations:
        default = WITHDRAWN_IN.get(decision.state)
        if default is not None:
            who = decision.recipients or decision.contacts
            found[decision.id] = Unwanted(decision.subject, who, _first(decision.reasons, default))
    for meeting in plan.meetings:
        default = MEETINGS_WITHDRAWN_IN.get(meeting.state)
        if default is not None:
            found[meeting.uid] = Unwanted(meeting.summary, meeting.contacts,
                                          _first(meeting.reasons, default))  # fmt: skip
    return found


def _first(reasons: tuple[str, ...], default: str) -> str:
    return reasons[0] if reasons else default
