"""The digest's notice at the top: the cycles that failed since the last digest, and
the items the cycle left out because handling them failed (`left_out`).

One broken account never stops the others, and it must not fail silently either: the
user reads the digest, not /readyz. The last error is quoted as ghostwatch wrote it, so
a sign-in problem carries its own fix (`ghostwatch auth google --account NAME` again).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ghostwatch.compose.digest_parts import Dates
from ghostwatch.mail.visible import one_line
from ghostwatch.model.outbox import OutdatedDraft, Skipped
from ghostwatch.model.sync import Trouble

# Commands in our error messages are set in backticks (`ghostwatch auth ...`).
_COMMAND = re.compile(r"`([^`]+)`")
_RETRIES = "ghostwatch tries again by itself; nothing is needed from you unless this goes on."


@dataclass(frozen=True, slots=True)
class Notice:
    headline: str
    label: str
    """Introduces the last error: when it happened."""
    message: str
    """The last error as plain text (the text part prints it as is)."""
    parts: tuple[tuple[str, bool], ...]
    """`message` cut into (text, is_command) pieces, for the HTML part's code spans."""
    advice: str
    """What happens next when the message itself does not say ('' when it does)."""
    needs_you: bool


def notice(trouble: Trouble | None, fmt: Dates) -> Notice | None:
    if trouble is None or trouble.failures < 1:
        return None
    message = _message(trouble)
    return Notice(
        headline=_headline(trouble, fmt),
        label="Error" if trouble.failures == 1 else f"Last error ({fmt.day_time(trouble.last_at)})",
        message=message,
        parts=_parts(message),
        advice="" if trouble.needs_you else _RETRIES,
        needs_you=trouble.needs_you,
    )


def _headline(trouble: Trouble, fmt: Dates) -> str:
    start = fmt.day_time(trouble.since)
    if trouble.failures == 1:
        return f"ghostwatch could not check your mailbox on {start}"
    return f"ghostwatch could not check your mailbox {trouble.failures} times since {start}"


def _message(trouble: Trouble) -> str:
    text = trouble.message.strip()
    if not text:
        # An unexpected error keeps only its kind: its text may quote a provider's payload.
        return f"an unexpected error ({trouble.kind or 'unknown'})."
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _parts(message: str) -> tuple[tuple[str, bool], ...]:
    # re.split with one group alternates text and captured commands: odd indices are code.
    pieces = _COMMAND.split(message)
    return tuple((piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Items left out of this cycle: one line each, under one headline."""

    headline: str
    lines: tuple[str, ...]
    advice: str

    def __post_init__(self) -> None:
        # One line each, whatever the subject or title they quote held (mail/visible.py).
        object.__setattr__(self, "lines", tuple(one_line(line) for line in self.lines))


_LEFT_OUT_ADVICE = (
    "Everything else was done as usual. ghostwatch tries these again at every check; "
    "you can write them yourself in the meantime."
)


def left_out(skipped: Sequence[Skipped]) -> LeftOut | None:
    if not skipped:
        return None
    count = len(skipped)
    noun = "item" if count == 1 else "items"
    lines = tuple(_line(item) for item in skipped)
    return LeftOut(f"ghostwatch left out {count} {noun} it could not handle", lines,
                   _LEFT_OUT_ADVICE)  # fmt: skip


_OUT_OF_DATE_ADVICE = (
    "You edited these drafts, so ghostwatch left them alone: send one only if it still "
    "says what you mean, or delete it."
)


def out_of_date(drafts: Sequence[OutdatedDraft]) -> LeftOut | None:
    """Drafts the user edited whose conversation no longer wants them (docs/rules.md,
    "Drafts stay true"): listed first, so nobody sends one to someone who already answered."""
    if not drafts:
        return None
    count = len(drafts)
    verb = "is" if count == 1 else "are"
    lines = tuple(
        f"“{d.subject}”: {d.reason.rstrip('.')} — your draft to "
        f"{', '.join(d.recipients) or 'them'} is out of date."
        for d in drafts
    )
    return LeftOut(f"{count} of your drafts {verb} out of date", lines, _OUT_OF_DATE_ADVICE)


def _line(item: Skipped) -> str:
    about = f" “{item.title}”" if item.title else ""
    reason = item.reason.rstrip(".")
    return f"The {item.kind}{about}: {reason}."
