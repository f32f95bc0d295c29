"""Conversation decisions to snapshot rows and back: the header-level fields only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ghostwatch.model.decisions import Action, ConversationDecision, State
from ghostwatch.store.records import Snapshot
from ghostwatch.store.tables import SnapshotRow

# Everything but the key: a new decision about a conversation replaces the old one.
UPDATED_FIELDS = (
    "subject",
    "contacts",
    "state",
    "action",
    "attempt",
    "due_at",
    "snoozed_until",
    "reply_in_junk",
    "updated_at",
)


def snapshot_values(account: int, decision: ConversationDecision, now: datetime) -> dict[str, Any]:
    # An explicit list, not dataclasses.asdict: a field added to the decision later must
    # not reach the database unless someone decides it may (bodies never may).
    return {
        "account_id": account,
        "conversation": decision.id,
        "subject": decision.subject,
        "contacts": list(decision.contacts),
        "state": decision.state.value,
        "action": decision.action.value,
        "attempt": decision.attempt,
        "due_at": decision.due_at,
        "snoozed_until": decision.snoozed_until,
        "reply_in_junk": decision.reply_in_junk,
        "updated_at": now,
    }


def snapshot_from_row(row: SnapshotRow) -> Snapshot:
    return Snapshot(
        conversation=row.conversation,
        subject=row.subject,
        contacts=tuple(row.contacts),
        state=State(row.state),
        action=Action(row.action),
        attempt=row.attempt,
        due_at=row.due_at,
        snoozed_until=row.snoozed_until,
        reply_in_junk=row.reply_in_junk,
        updated_at=row.updated_at,
    )
