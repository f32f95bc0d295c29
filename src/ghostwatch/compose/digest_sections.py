"""The digest's list sections: what **Needs you today**, **Waiting** and **Let go** each
hold, and how each line reads (docs/rules.md, the digest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ghostwatch.compose.digest_parts import Dates, Group, Item, plural, valued_first
from ghostwatch.model.decisions import (
    Action,
    ConversationDecision,
    JunkReply,
    MeetingDecision,
    MeetingState,
    Plan,
    State,
    Suggestion,
    SuspiciousMail,
)
from ghostwatch.model.outbox import Draft

_TIP_LABELS = {
    "other_contact": "Ask someone else",
    "escalate": "Escalate",
    "send_window": "Send window",
    "colleague_wrote": "Someone else wrote",
}

# Waiting conversations by calendar age of the silence: (upper bound in days, heading).
_AGE_BUCKETS = ((7, "Silent less than a week"), (14, "Silent 1–2 weeks"))
_OLDEST_BUCKET = "Silent over 2 weeks"

# --- Needs you today -------------------------------------------------------------------


WRITTEN = {True: ("Replies rescued from Junk", "Drafts written", "in your Drafts folder"),
           False: ("Replies in Junk", "Drafts due", "not written: a preview")}  # fmt: skip
"""The digest the cycle delivers says what it did; `ghostwatch digest`, which writes
nothing to the mailbox, must not claim drafts are in the Drafts folder (issue 16)."""


def needs_you(
    plan: Plan,
    drafts: Sequence[Draft],
    links: Mapping[str, str],
    fmt: Dates,
    written: bool = True,
    draft_links: Mapping[str, str] | None = None,
) -> tuple[Group, ...]:
    by_id = {c.id: c for c in plan.conversations}
    drafted = {d.conversation for d in drafts}
    meetings = {m.uid: m for m in plan.meetings}
    junk_title, drafts_title, where = WRITTEN[written]
    opens = draft_links or {}
    made = tuple(_draft(d, by_id, meetings, links, where, opens) for d in drafts)
    groups = (
        # Rescued replies first: a real answer nobody has seen is worth the most.
        Group(junk_title, "junk", _rescued(plan.junk_replies, links, fmt)),
        # Then what was *not* counted because it failed authentication: the user looks.
        Group("Suspicious — not counted", "suspicious", _suspicious(plan.suspicious, links, fmt)),
        Group(drafts_title, "draft", made),
        Group(
            "Missed meetings",
            "meeting",
            tuple(_missed_meeting(m, drafted, links, fmt) for m in plan.meetings if is_missed(m)),
        ),
        Group(
            "Bounced — try someone else",
            "bounce",
            tuple(_bounced(c, links, fmt) for c in plan.conversations if c.state == State.BOUNCED),
        ),
        Group(
            "Meetings held, no next meeting booked",
            "booking",
            tuple(_unbooked(m, links, fmt) for m in plan.meetings if _unbooked_meeting(m)),
        ),
        Group(
            "Still due — no new draft this time",
            "due",
            tuple(
                _still_due(c, links, fmt)
                for c in plan.conversations
                if c.state == State.DUE and c.id not in drafted
            ),
        ),
    )
    return tuple(valued_first(g) for g in groups if g.items)


def is_missed(meeting: MeetingDecision) -> bool:
    return meeting.state == MeetingState.MISSED or meeting.action == Action.MEETING_FOLLOWUP


def _unbooked_meeting(meeting: MeetingDecision) -> bool:
    # docs/rules.md, Meetings: "always leave a meeting with the next one on the calendar".
    return meeting.state == MeetingState.HELD and meeting.next_meeting is None


def _rescued(
    replies: Iterable[JunkReply], links: Mapping[str, str], fmt: Dates
) -> tuple[Item, ...]:
    items = []
    for reply in replies:
        arrived = f"arrived {fmt.day_time(reply.date)}, " if reply.date else ""
        note = f"{arrived}filed in Junk — a real answer: read it and reply"
        items.append(
            Item(reply.subject or "(no subject)", reply.sender, note, links.get(reply.conversation))
        )
    return tuple(items)


def _suspicious(
    mails: Iterable[SuspiciousMail], links: Mapping[str, str], fmt: Dates
) -> tuple[Item, ...]:
    """Who it claims to be and what the verdict was (docs/rules.md "Authenticity"). The
    claimed name and subject are a stranger's words: shown as text, never as a link."""
    items = []
    for mail in mails:
        arrived = f"arrived {fmt.day_time(mail.date)}, " if mail.date else ""
        note = (
            f"{arrived}claims to be {mail.sender}, but your mail provider's check says "
            f"{mail.verdict}: not counted as an answer — look before you trust it"
        )
        who = _person(mail.sender, mail.name)
        items.append(Item(mail.subject or "(no subject)", who, note, links.get(mail.conversation)))
    return tuple(items)


def _step_name(step: Action, decision: ConversationDecision | None) -> str:
    if step == Action.NUDGE:
        return f"Nudge {decision.attempt + 1}" if decision else "Nudge"
    if step == Action.BREAKUP:
        return "Break-up (last follow-up)"
    if step == Action.MEETING_FOLLOWUP:
        return "Missed-meeting follow-up"
    return str(step)


def _draft(
    draft: Draft,
    by_id: Mapping[str, ConversationDecision],
    meetings: Mapping[str, MeetingDecision],
    links: Mapping[str, str],
    where: str,
    opens: Mapping[str, str],
) -> Item:
    decision = by_id.get(draft.conversation)
    who = ", ".join(_person(a.email, a.name) for a in draft.to)
    note = _step_name(draft.step, decision)
    if draft.conversation in meetings:
        note += f" for “{meetings[draft.conversation].summary}”"
    tips = _tips(decision.suggestions) if decision else ()
    valued = decision is not None and decision.high_value
    # Where the draft itself opens (Gmail's compose window, Outlook's webLink): the one
    # click from the digest to sending it. None for IMAP and Maildir: no dead links.
    link = opens.get(draft.step_key) or links.get(draft.conversation)
    return Item(draft.subject, who, f"{note} — {where}", link, tips, valued)


def _missed_meeting(
    meeting: MeetingDecision, drafted: set[str], links: Mapping[str, str], fmt: Dates
) -> Item:
    why = meeting.reasons[0] if meeting.reasons else "missed"
    then = "a follow-up draft is ready" if meeting.uid in drafted else "no draft yet"
    note = f"{fmt.day_time(meeting.start)} · {why} · {then}"
    return Item(meeting.summary, _meeting_people(meeting), note, links.get(meeting.uid))


def _unbooked(meeting: MeetingDecision, links: Mapping[str, str], fmt: Dates) -> Item:
    note = f"held {fmt.day_time(meeting.start)} · nothing booked since — propose the next step"
    return Item(meeting.summary, _meeting_people(meeting), note, links.get(meeting.uid))


def _bounced(decision: ConversationDecision, links: Mapping[str, str], fmt: Dates) -> Item:
    failed = ", ".join(decision.bounced) or ", ".join(decision.contacts)
    when = f"sent {fmt.day(decision.silent_since)}, " if decision.silent_since else ""
    note = f"{when}delivery to {failed} failed"
    tips = _tips(decision.suggestions)
    if not any(s.kind == "other_contact" for s in decision.suggestions):
        # No colleague seen yet: still tell the user what to do next.
        domains = sorted({a.rpartition("@")[2] for a in decision.bounced or decision.contacts})
        where = " or ".join(domains) or "that company"
        tips = (
            (
                _TIP_LABELS["other_contact"],
                f"Find another person at {where}: no one else there is in your mail yet",
            ),
            *tips,
        )
    return Item(decision.subject, failed, note, links.get(decision.id), tips, decision.high_value)


def _still_due(decision: ConversationDecision, links: Mapping[str, str], fmt: Dates) -> Item:
    step = _step_name(decision.action, decision)
    due = f", due since {fmt.day(decision.due_at)}" if decision.due_at else ""
    note = f"{step}{due} — check your Drafts folder for an earlier draft"
    return _conversation_item(decision, note, links)


def _conversation_item(decision: ConversationDecision, note: str, links: Mapping[str, str]) -> Item:
    """A conversation line: its subject, its contacts, a note and its suggestions."""
    return Item(
        decision.subject,
        ", ".join(decision.contacts),
        note,
        links.get(decision.id),
        _tips(decision.suggestions),
        decision.high_value,
    )


def _meeting_people(meeting: MeetingDecision) -> str:
    names = dict(meeting.contact_names)
    return ", ".join(_person(c, names.get(c, "")) for c in meeting.contacts)


def _person(address: str, name: str) -> str:
    return f"{name} <{address}>" if name and name != address else address


def _tips(suggestions: Iterable[Suggestion]) -> tuple[tuple[str, str], ...]:
    return tuple((_TIP_LABELS.get(s.kind, s.kind), s.text) for s in suggestions)


# --- Waiting and Let go ----------------------------------------------------------------


def waiting(plan: Plan, links: Mapping[str, str], fmt: Dates) -> tuple[Group, ...]:
    silent = sorted(
        (c for c in plan.conversations if c.state == State.WAITING),
        key=lambda c: (c.silent_since or plan.now, c.subject),
    )
    buckets: dict[str, list[Item]] = {title: [] for _, title in _AGE_BUCKETS}
    buckets[_OLDEST_BUCKET] = []
    for decision in silent:
        age = fmt.age_days(decision.silent_since) if decision.silent_since else 0
        buckets[_bucket(age)].append(_waiting_item(decision, age, links, fmt))
    groups = [Group(title, "waiting", tuple(items)) for title, items in buckets.items()]
    snoozed = sorted(
        (c for c in plan.conversations if c.state == State.SNOOZED),
        key=lambda c: (c.snoozed_until or plan.now, c.subject),
    )
    away = tuple(_snoozed_item(c, links, fmt) for c in snoozed if c.after_absence)
    later = tuple(_deferred_item(c, links, fmt) for c in snoozed if not c.after_absence)
    groups.append(Group("Out of office", "snoozed", away))
    groups.append(Group("Asked to hear from you later", "snoozed", later))
    return tuple(valued_first(g) for g in groups if g.items)


def _bucket(age_days: int) -> str:
    for limit, title in _AGE_BUCKETS:
        if age_days < limit:
            return title
    return _OLDEST_BUCKET


def _waiting_item(
    decision: ConversationDecision, age: int, links: Mapping[str, str], fmt: Dates
) -> Item:
    step = _step_name(Action.BREAKUP if decision.attempt >= 2 else Action.NUDGE, decision)
    due = f" · {step.lower()} due {fmt.day(decision.due_at)}" if decision.due_at else ""
    note = f"silent {plural(age, 'day')}{due}"
    return _conversation_item(decision, note, links)


def _snoozed_item(decision: ConversationDecision, links: Mapping[str, str], fmt: Dates) -> Item:
    back = f"back {fmt.day(decision.snoozed_until)}" if decision.snoozed_until else "away"
    note = f"out of office, {back} — the next draft will welcome them back"
    return _conversation_item(decision, note, links)


def _deferred_item(decision: ConversationDecision, links: Mapping[str, str], fmt: Dates) -> Item:
    """A "not now — get back to me in January" (docs/rules.md "Said stop, or said later")."""
    when = fmt.day(decision.snoozed_until) if decision.snoozed_until else "later"
    note = f"asked to hear from you again {when} — a draft will be ready then"
    return _conversation_item(decision, note, links)


def let_go(plan: Plan, since: datetime, links: Mapping[str, str], fmt: Dates) -> Group:
    # Shown once: only what was let go between the previous digest and now.
    gone = sorted(
        (
            (c.let_go_at, c)
            for c in plan.conversations
            if c.state == State.LET_GO
            and c.let_go_at is not None
            and since < c.let_go_at <= plan.now
        ),
        key=lambda pair: (pair[0], pair[1].subject),
    )
    items = tuple(
        Item(
            c.subject,
            ", ".join(c.contacts),
            f"{plural(c.attempt, 'follow-up')}, no answer · let go {fmt.day(when)}",
            links.get(c.id),
        )
        for when, c in gone
    )
    return Group(f"Let go since {fmt.day_time(since)}", "let_go", items)
