"""One tracked conversation → its state, action and reasons (docs/rules.md).

Precedence, strongest first: muted (by the user — `ghostwatch mute`, or a
`ghostwatch/mute` label in the mailbox — or because everyone asked not to be contacted or
was marked `ghostwatch/leave-alone`), replied (or asked to be contacted later: snoozed,
then due), bounced, snoozed, then the cadence (due / waiting / let_go). A false "no
reply" is the worst mistake this product can make, so every kind of answer is looked for
before silence is assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from ghostwatch.engine import colleagues
from ghostwatch.engine.evidence import Evidence, Tracked, is_external_inbound
from ghostwatch.engine.marks import Marked, label
from ghostwatch.engine.rules import Rules
from ghostwatch.engine.threads import sort_key
from ghostwatch.model.decisions import (
    Action,
    ConversationDecision,
    InboundClass,
    Intent,
    IntentKind,
    State,
)
from ghostwatch.model.mail import Folder, Mark, Message, display_subject


@dataclass(frozen=True, slots=True)
class Answers:
    """The inbound mail that counts for one conversation, in date order."""

    humans: tuple[Message, ...]
    absences: tuple[tuple[Message, date], ...]
    """Out-of-office notices that name a return date."""
    others: tuple[Message, ...] = ()
    """Human mail from someone else at a contact's organization, in another conversation,
    after my latest message, that is not about this one (the digest notes it)."""
    suspicious: tuple[Message, ...] = ()
    """What would have counted but the user's provider did not authenticate."""


def answers(conv: Tracked, evidence: Evidence) -> Answers:
    """Human replies and absence notices: in the thread, or from a contact anywhere.

    In the thread, anyone outside my organization counts (a contact's colleague who
    answers for them); in other conversations the contacts themselves do, and someone
    else at a contact's organization when the message is plainly about this one.
    """
    me = evidence.me
    found = {m.key: m for m in conv.messages if is_external_inbound(m, me)}
    for contact in conv.contacts:
        found.update((m.key, m) for m in evidence.mail_from.get(contact, ()))
    about, others = colleagues.in_other_conversations(conv, evidence, set(found))
    found.update((m.key, m) for m in about)
    humans: list[Message] = []
    absences: list[tuple[Message, date]] = []
    suspicious = _forged_reports(conv, evidence)
    for message in sorted(found.values(), key=sort_key):
        verdict = evidence.classification(message)
        human = verdict.kind == InboundClass.HUMAN
        # Trash is searched for replies only (docs/rules.md "Replied").
        absent = verdict.kind == InboundClass.OUT_OF_OFFICE and message.folder is not Folder.TRASH
        if not human and not (absent and verdict.return_date):
            continue  # counts for nothing, authenticated or not
        if evidence.unauthenticated(message) is not None:
            suspicious.append(message)
        elif human:
            humans.append(message)
        elif verdict.return_date:
            absences.append((message, verdict.return_date))
    first = conv.outbound[0].date
    assert first is not None
    listed = {m.key: m for m in suspicious if m.date is not None and m.date > first}
    return Answers(
        tuple(humans), tuple(absences), others, tuple(sorted(listed.values(), key=sort_key))
    )


def _forged_reports(conv: Tracked, evidence: Evidence) -> list[Message]:
    """Unauthenticated would-be bounces naming a contact or my message."""
    refs = (*conv.contacts, *(m.message_id for m in conv.outbound if m.message_id))
    return [m for ref in refs for m in evidence.suspicious_reports.get(ref, ())]


def last_key(messages: tuple[Message, ...], evidence: Evidence) -> str:
    """The message a draft answers: the latest one outside Trash (nothing in Trash is
    ever acted on) that is not unauthenticated, or the latest of all when none is."""
    for message in reversed(messages):
        if message.folder is not Folder.TRASH and evidence.unauthenticated(message) is None:
            return message.key
    return messages[-1].key


def _after(messages: tuple[Message, ...], when: datetime) -> list[Message]:
    return [m for m in messages if m.date is not None and m.date > when]


def attempts(conv: Tracked, humans: tuple[Message, ...]) -> int:
    """Follow-ups already sent: my messages since the last human answer, minus one."""
    last = max((m.date for m in humans if m.date and m.date <= conv.latest_date), default=None)
    mine = [m for m in conv.outbound if last is None or (m.date and m.date > last)]
    return max(len(mine) - 1, 0)


def latest_recipients(conv: Tracked, evidence: Evidence) -> tuple[str, ...]:
    me = evidence.me
    return tuple(sorted({a.email for a in conv.latest.addressees if me.is_contact(a.email)}))


def bounced_addresses(conv: Tracked, evidence: Evidence, rules: Rules) -> set[str]:
    """Contacts of my latest message for whom a delivery failure came back after it."""
    targets = set(latest_recipients(conv, evidence))
    own_ids = {m.message_id for m in conv.outbound if m.message_id}
    reports = {
        report.key: (report, verdict)
        for ref in (*targets, *own_ids)
        for report, verdict in evidence.bounces_for.get(ref, ())
    }
    failed: set[str] = set()
    for report, verdict in reports.values():
        if report.date is None or report.date < conv.latest_date - rules.bounce_clock_skew:
            continue
        hit = targets & set(verdict.failed_recipients)
        if hit:
            failed |= hit
        elif own_ids & set(verdict.quoted_message_ids) and not verdict.failed_recipients:
            failed |= targets  # the report names my message but no address: all of them
    return failed


def decide(
    conv: Tracked,
    found: Answers,
    evidence: Evidence,
    rules: Rules,
    now: datetime,
    opted_out: Mapping[str, datetime] | None = None,
    marked: Marked | None = None,
) -> ConversationDecision:
    base = ConversationDecision(
        id=conv.id,
        subject=display_subject(conv.messages[0].subject),
        contacts=conv.contacts,
        state=State.WAITING,
        last_outbound_key=conv.latest.key,
        last_message_key=last_key(conv.messages, evidence),
        recipients=latest_recipients(conv, evidence),
        silent_since=conv.latest_date,
    )
    marked = marked or Marked()
    if conv.id in rules.high_value:
        base = replace(base, high_value=True)
    if conv.id in rules.muted:
        return _with(base, State.MUTED, reasons=("muted by you",))
    if conv.id in marked.muted:
        return _with(base, State.MUTED, reasons=(f"muted in your mailbox ({label(Mark.MUTE)})",))
    stopped = {a: when for a, when in (opted_out or {}).items() if a in conv.contacts}
    left = {a: s for a, s in marked.left_alone.items() if a in conv.contacts and a not in stopped}
    alive = tuple(a for a in base.recipients if a not in stopped and a not in left)
    if (stopped or left) and (not alive or len(stopped) + len(left) == len(conv.contacts)):
        return _asked_to_stop(base, stopped, rules, left)
    attempt = attempts(conv, found.humans)
    base = _with(base, base.state, attempt=attempt, recipients=alive)
    replies = _after(found.humans, conv.latest_date)
    if replies:
        later = evidence.intent(replies[-1])
        if later is not None and later.kind == IntentKind.DEFERRAL and later.until:
            return _deferred(base, replies[-1], later, rules, now)
        return _replied(base, conv, replies)
    dead = bounced_addresses(conv, evidence, rules)
    alive = tuple(a for a in base.recipients if a not in dead)
    base = _with(base, base.state, recipients=alive, bounced=tuple(sorted(dead)))
    if dead and not alive:
        bounced = _with(
            base, State.BOUNCED, reasons=(f"delivery failed to {', '.join(sorted(dead))}",)
        )
        return colleagues.noted(bounced, found.others)
    return colleagues.noted(_cadence(base, conv, found, rules, now), found.others)


def _asked_to_stop(
    base: ConversationDecision,
    stopped: Mapping[str, datetime],
    rules: Rules,
    left: Mapping[str, str] | None = None,
) -> ConversationDecision:
    """Everyone I could write to asked not to be contacted, or I marked them to be left
    alone (`ghostwatch/leave-alone`): accept it, never argue."""
    reasons = tuple(
        f"{address} asked on {rules.calendar.local(when).date().isoformat()} not to be contacted"
        for address, when in sorted(stopped.items())
    ) + tuple(
        f"you marked {address} to be left alone ({label(Mark.LEAVE_ALONE)} on “{subject}”)"
        for address, subject in sorted((left or {}).items())
    )
    return _with(base, State.MUTED, recipients=(), reasons=reasons)


def _deferred(
    base: ConversationDecision, reply: Message, intent: Intent, rules: Rules, now: datetime
) -> ConversationDecision:
    """They answered "not now" and named when: snoozed until the first business day of
    that time, then a nudge that says they asked to reconnect now. Any later message,
    from either side, is a new latest event and ends this as usual."""
    assert reply.sender is not None
    assert reply.date is not None
    assert intent.until is not None
    start = rules.calendar.at(intent.until, time(0))
    asked = (
        f"{reply.sender.email} asked on {rules.calendar.local(reply.date).date().isoformat()}"
        f" to be contacted again on {intent.until.isoformat()}"
    )
    if now < start:
        return _with(base, State.SNOOZED, snoozed_until=start, reasons=(asked,))
    return _with(
        base,
        State.DUE,
        action=Action.NUDGE,
        attempt=0,
        due_at=start,
        deferred_by=reply.message_id or reply.key,
        reasons=(asked, "follow-up 1: nudge is due: they asked to reconnect now"),
    )


def _with(decision: ConversationDecision, state: State, **changes: object) -> ConversationDecision:
    return replace(decision, state=state, **changes)  # type: ignore[arg-type]


def _replied(
    base: ConversationDecision, conv: Tracked, replies: list[Message]
) -> ConversationDecision:
    first = replies[0]
    assert first.sender is not None
    assert first.date is not None
    where = " (in Junk)" if first.folder == Folder.JUNK else ""
    how = "" if first in conv.messages else " in another conversation"
    reason = f"{first.sender.email} replied{how} on {first.date.date().isoformat()}{where}"
    in_junk = any(m.folder == Folder.JUNK for m in replies)
    return _with(base, State.REPLIED, reply_in_junk=in_junk, reasons=(reason,))


def _cadence(
    base: ConversationDecision, conv: Tracked, found: Answers, rules: Rules, now: datetime
) -> ConversationDecision:
    cal = rules.calendar
    quiet = cal.business_days_between(conv.latest_date, now)
    silence = f"no reply for {quiet} business day{'s' if quiet != 1 else ''}"
    back = _return_date(conv, found)
    if back is not None and now < cal.at(back, time(0)):
        until = cal.at(back, time(0))
        return _with(
            base,
            State.SNOOZED,
            snoozed_until=until,
            after_absence=True,
            reasons=(f"out of office until {back.isoformat()}", silence),
        )
    step = rules.cadence.step(base.attempt)
    if step is None:
        return _let_go(base, conv, rules, now, silence)
    due = cal.add_business_days(conv.latest_date, step.after_business_days)
    reasons = [silence]
    if back is not None:
        clock = cal.local(conv.latest_date).time().replace(tzinfo=None)
        due = max(due, cal.at(cal.next_business_day(back), clock))
        reasons.append(f"back from out of office on {back.isoformat()}")
    step_no = f"follow-up {base.attempt + 1} of {len(rules.cadence.steps)}: {step.action.value}"
    state = State.DUE if due <= now else State.WAITING
    reasons.append(
        step_no + (" is due" if state == State.DUE else f" due {due.date().isoformat()}")
    )
    action = step.action if state == State.DUE else Action.NONE
    return _with(
        base,
        state,
        action=action,
        due_at=due,
        after_absence=back is not None,
        reasons=tuple(reasons),
    )


def _let_go(
    base: ConversationDecision, conv: Tracked, rules: Rules, now: datetime, silence: str
) -> ConversationDecision:
    cal = rules.calendar
    let_go_at = cal.add_business_days(conv.latest_date, rules.cadence.let_go_after_business_days)
    if let_go_at <= now:
        done = f"{base.attempt} follow-ups sent, {silence}: letting go"
        return _with(base, State.LET_GO, let_go_at=let_go_at, reasons=(done,))
    reasons = (silence, f"last follow-up sent; letting go on {let_go_at.date().isoformat()}")
    return _with(base, State.WAITING, due_at=let_go_at, reasons=reasons)


def _return_date(conv: Tracked, found: Answers) -> date | None:
    """The latest return date announced after my latest message, if it is later still."""
    sent_day = conv.latest_date.date()
    dates = [
        back
        for notice, back in found.absences
        if notice.date is not None and notice.date > conv.latest_date and back > sent_day
    ]
    return max(dates, default=None)


def junk_replies(conv: Tracked, found: Answers) -> list[Message]:
    """Human answers sitting in Junk: replies in the thread after my first message,
    and a contact's mail elsewhere after my latest one (docs/rules.md "Junk rescue")."""
    first = conv.outbound[0].date
    assert first is not None
    in_thread = set(conv.messages)
    return [
        m
        for m in found.humans
        if m.folder == Folder.JUNK
        and m.date is not None
        and (m.date > conv.latest_date or (m in in_thread and m.date > first))
    ]
