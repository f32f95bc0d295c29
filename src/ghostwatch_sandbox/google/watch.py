"""One line per write to a `GmailSandbox`: how `ghostwatch sandbox` shows the daemon at work.

Lines name the method, the ids, and what a person recognises the message by (subject,
recipient, labels, ghostwatch's step header); never a body. A message changed again
or deleted before its line is printed is described as it is now, or by its id alone.
"""

from __future__ import annotations

from collections.abc import Callable

from ghostwatch_sandbox.google.app import GmailSandbox, Write
from ghostwatch_sandbox.google.message import Stored
from ghostwatch_sandbox.server import ApiError

STEP_HEADER = "X-Ghostwatch-Step"  # what the Gmail provider marks its drafts with


def describe(sandbox: GmailSandbox, write: Write) -> str:
    """What `write` did to the mailbox, in one line."""
    if write.forbidden:
        return f"refused {write.method}: ghostwatch never sends (nothing was sent)"
    what = _DESCRIBE.get(write.method)
    ids = ", ".join(write.ids)
    try:
        return what(sandbox, write.ids[0]) if what and write.ids else f"{write.method} {ids}"
    except ApiError:  # gone since: say what happened without its details
        return f"{write.method} {ids} (since removed)"


def _labels(sandbox: GmailSandbox, stored: Stored) -> str:
    known = sandbox.mailbox.labels
    return ", ".join(known[i].name if i in known else i for i in stored.labels) or "no labels"


def _draft(verb: str) -> Callable[[GmailSandbox, str], str]:
    def line(sandbox: GmailSandbox, draft_id: str) -> str:
        stored = sandbox.mailbox.draft(draft_id)
        step = stored.header(STEP_HEADER)
        marked = f" [{STEP_HEADER}: {step}]" if step else ""
        to = stored.header("To")
        return f"draft {verb} {draft_id}: {stored.header('Subject')!r} to {to}{marked}"

    return line


def _deleted(sandbox: GmailSandbox, draft_id: str) -> str:
    return f"draft deleted {draft_id}"


def _modified(sandbox: GmailSandbox, message_id: str) -> str:
    stored = sandbox.mailbox.get(message_id)
    subject = stored.header("Subject")
    return f"labels changed on {message_id} {subject!r}: now {_labels(sandbox, stored)}"


def _inserted(sandbox: GmailSandbox, message_id: str) -> str:
    stored = sandbox.mailbox.get(message_id)
    subject = stored.header("Subject")
    return f"message inserted {message_id} {subject!r} into {_labels(sandbox, stored)}"


_DESCRIBE: dict[str, Callable[[GmailSandbox, str], str]] = {
    "drafts.create": _draft("created"),
    "drafts.update": _draft("updated"),
    "drafts.delete": _deleted,
    "messages.modify": _modified,
    "messages.insert": _inserted,
}
