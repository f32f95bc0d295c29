"""What the store hands back: plain frozen values, detached from any database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ghostwatch.model.decisions import Action, State
from ghostwatch.store.tables import LedgerStatus


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One recorded side effect (docs/architecture.md: recorded before, confirmed after)."""

    key: str
    kind: str
    """What the effect is: 'draft', 'rescue', 'digest', ..."""
    conversation: str
    step: str
    status: LedgerStatus
    intended_at: datetime
    provider_ref: str | None = None
    """The provider's id of what was made (draft id, message id), once confirmed."""
    reason: str | None = None
    """Why it was abandoned."""
    settled_at: datetime | None = None
    fingerprint: str | None = None
    """For a draft: the digest of what ghostwatch wrote (`mail.fingerprint`)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last decision saved for a conversation: headers and state, never a body."""

    conversation: str
    subject: str
    contacts: tuple[str, ...]
    state: State
    action: Action
    attempt: int
    due_at: datetime | None
    snoozed_until: datetime | None
    reply_in_junk: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    """What the user said about one conversation."""

    muted: bool = False
    note: str | None = None
    high_value: bool = False


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account as `ghostwatch accounts` shows it."""

    id: int
    name: str
    provider: str
    address: str
    last_cycle_at: datetime | None
    last_error: str | None
