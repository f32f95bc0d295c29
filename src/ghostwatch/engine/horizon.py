"""The horizon (docs/rules.md "Horizon"): which conversations are still in scope.

A conversation whose latest message is older than the look-back is `not_tracked`, in
`scan` and the daemon alike: a provider's first sync reads only what the look-back can
reach (Gmail lists the threads active in it), so the rule is what makes every reader
reach the same decisions, and nobody gets a first nudge months after the fact.

The horizon limits what is followed up, not what is remembered: it removes
conversations from the plan, never messages from the evidence (a bounce or an opt-out
is still read whatever its age). A deferral keeps its conversation in scope until the
date it names (`Rules.deferred`): that date counts as the conversation's latest event,
so the follow-up it brings back is decided within the same look-back after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ghostwatch.engine.rules import Rules
from ghostwatch.model.mail import Folder, Message


def latest_event(
    cid: str, messages: Iterable[Message], deferred: Mapping[str, datetime]
) -> datetime | None:
    """The conversation's latest dated message (a draft is no message: ghostwatch's own
    drafts must not keep a conversation alive), or its deferral's date if later."""
    dates = [m.date for m in messages if m.date is not None and m.folder != Folder.DRAFTS]
    until = deferred.get(cid)
    if until is not None:
        dates.append(until)
    return max(dates, default=None)


def out_of_scope(
    conversations: Mapping[str, Sequence[Message]], rules: Rules, now: datetime
) -> dict[str, datetime | None]:
    """Conversation id → its latest event, for every conversation past the horizon
    (an undated conversation has no latest event and is out of scope too)."""
    if rules.look_back is None:
        return {}
    start = now - rules.look_back
    found: dict[str, datetime | None] = {}
    for cid, messages in conversations.items():
        latest = latest_event(cid, messages, rules.deferred)
        if latest is None or latest < start:
            found[cid] = latest
    return found


def reason(latest: datetime | None, rules: Rules) -> str:
    days = rules.look_back.days if rules.look_back is not None else 0
    if latest is None:
        return f"no dated message in the {days}-day look-back"
    return f"quiet since {latest.date().isoformat()}: older than the {days}-day look-back"
