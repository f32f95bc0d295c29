"""The digest step of a cycle: at most one digest a day in the user's Inbox, through the
action ledger (docs/rules.md, the digest; docs/architecture.md).

The day's intent is committed before the digest is delivered and confirmed after it.
Its Message-ID is known in advance to whoever holds the store (`digest_message_id`), so
when a crash or a lost answer leaves the intent pending, the next cycle finds the digest
in the mailbox (`settle_digest`) instead of delivering a second one. The trouble a
digest reports is cleared only once that digest is known to be in the mailbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from email.message import EmailMessage

from ghostwatch.compose.digest import build_digest, digest_message
from ghostwatch.errors import GhostwatchError
from ghostwatch.model.outbox import Draft
from ghostwatch.model.sync import Trouble
from ghostwatch.service import links
from ghostwatch.service.cycle_context import DIGEST, DRAFT, Cycle, failed, guarded, item
from ghostwatch.service.pipeline import Scan
from ghostwatch.store import LedgerEntry


def settle_digest(cycle: Cycle, entry: LedgerEntry) -> None:
    """A digest intended before a crash: confirmed if the mailbox holds it, else made
    again this cycle; left pending when the mailbox cannot say."""
    day = date.fromisoformat(entry.step)
    try:
        # Only a message From the user in the Inbox counts: one a stranger planted in
        # Spam, or wrote under another From, must not stand for today's digest.
        found = cycle.actions.find_digest(_digest_id(cycle, day), cycle.sender.address)
    except GhostwatchError as error:
        # Not knowing is not "not there": delivering now could put a second digest in
        # the inbox. The intent stays pending and the next cycle looks again.
        failed(cycle, "find_digest", error)
        return
    if found is None:
        cycle.retry.add(entry.key)
        return
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, entry.key, found)
        tx.record_digest(cycle.account_id, day, found, at=entry.intended_at)
        # Trouble is not cleared here: what the found digest showed is not known, so the
        # next digest shows it again (twice rather than never).
    # Delivered in an earlier cycle whose answer was lost; counted now, when it is known.
    cycle.report.digest_delivered = True


def deliver_digest(cycle: Cycle, scan: Scan, drafts: list[Draft]) -> None:
    day = cycle.now.astimezone(cycle.tz).date()
    key = f"{DIGEST}:{day.isoformat()}"
    with cycle.store.transaction() as tx:
        fresh = tx.intend(cycle.account_id, key, DIGEST, "", day.isoformat())
        since = tx.last_digest(cycle.account_id)
        trouble = tx.trouble(cycle.account_id)
        made = links.made_drafts(tx, cycle.account_id, drafts, f"{DRAFT}:")
    if not fresh and key not in cycle.retry:
        return
    # Outside `item`: a store that fails here fails the cycle, as anywhere else; a
    # mailbox that cannot say where drafts open costs the links only (service/links.py).
    opens = links.draft_links(cycle.actions, made)
    # A Message-ID known in advance lets the next cycle find a digest whose
    # confirmation was lost (rfc822msgid: search) instead of inserting it twice.
    message = item(cycle, "digest", "", _digest_of, cycle, scan, drafts, since, trouble, day, opens)
    if message is None:
        return
    ref = guarded(cycle, "deliver_digest", cycle.actions.deliver_digest, message)
    if ref is None:
        return
    with cycle.store.transaction() as tx:
        tx.confirm(cycle.account_id, key, ref)
        tx.record_digest(cycle.account_id, day, ref, at=cycle.now)
        if trouble is not None:
            # Only now that the digest holding the notice is in the mailbox: a crash or a
            # failed delivery before this line keeps the trouble for the next digest.
            tx.clear_trouble(cycle.account_id, trouble)
    cycle.report.digest_delivered = True


def _digest_of(
    cycle: Cycle,
    scan: Scan,
    drafts: list[Draft],
    since: datetime | None,
    trouble: Trouble | None,
    day: date,
    opens: Mapping[str, str],
) -> EmailMessage:
    made = build_digest(
        scan.plan, drafts, cycle.sender, cycle.tz, since=since, trouble=trouble,
        skipped=cycle.report.skipped, outdated=cycle.report.outdated, draft_links=opens,
    )  # fmt: skip
    return digest_message(made, cycle.sender, at=cycle.now, message_id=_digest_id(cycle, day))


def _digest_id(cycle: Cycle, day: date) -> str:
    return digest_message_id(cycle.account_id, cycle.sender.address, day, cycle.digest_key)


def digest_message_id(account_id: int, address: str, day: date, key: str) -> str:
    """The Message-ID (no brackets) of an account's digest for `day`: known in advance
    to whoever holds the store, so a cycle, or anyone reading the mailbox back (`make
    demo`), can look it up; unguessable to anyone else (`key`, the account's random part)."""
    domain = address.rpartition("@")[2] or "ghostwatch.invalid"
    return f"ghostwatch-digest-{account_id}-{day.isoformat()}-{key}@{domain}"
