"""What the user said from their own mail client (docs/rules.md, "The mailbox as the
control panel"): a label, category or folder `ghostwatch/mute`, `ghostwatch/vip` or
`ghostwatch/leave-alone` on any message of a conversation.

Read afresh from the mail every cycle and never stored apart from it, so taking the label
off undoes exactly what the label did: an admin's `ghostwatch mute` (the store's
`conversation_settings`) and an opt-out a person asked for (`opt_outs`) are other facts,
which a label neither sets nor clears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ghostwatch.engine.evidence import Tracked
from ghostwatch.model.mail import MARK_PREFIX, Folder, Mark, Message


@dataclass(frozen=True)
class Marked:
    muted: frozenset[str] = frozenset()
    """Conversation ids with a `ghostwatch/mute` message."""
    vip: frozenset[str] = frozenset()
    """Conversation ids with a `ghostwatch/vip` message."""
    left_alone: Mapping[str, str] = field(default_factory=dict)
    """Address → the subject of the conversation marked `ghostwatch/leave-alone` that
    names it as a contact (for the reason shown)."""


def label(mark: Mark) -> str:
    return MARK_PREFIX + mark.value


def read(conversations: Mapping[str, Sequence[Message]], tracked: Mapping[str, Tracked]) -> Marked:
    """The marks on the conversations' messages. Trash is left out: a message the user
    deleted says nothing any more (docs/rules.md: nothing in Trash is acted on)."""
    by_mark: dict[Mark, set[str]] = {mark: set() for mark in Mark}
    for cid, messages in conversations.items():
        for message in messages:
            if message.folder != Folder.TRASH:
                for mark in message.marks:
                    by_mark[mark].add(cid)
    left: dict[str, str] = {}
    for cid in sorted(by_mark[Mark.LEAVE_ALONE]):
        conv = tracked.get(cid)
        for contact in conv.contacts if conv is not None else ():
            left.setdefault(contact, conv.messages[0].subject if conv else "")
    return Marked(frozenset(by_mark[Mark.MUTE]), frozenset(by_mark[Mark.VIP]), left)
