"""Drafts stay true (docs/rules.md): withdrawing ghostwatch's own drafts once their
conversation no longer wants them, through the action ledger.

Each cycle, after the ledger is reconciled, every draft ghostwatch wrote that is still in
Drafts (found by the id the ledger recorded, or by its X-Ghostwatch-Step when a client
saved it again under a new id) and whose conversation is in a state that wants no draft
(`engine.stale`) is judged:

- exactly as written — the mailbox's digest of it (`mail/fingerprint.py`) equals the one
  the ledger kept when it was written: withdrawn (Gmail `drafts.delete`, Graph `DELETE`,
  the Maildir file unlinked, the IMAP UID expunged alone);
- edited, or written before digests were kept: left alone, and listed at the top of the
  digest while it stays out of date.

A withdrawal is one ledger step, `withdraw:<draft id>`: intended before the provider
call, confirmed after it, settled at the next cycle by whether that id is still in
Drafts — so a crash between the call and the record neither deletes twice nor forgets.
The draft's own entry then becomes `withdrawn`: ghostwatch took its draft back, so the
step may be written again should it fall due again (a snooze that ends).
"""

from __future__ import annotations

from ghostwatch.engine.stale import Unwanted, unwanted_drafts
from ghostwatch.errors import GhostwatchError, LeaseLost
from ghostwatch.model.decisions import Plan
from ghostwatch.model.outbox import OutdatedDraft
from ghostwatch.providers.port import DraftListing
from ghostwatch.service.cycle_context import Cycle, failed
from ghostwatch.store import LedgerEntry, LedgerStatus, Tx

WITHDRAW = "withdraw"
EDITED = "edited by the user, or written before digests were kept: left alone"


def settle_withdrawal(cycle: Cycle, entry: LedgerEntry, listing: DraftListing) -> None:
    """A withdrawal intended before a crash: done if its draft is gone from Drafts,
    else judged again this cycle (the user may have edited it since)."""
    draft_id = entry.key.partition(":")[2]
    if draft_id in listing.ids:
        cycle.retry.add(entry.key)
        return
    with cycle.store.transaction() as tx:
        _withdrawn(tx, cycle.account_id, entry.key, draft_id, entry.step)
    cycle.report.drafts_withdrawn += 1


def withdraw_unwanted(cycle: Cycle, plan: Plan, listing: DraftListing) -> None:
    """Withdraw, or list as out of date, every draft of ours its conversation no longer
    wants (`engine.stale`)."""
    unwanted = unwanted_drafts(plan)
    if not unwanted:
        return
    with cycle.store.transaction() as tx:
        made = tx.drafts_made(cycle.account_id, listing.ids, listing.steps.keys())
    for entry in made:
        why = unwanted.get(entry.conversation)
        if why is None:
            continue
        if entry.provider_ref in listing.ids:
            draft_id: str | None = entry.provider_ref
        else:
            draft_id = listing.steps.get(entry.step)
        if draft_id is not None:
            _judge(cycle, entry, draft_id, why)


def _judge(cycle: Cycle, entry: LedgerEntry, draft_id: str, why: Unwanted) -> None:
    key = f"{WITHDRAW}:{draft_id}"
    with cycle.store.transaction() as tx:
        fresh = tx.intend(cycle.account_id, key, WITHDRAW, entry.conversation, entry.step)
        earlier = None if fresh else tx.entry(cycle.account_id, key)
    if earlier is not None and key not in cycle.retry:
        if earlier.status == LedgerStatus.ABANDONED:
            cycle.report.outdated.append(_outdated(why))  # kept: listed while out of date
        return
    try:
        now = cycle.actions.draft_fingerprint(draft_id)
    except GhostwatchError as error:
        failed(cycle, "draft_fingerprint", error)
        return  # the intent stays pending: judged again next cycle
    if now is None:
        return  # gone since the listing: the next cycle settles the intent by its absence
    if entry.fingerprint is None or now != entry.fingerprint:
        with cycle.store.transaction() as tx:
            tx.abandon(cycle.account_id, key, EDITED)
        cycle.report.outdated.append(_outdated(why))
        return
    try:
        cycle.actions.withdraw_draft(draft_id)
    except LeaseLost:
        raise  # another replica holds the account now: this cycle ends here
    except GhostwatchError as error:
        failed(cycle, "withdraw_draft", error)
        return
    with cycle.store.transaction() as tx:
        _withdrawn(tx, cycle.account_id, key, draft_id, entry.step)
    cycle.report.drafts_withdrawn += 1


def _withdrawn(tx: Tx, account: int, key: str, draft_id: str, step: str) -> None:
    tx.confirm(account, key, draft_id)
    tx.withdrawn(account, f"draft:{step}")


def _outdated(why: Unwanted) -> OutdatedDraft:
    return OutdatedDraft(subject=why.subject, recipients=why.recipients, reason=why.reason)
