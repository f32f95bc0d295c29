"""What composing produces: drafts and the digest, as plain values (MIME comes last)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ghostwatch.model.decisions import Action
from ghostwatch.model.mail import Address


@dataclass(frozen=True, slots=True)
class Sender:
    """The user, as drafts and the digest sign and address them."""

    name: str
    address: str
    signature: str = ""
    """Plain text, possibly several lines; appended to every draft."""
    templates: Path | None = None
    """The user's templates folder (config `templates`), searched before the built-ins."""


@dataclass(frozen=True, slots=True)
class Draft:
    """One follow-up the user will find in their Drafts folder."""

    conversation: str
    """The conversation id (or, for a missed meeting, the meeting uid)."""
    step: Action
    to: tuple[Address, ...]
    subject: str
    in_reply_to: str | None
    """Message-ID of the message answered, without angle brackets (None: a new thread)."""
    references: tuple[str, ...]
    text: str
    html: str
    step_key: str
    """Identity of this step, carried as the X-Ghostwatch-Step header so the mailbox
    itself can prove whether the draft exists: '<conversation>/<step>/<attempt>'."""


@dataclass(frozen=True, slots=True)
class Digest:
    """The morning email: a subject and two renderings of the same content."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class OutdatedDraft:
    """A draft of ghostwatch's that its conversation no longer wants but the user edited:
    left alone, and listed at the top of the digest (docs/rules.md, "Drafts stay true")."""

    subject: str
    recipients: tuple[str, ...]
    reason: str
    """What changed, in the engine's words ("kathy@contoso.example replied on ...")."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """One item a cycle could not handle safely and left out, so the rest could go on
    (a draft whose recipient a header cannot carry, ...). The digest lists it."""

    kind: str
    """What was left out, in the digest's words: 'draft', 'meeting note', ..."""
    title: str
    """What the user knows it by: the conversation's subject, the meeting's title."""
    reason: str
    """Why, in ghostwatch's own words (never the item's text)."""
