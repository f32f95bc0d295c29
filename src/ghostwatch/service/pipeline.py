"""The one path from a mailbox to decisions and drafts: read → thread → bodies → decide → compose.

`ghostwatch scan`, `preview` and `digest`, and the service's per-account cycle all take it:
the imperative shell around the pure engine. The engine decides *that* a step is due;
composing needs the words of my latest message to the prospect, so only those few
bodies are read for it.
"""

from __future__ import annotations

import functools
import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import structlog

from ghostwatch import engine
from ghostwatch.compose.drafts import conversation_draft, meeting_draft
from ghostwatch.engine.evidence import is_mine
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import TemplateProblem, UnsafeItem
from ghostwatch.mail import outgoing
from ghostwatch.model.calendar import CalendarEvent
from ghostwatch.model.decisions import Action, ConversationDecision, Plan
from ghostwatch.model.mail import Message
from ghostwatch.model.outbox import Draft, Sender, Skipped
from ghostwatch.providers.port import MailSource

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ScanStats:
    messages: int
    conversations: int
    bodies_loaded: int


@dataclass(frozen=True, slots=True)
class Scan:
    """A scan's decisions, and the threads they were made from (drafts quote them)."""

    plan: Plan
    threads: engine.Threads
    stats: ScanStats


def read_events(source: MailSource, rules: Rules, now: datetime) -> tuple[CalendarEvent, ...]:
    window = timedelta(days=rules.meeting_window_days)
    return source.events(now - window, now + window)


def scan_maildir(
    source: MailSource,
    rules: Rules,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[Plan, ScanStats]:
    done = run_scan(source, rules, now, progress)
    return done.plan, done.stats


def run_scan(
    source: MailSource,
    rules: Rules,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Scan:
    clock = _Phases()
    with _collector_paused():
        messages = clock.run("read", source.read_headers, progress)
        threads = clock.run("thread", engine.thread, messages, rules.me)
        wanted = clock.run("select", engine.content_wanted, threads, rules.me)
        threads = threads.with_content(clock.run("bodies", source.load_content, wanted))
        events = clock.run("calendar", read_events, source, rules, now)
        plan = clock.run("decide", engine.decide, threads, events, rules, now)
    stats = ScanStats(len(messages), len(threads.conversations), len(wanted))
    log.info(
        "scan_done",
        messages=stats.messages,
        conversations=stats.conversations,
        bodies_loaded=stats.bodies_loaded,
        undated=len(plan.skipped),
        seconds=clock.seconds,
    )
    return Scan(plan, threads, stats)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a scan builds its (acyclic) values.

    Every few hundred allocations it walks the whole growing heap: at 100k messages
    that measured 56% of the read and 35% of the engine. Reference counting still
    frees everything; cycles made meanwhile are collected when it resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Phases:
    """Wall time per phase, for the summary line (where a slow scan spends its time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, step: Callable[..., _T], *args: Any) -> _T:
        start = time.perf_counter()
        try:
            return step(*args)
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)


_DRAFTED = frozenset({Action.NUDGE, Action.BREAKUP})


def sender_from_mail(scan: Scan, me: Identity, address: str, signature: str | None) -> Sender:
    """The user as their own sent mail names them (the commonest From display name)."""
    names = Counter(
        m.sender.name
        for m in scan.threads.messages()
        if m.sender and m.sender.name and is_mine(m, me)
    )
    name = names.most_common(1)[0][0] if names else address.partition("@")[0]
    return Sender(name=name, address=address, signature=name if signature is None else signature)


def _with_bodies(
    messages: tuple[Message, ...], decision: ConversationDecision, source: MailSource
) -> tuple[Message, ...]:
    key = decision.last_outbound_key
    bodies = source.load_content([key] if key is not None else [])
    return tuple(replace(m, content=bodies[m.key]) if m.key in bodies else m for m in messages)


@dataclass(frozen=True, slots=True)
class Composed:
    """The drafts a plan calls for, and the items left out because composing them failed."""

    drafts: list[Draft]
    skipped: list[Skipped]


def compose_drafts(
    scan: Scan,
    source: MailSource,
    sender: Sender,
    tz: tzinfo,
    notes: Mapping[str, str] | None = None,
    templates: Path | None = None,
) -> list[Draft]:
    """Every draft the plan calls for (see `compose_all`), without the skipped items."""
    return compose_all(scan, source, sender, tz, notes, templates).drafts


def compose_all(
    scan: Scan,
    source: MailSource,
    sender: Sender,
    tz: tzinfo,
    notes: Mapping[str, str] | None = None,
    templates: Path | None = None,
) -> Composed:
    """Every draft the plan calls for: due follow-ups, then missed-meeting notes.

    Each is composed inside its own guard: one conversation or invitation whose text
    breaks composing is skipped and named, and every other draft is still written.
    Reading a body is not guarded: a provider failing is not an item's fault, and the
    cycle retries it whole."""
    plan, done = scan.plan, Composed([], [])
    templates = templates if templates is not None else sender.templates
    for decision in plan.conversations:
        if decision.action in _DRAFTED:
            thread = _with_bodies(scan.threads.conversations[decision.id], decision, source)
            note = (notes or {}).get(decision.id)
            compose = functools.partial(conversation_draft, decision, thread, sender)
            _guarded(done, "draft", decision.subject, compose, plan.now, tz, note, templates)
    for meeting in plan.meetings:
        compose = functools.partial(meeting_draft, meeting, sender)
        _guarded(done, "meeting note", meeting.summary, compose, plan.now, tz, templates)
    return done


def _guarded(done: Composed, kind: str, title: str, compose: Callable[..., Draft | None],
             *args: Any) -> None:  # fmt: skip
    try:
        draft = compose(*args)
    except TemplateProblem:  # the user's template, not this item: every draft would fail
        raise
    except Exception as error:  # noqa: BLE001 - one item's text must never stop the rest
        done.skipped.append(skipped_item(kind, title, error))
        return
    if draft is not None:
        done.drafts.append(draft)


def skipped_item(kind: str, title: str, error: Exception) -> Skipped:
    """The digest's line for an item left out, logged here (the reason, never the text).
    An `UnsafeItem` says why in words; anything else keeps only its kind, as its text
    may quote the item."""
    reason = str(error) if isinstance(error, UnsafeItem) else f"an error ({type(error).__name__})"
    log.warning("item_skipped", kind=kind, reason=reason)
    return Skipped(kind, outgoing.header_text(title, 120), reason)
