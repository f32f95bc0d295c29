"""Plans as the `ghostwatch scan` JSON contract (docs/scan-contract.md) and as a readable table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from ghostwatch.cli.terminal import cell
from ghostwatch.model.decisions import (
    Classification,
    ConversationDecision,
    Intent,
    JunkReply,
    MeetingDecision,
    Plan,
    State,
    SuspiciousMail,
)
from ghostwatch.model.outbox import Draft


def _iso(when: datetime | None, zone: tzinfo) -> str | None:
    return when.astimezone(zone).isoformat() if when is not None else None


def conversation_json(d: ConversationDecision, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": d.id,
        "subject": d.subject,
        "contacts": list(d.contacts),
        "state": d.state.value,
        "action": d.action.value,
        "attempt": d.attempt,
        "due_at": _iso(d.due_at, zone),
        "snoozed_until": _iso(d.snoozed_until, zone),
        "reply_in_junk": d.reply_in_junk,
        "reasons": list(d.reasons),
    }


def junk_json(j: JunkReply, zone: tzinfo) -> dict[str, Any]:
    return {
        "conversation": j.conversation,
        "from": j.sender,
        "subject": j.subject,
        "date": _iso(j.date, zone),
    }


def meeting_json(m: MeetingDecision, zone: tzinfo) -> dict[str, Any]:
    return {
        "uid": m.uid,
        "summary": m.summary,
        "start": _iso(m.start, zone),
        "contacts": list(m.contacts),
        "state": m.state.value,
        "action": m.action.value,
        "reasons": list(m.reasons),
    }


def plan_json(plan: Plan, zone: tzinfo, include_untracked: bool = False) -> dict[str, Any]:
    shown = [c for c in plan.conversations if include_untracked or c.state != State.NOT_TRACKED]
    return {
        "now": plan.now.isoformat(),
        "conversations": [conversation_json(c, zone) for c in shown],
        "junk_replies": [junk_json(j, zone) for j in plan.junk_replies],
        "meetings": [meeting_json(m, zone) for m in plan.meetings],
        "suspicious": [suspicious_json(s, zone) for s in plan.suspicious],
    }


def suspicious_json(s: SuspiciousMail, zone: tzinfo) -> dict[str, Any]:
    return {
        "conversation": s.conversation,
        "from": s.sender,
        "subject": s.subject,
        "date": _iso(s.date, zone),
        "verdict": s.verdict,
    }


def draft_json(d: Draft) -> dict[str, Any]:
    """One draft as `ghostwatch preview --json` prints it (issue: the preview contract)."""
    return {
        "conversation": d.conversation,
        "step": d.step.value,
        "to": [a.email for a in d.to],
        "subject": d.subject,
        "in_reply_to": d.in_reply_to,
        "text": d.text,
        "html": d.html,
    }


def drafts_text(drafts: Iterable[Draft]) -> str:
    blocks = []
    for d in drafts:
        to = ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in d.to)
        head = [f"To: {cell(to)}", f"Subject: {cell(d.subject)}"]
        if d.in_reply_to:
            head.append(f"In-Reply-To: <{d.in_reply_to}>")
        blocks.append("\n".join([f"--- {d.step.value} ({d.conversation})", *head, "", d.text]))
    return "\n\n".join(blocks)


def classification_json(
    file: str, found: Classification, intent: Intent | None = None
) -> dict[str, Any]:
    signals = list(found.signals)
    if intent is not None:
        signals.append(f"{intent.kind.value} in the reply's own words: '{intent.words}'")
    return {
        "file": file,
        "class": found.kind.value,
        "return_date": found.return_date.isoformat() if found.return_date else None,
        "failed_recipients": list(found.failed_recipients),
        "delayed_recipients": list(found.delayed_recipients),
        "intent": intent.kind.value if intent else None,
        "until": intent.until.isoformat() if intent and intent.until else None,
        "signals": signals,
    }


# Most urgent first: what needs the user, then what merely waits.
_STATE_ORDER = (
    State.DUE,
    State.REPLIED,
    State.BOUNCED,
    State.SNOOZED,
    State.WAITING,
    State.LET_GO,
    State.MUTED,
    State.NOT_TRACKED,
)
_TITLES = {
    State.DUE: "Due now",
    State.REPLIED: "Replied",
    State.BOUNCED: "Bounced",
    State.SNOOZED: "Snoozed (away, or asked for later)",
    State.WAITING: "Waiting",
    State.LET_GO: "Let go",
    State.MUTED: "Muted",
    State.NOT_TRACKED: "Not tracked",
}


STAMP = "%Y-%m-%d %H:%M"
"""The table's one date format: the engine's reasons say dates as ISO 8601 days
("replied on 2026-11-13"), so its times read the same way."""
_SUBJECT = 40


def _cut(text: str, width: int) -> str:
    # Cleaned first (cli/terminal.py), so an escape sequence counts for nothing in the
    # width (measured raw, a hostile subject pushed every column after it out of line)
    # and a line feed starts no row of its own.
    text = cell(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _stamp(when: datetime | None, zone: tzinfo) -> str:
    return when.astimezone(zone).strftime(STAMP) if when is not None else "-"


_CONVERSATION_HEAD = ("ID", "SUBJECT", "CONTACTS", "NEXT", "SENT", "WHEN", "WHY")


def _conversation_cells(d: ConversationDecision, zone: tzinfo) -> tuple[str, ...]:
    junk = " [reply in Junk]" if d.reply_in_junk else ""
    return (
        d.id,
        _cut(d.subject, _SUBJECT),
        ", ".join(d.contacts) or "-",  # whole: an address cut short cannot be acted on
        d.action.value,
        str(d.attempt),
        _stamp(d.snoozed_until or d.due_at, zone),
        "; ".join(d.reasons) + junk,
    )


Row = tuple[str, ...]


def _widths(head: Row, rows: Sequence[Row]) -> list[int]:
    """Each column as wide as its widest cell as shown; the last (the reasons) is free."""
    return [max(len(cell(row[i])) for row in (head, *rows)) for i in range(len(head) - 1)]


def _section(
    title: str, head: Row, body: Sequence[Row], widths: list[int] | None = None
) -> list[str]:
    if not body:
        return []
    widths = widths or _widths(head, body)
    lines = [
        "  "
        + "  ".join(
            [
                *(cell(text).ljust(w) for text, w in zip(row[:-1], widths, strict=True)),
                cell(row[-1]),
            ]
        ).rstrip()
        for row in (head, *body)
    ]
    return [f"{title} ({len(body)})", *lines, ""]


def plan_table(plan: Plan, zone: tzinfo, include_untracked: bool = False) -> str:
    """The plan for a person: a section per state, most urgent first, each under column
    headers; the ID column holds what `ghostwatch mute`, `unmute` and `note` take."""
    lines = [f"ghostwatch scan at {plan.now.astimezone(zone).strftime(STAMP + ' %Z')}", ""]
    states = [s for s in _STATE_ORDER if include_untracked or s != State.NOT_TRACKED]
    groups = {
        state: [_conversation_cells(c, zone) for c in plan.conversations if c.state == state]
        for state in states
    }
    # One set of widths for every state's section: the columns line up down the page.
    widths = _widths(_CONVERSATION_HEAD, [row for rows in groups.values() for row in rows])
    for state, rows in groups.items():
        lines += _section(_TITLES[state], _CONVERSATION_HEAD, rows, widths)
    junk: list[Row] = [
        (j.conversation, _cut(j.subject, _SUBJECT), j.sender, _stamp(j.date, zone))
        for j in plan.junk_replies
    ]
    lines += _section("Replies found in Junk", ("ID", "SUBJECT", "FROM", "RECEIVED"), junk)
    suspicious: list[Row] = [
        (_cut(x.subject, _SUBJECT), x.sender, x.verdict) for x in plan.suspicious
    ]
    lines += _section("Suspicious — not counted", ("SUBJECT", "CLAIMS", "VERDICT"), suspicious)
    meetings: list[Row] = [
        (_cut(m.summary, _SUBJECT), _stamp(m.start, zone), ", ".join(m.contacts) or "-",
         m.state.value, m.action.value, "; ".join(m.reasons))
        for m in plan.meetings
    ]  # fmt: skip
    head = ("MEETING", "START", "CONTACTS", "STATE", "NEXT", "WHY")
    lines += _section("Meetings", head, meetings)
    untracked = sum(c.state == State.NOT_TRACKED for c in plan.conversations)
    if not include_untracked and untracked:
        many = "conversations" if untracked > 1 else "conversation"
        lines.append(f"({untracked} {many} without an outside contact not shown: --all)")
    return "\n".join(lines).rstrip("\n")
