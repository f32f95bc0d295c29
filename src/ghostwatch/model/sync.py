"""What polling hands the store: an incremental read with its cursor, and an account's
record of failed cycles (the digest's trouble notice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ghostwatch.model.mail import Message


@dataclass(slots=True)
class SyncDelta:
    """What an incremental source read since its last commit, to store in one transaction
    with its cursor: the cursor moves only together with the headers it covers."""

    cursor: str
    upserts: dict[str, Message] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    reset: bool = False
    """A full resync happened: every stored header of this source is replaced."""
    partial: bool = False
    """A first sync cut short: what it read so far, under a cursor that says it is not
    finished. Stored even by a cycle that failed, so the next one carries on from there
    instead of starting over (a large mailbox may take several cycles under its quota)."""
    first_sync: bool = False
    """Part of a first sync, the one that finishes it included: stored by a cycle that
    failed after reading it (its bodies, say, refused for rate), so the next cycle does
    not read the mailbox again. Later polls' deltas are not: a failed cycle reads them again."""


@dataclass(frozen=True, slots=True)
class Trouble:
    """An account's cycles that failed since its last delivered digest: the digest's
    notice at the top. Never a token or mail: the message is one ghostwatch wrote."""

    since: datetime
    """When the first of these failures happened."""
    failures: int
    last_at: datetime
    """When the latest one happened."""
    kind: str
    """The latest error's class name (TokenRevoked, GmailError, ...)."""
    message: str
    """The latest error's own message, written for people ('' for an unexpected error,
    whose text may quote a provider's payload)."""
    needs_you: bool
    """The message says what the user must do (a `UserError`: sign in again, ...)."""
