"""Plans as the `ghostwatch scan` JSON contract (docs/scan-contract.md) and as a readable table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from ghostwatch.model.decisions import (
    Classification,
    ConversationDecision,
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
        head = [f"To: {to}", f"Subject: {d.subject}"]
        if d.in_reply_to:
            head.append(f"In-Reply-To: <{d.in_reply_to}>")
        blocks.append("\n".join([f"--- {d.step.value} ({d.conversation})", *head, "", d.text]))
    return "\n\n".join(blocks)


def classification_json(file: str, found: Classification) -> dict[str, Any]:
    return {
        "file": file,
        "class": found.kind.value,
        "return_date": found.return_date.isoformat() if found.return_date else None,
        "failed_recipients": list(found.failed_recipients),
        "delayed_recipients": list(found.delayed_recipients),
        "signals": list(found.signals),
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
    State.SNOOZED: "Snoozed (out of office)",
    State.WAITING: "Waiting",
    State.LET_GO: "Let go",
    State.MUTED: "Muted",
    State.NOT_TRACKED: "Not tracked",
}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _conversation_row(d: ConversationDecision, zone: tzinfo) -> str:
    when = d.snoozed_until or d.due_at
    stamp = when.astimezone(zone).strftime("%a %d %b %H:%M") if when else "-"
    junk = " [reply in Junk]" if d.reply_in_junk else ""
    return (
        f"  {_cut(d.subject, 34):<34}  {_cut(', '.join(d.contacts), 30):<30}  "
        f"{d.action.value:<8} {d.attempt}  {stamp:<16}  {'; '.join(d.reasons)}{junk}"
    )


def _section(title: str, rows: Iterable[str]) -> list[str]:
    body = list(rows)
    return [f"{title} ({len(body)})", *body, ""] if body else []


def plan_table(plan: Plan, zone: tzinfo, include_untracked: bool = False) -> str:
    lines = [f"ghostwatch scan at {plan.now.astimezone(zone).strftime('%a %d %b %Y %H:%M %Z')}", ""]
    for state in _STATE_ORDER:
        if state == State.NOT_TRACKED and not include_untracked:
            continue
        group = [c for c in plan.conversations if c.state == state]
        lines += _section(_TITLES[state], (_conversation_row(c, zone) for c in group))
    lines += _section(
        "Replies found in Junk",
        (f"  {_cut(j.subject, 40):<40}  from {j.sender}" for j in plan.junk_replies),
    )
    lines += _section(
        "Suspicious — not counted",
        (f"  {_cut(s.subject, 40):<40}  claims {s.sender}: {s.verdict}" for s in plan.suspicious),
    )
    lines += _section(
        "Meetings",
        (
            f"  {_cut(m.summary, 34):<34}  {m.start.astimezone(zone).strftime('%a %d %b %H:%M')}"
            f"  {m.state.value:<11} {m.action.value:<16} {'; '.join(m.reasons)}"
            for m in plan.meetings
        ),
    )
    untracked = sum(c.state == State.NOT_TRACKED for c in plan.conversations)
    if not include_untracked:
        lines.append(f"({untracked} conversations without an outside contact not shown)")
    return "\n".join(lines)
