"""One cycle for one account: sync → decide → act → record (docs/architecture.md).

Every side effect goes through the action ledger: the intent is committed before the
provider call and confirmed after it, so a crash anywhere leaves either a confirmed
step or a pending intent. The next cycle settles pending intents against the mailbox
itself (drafts carry X-Ghostwatch-Step, the digest a Message-ID only the store knows)
before acting, which is what makes a crash between the call and the record produce no duplicate.

A step key is never intended twice (the ledger's unique key), so a draft the user
deleted unsent is not made again; it is marked abandoned — only once the id the ledger
recorded for it is gone from Drafts, never because an answer lacked its X-Ghostwatch-Step
header (a provider may drop a custom header; the draft is still there). A draft the
user sent is a new outbound message: the engine moves the cadence on and the old key is
not due again.

This module runs the steps in order and holds reconcile, drafts, rescues and the record;
the digest step (service/digest_delivery.py) and withdrawals (service/withdraw.py) are
modules of their own, and what every step shares is in service/cycle_context.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo

import structlog

from ghostwatch.compose.drafts import draft_message
from ghostwatch.engine.rules import Rules
from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import JunkReply
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.port import DraftListing, IncrementalSource, MailActions, MailSource
from ghostwatch.service.cycle_context import (
    DIGEST,
    DRAFT,
    RESCUE,
    Cycle,
    CycleReport,
    guarded,
    item,
    summary,
)
from ghostwatch.service.digest_delivery import deliver_digest, digest_message_id, settle_digest
from ghostwatch.service.pipeline import Scan, compose_all, run_scan
from ghostwatch.service.withdraw import WITHDRAW, settle_withdrawal, withdraw_unwanted
from ghostwatch.store import ConversationSettings, LedgerEntry, LedgerStatus, Store, Tx

# Where the rest of ghostwatch (the runner, the daemon, the demo, tests) imports them from.
__all__ = ["CycleReport", "digest_message_id", "run_cycle"]

log = structlog.get_logger(__name__)


def run_cycle(
    account: str,
    source: MailSource,
    actions: MailActions,
    store: Store,
    rules: Rules,
    sender: Sender,
    now: datetime,
    tz: tzinfo,
    *,
    junk_rescue: bool = False,
    digest: bool = False,
    dry_run: bool = False,
    provider: str = "gmail",
    progress: Callable[[int], None] | None = None,
) -> CycleReport:
    """Run one cycle; `dry_run` decides and reports without a single mailbox write.
    `progress` is told how many messages were read, as they are (a terminal's counter)."""
    started, report = time.perf_counter(), CycleReport()
    with store.transaction() as tx:
        account_id = tx.account(account, provider, sender.address)
        settings = tx.conversation_settings(account_id)
        stopped = tx.opt_outs(account_id)
        # Also without a digest due: a pending one from an earlier cycle is settled by it.
        digest_key = "" if dry_run else tx.digest_key(account_id)
        _resume(tx, account_id, source)
    try:
        scan = run_scan(source, _with_settings(rules, settings, stopped), now, progress)
        composed = compose_all(scan, source, sender, tz, notes=_notes(settings))
    except GhostwatchError as error:
        if not dry_run:
            _record_failure(store, account_id, now, error, source)
        raise
    drafts, report.skipped = composed.drafts, composed.skipped
    report.drafts_due = len(drafts)
    report.states = dict(Counter(d.state.value for d in scan.plan.conversations))
    if not dry_run:
        cycle = Cycle(account_id, actions, store, sender, now, tz, report, digest_key)
        _act(cycle, scan, drafts, junk_rescue=junk_rescue, digest=digest)
        _record(cycle, scan, source)
    summary(account, report, dry_run, time.perf_counter() - started)
    return report


def _with_settings(
    rules: Rules,
    settings: dict[str, ConversationSettings],
    stopped: dict[str, tuple[datetime, datetime | None]] | None = None,
) -> Rules:
    """The user's choices and the opt-outs the store keeps (docs/rules.md "Said stop"):
    an opt-out the user lifted stays lifted for everything said up to then."""
    muted = {cid for cid, s in settings.items() if s.muted}
    valued = {cid for cid, s in settings.items() if s.high_value}
    kept = stopped or {}
    return replace(
        rules,
        muted=rules.muted | muted,
        high_value=rules.high_value | valued,
        opted_out={
            a: asked for a, (asked, lifted) in kept.items() if lifted is None or asked > lifted
        },
        opt_out_lifted={a: lifted for a, (_, lifted) in kept.items() if lifted is not None},
    )


def _notes(settings: dict[str, ConversationSettings]) -> dict[str, str]:
    return {cid: s.note for cid, s in settings.items() if s.note}


def _act(cycle: Cycle, scan: Scan, drafts: list[Draft], *, junk_rescue: bool, digest: bool) -> None:
    """Reconcile first (it decides what is retried), then drafts, rescues, the digest."""
    listing = guarded(cycle, "draft_listing", cycle.actions.draft_listing)
    if listing is None:
        return  # without the mailbox's proof, acting could duplicate: wait for next cycle
    _reconcile(cycle, scan, drafts, listing)
    withdraw_unwanted(cycle, scan.plan, listing)
    junk = scan.plan.junk_replies if junk_rescue else []
    settled = _settled(cycle, [*_draft_keys(drafts), *(_rescue_key(j) for j in junk)])
    for draft in drafts:
        if _draft_key(draft) not in settled:
            _make_draft(cycle, scan, draft, listing.steps)
    for reply in junk:
        if _rescue_key(reply) not in settled:
            _rescue(cycle, reply)
    if digest:
        deliver_digest(cycle, scan, drafts)


# --- reconcile ---------------------------------------------------------------------------


def _reconcile(cycle: Cycle, scan: Scan, drafts: list[Draft], listing: DraftListing) -> None:
    with cycle.store.transaction() as tx:
        pending = tx.pending(cycle.account_id)
    junk = {f"{RESCUE}:{j.message_key}" for j in scan.plan.junk_replies}
    for entry in pending:
        if entry.kind == DRAFT:
            _settle_draft(cycle, entry, listing.steps)
        elif entry.kind == RESCUE:
            _settle_rescue(cycle, entry, junk)
        elif entry.kind == DIGEST:
            settle_digest(cycle, entry)
        elif entry.kind == WITHDRAW:
            settle_withdrawal(cycle, entry, listing)
    _abandon_deleted(cycle, drafts, listing)


def _settle_draft(cycle: Cycle, entry: LedgerEntry, existing: Mapping[str, str]) -> None:
    # No id was recorded before the crash: the step header is the only proof there is.
    draft_id = existing.get(entry.step)
    if draft_id is None:
        # The crash came before drafts.create answered and nothing was made: the intent
        # is kept and the draft is written now under the same key, if it is still due.
        cycle.retry.add(entry.key)
        return
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, entry.key, draft_id)
    cycle.report.drafts_reconciled += 1


def _settle_rescue(cycle: Cycle, entry: LedgerEntry, junk: set[str]) -> None:
    # messages.modify is idempotent: still in junk → do it again; gone → it happened.
    if entry.key in junk:
        cycle.retry.add(entry.key)
        return
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, entry.key, entry.step)


def _abandon_deleted(cycle: Cycle, drafts: list[Draft], listing: DraftListing) -> None:
    """A confirmed draft that is still due but whose recorded id is gone from Drafts was
    deleted unsent (had the user sent it, the engine would see the message and no longer
    ask for it). The id decides, not the step header: an answer without the header says
    nothing about whether the draft is there."""
    for draft in drafts:
        key = f"{DRAFT}:{draft.step_key}"
        if draft.step_key in listing.steps:
            continue
        with cycle.store.transaction() as tx:
            entry = tx.entry(cycle.account_id, key)
            if entry is None or entry.status != LedgerStatus.DONE:
                continue
            if entry.provider_ref in listing.ids:
                continue  # still in Drafts: only the header is missing from the answer
            tx.abandon(cycle.account_id, key, "deleted by the user without sending")
            cycle.report.steps_abandoned += 1


# --- act ---------------------------------------------------------------------------------


def _settled(cycle: Cycle, keys: list[str]) -> set[str]:
    """The keys among `keys` with nothing to do this cycle, read in one transaction: an
    idle cycle whose due steps were all taken earlier opens no transaction per step to
    learn it. They are the keys `intend` would refuse and the cycle would not retry: in
    the ledger and not withdrawn (a withdrawn step may be intended anew), and not among
    the pending intents reconcile chose to retry. Only this cycle's runner acts for the
    account (the runner's lock; a replica's lease), so nothing changes a key between
    this read and the intend it stands for."""
    if not keys:
        return set()
    with cycle.store.transaction() as tx:
        found = tx.entries(cycle.account_id, keys)
    reopened = LedgerStatus.WITHDRAWN
    return {k for k, e in found.items() if e.status != reopened and k not in cycle.retry}


def _draft_key(draft: Draft) -> str:
    return f"{DRAFT}:{draft.step_key}"


def _draft_keys(drafts: list[Draft]) -> list[str]:
    return [_draft_key(draft) for draft in drafts]


def _rescue_key(junk: JunkReply) -> str:
    return f"{RESCUE}:{junk.message_key}"


def _make_draft(cycle: Cycle, scan: Scan, draft: Draft, existing: Mapping[str, str]) -> None:
    key = _draft_key(draft)
    with cycle.store.transaction() as tx:
        fresh = tx.intend(cycle.account_id, key, DRAFT, draft.conversation, draft.step_key)
    if not fresh and key not in cycle.retry:
        return  # done, abandoned, or settled above
    made = existing.get(draft.step_key)
    if made is not None:
        # The mailbox already holds this step (a lost database, another install): adopt it.
        cycle.report.drafts_reconciled += 1
    else:
        message = item(cycle, "draft", draft.subject, draft_message, draft, cycle.sender)
        if message is None:
            return  # the intent stays pending: it is tried again while the step is due
        with cycle.store.transaction() as tx:
            tx.written(cycle.account_id, key, cycle.actions.written_fingerprint(message))
        thread = _thread_id(scan, draft)
        made = guarded(cycle, "create_draft", cycle.actions.create_draft, draft, message, thread)
        if made is None:
            return  # the intent stays pending; the next cycle looks for it, then retries
        cycle.report.drafts_created += 1
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, key, made)


def _thread_id(scan: Scan, draft: Draft) -> str | None:
    """The provider thread of the message the draft answers (None: a new thread)."""
    messages = scan.threads.conversations.get(draft.conversation, ())
    answered = [m for m in messages if draft.in_reply_to and m.message_id == draft.in_reply_to]
    threaded = [m for m in (*answered, *reversed(messages)) if m.thread_id]
    return threaded[0].thread_id if threaded else None


def _rescue(cycle: Cycle, junk: JunkReply) -> None:
    key = _rescue_key(junk)
    with cycle.store.transaction() as tx:
        fresh = tx.intend(cycle.account_id, key, RESCUE, junk.conversation, junk.message_key)
    if not fresh and key not in cycle.retry:
        return
    if guarded(cycle, "rescue", _rescued, cycle.actions, junk.message_key) is None:
        return
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, key, junk.message_key)
    cycle.report.rescued += 1


def _rescued(actions: MailActions, message_key: str) -> bool:
    actions.rescue(message_key)
    return True


# --- record ------------------------------------------------------------------------------


def _resume(tx: Tx, account_id: int, source: MailSource) -> None:
    """An incremental source starts from what the last committed cycle stored."""
    if isinstance(source, IncrementalSource) and not source.resumed:
        cursor = tx.cursor(account_id, source.sync_name)
        headers = tx.cached_headers(account_id, source.sync_name) if cursor else []
        source.resume(cursor, headers)


def _record_failure(
    store: Store, account_id: int, now: datetime, error: GhostwatchError, source: MailSource
) -> None:
    """The failed cycle's record and, with it, what a first sync cut short has read (its
    cursor says it is unfinished): the next cycle carries on from there."""
    synced = source if isinstance(source, IncrementalSource) else None
    delta = synced.delta() if synced is not None else None
    with store.transaction() as tx:
        tx.record_cycle(account_id, now, str(error))
        if synced is None or delta is None or not (delta.partial or delta.first_sync):
            return
        tx.apply_sync(account_id, synced.sync_name, delta)
    synced.committed()
    log.info("first_sync_kept", source=synced.sync_name, messages=len(delta.upserts))


def _record(cycle: Cycle, scan: Scan, source: MailSource) -> None:
    """Snapshots, the cycle's outcome and the sync cursor with the headers it covers, in
    one transaction: a crash before it leaves the cursor where the last cycle put it."""
    error = "; ".join(cycle.report.errors) or None
    synced = source if isinstance(source, IncrementalSource) else None
    delta = synced.delta() if synced is not None else None
    with cycle.store.transaction() as tx:
        tx.save_snapshots(cycle.account_id, scan.plan.conversations, cycle.now)
        tx.record_opt_outs(cycle.account_id, scan.plan.opt_outs)
        tx.record_cycle(cycle.account_id, cycle.now, error)
        if synced is not None and delta is not None:
            tx.apply_sync(cycle.account_id, synced.sync_name, delta)
    if synced is not None:
        synced.committed()
