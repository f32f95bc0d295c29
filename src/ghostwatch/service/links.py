"""Where each draft the digest lists opens in the user's mail (docs/rules.md, the digest).

A salesperson acts from the digest: each draft it lists links to that draft in their
mail's web client (Gmail's compose window, Outlook on the web's `webLink`). Only drafts
the ledger knows are in the mailbox get one, and the address is asked for when the
digest is made (`MailActions.draft_links`), since a draft's address changes when it is
edited or moved. A mailbox with no web client (IMAP, Maildir) gives none, and a lookup
that fails costs the links, never the digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from ghostwatch.errors import GhostwatchError
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.port import MailActions
from ghostwatch.store import LedgerStatus, Tx

log = structlog.get_logger(__name__)


def made_drafts(tx: Tx, account: int, drafts: Sequence[Draft], prefix: str) -> dict[str, str]:
    """Step key → the draft id the ledger confirmed, for the digest's drafts (the ledger
    key of a draft is `prefix` + its step key)."""
    found: dict[str, str] = {}
    for draft in drafts:
        entry = tx.entry(account, prefix + draft.step_key)
        if entry is not None and entry.status == LedgerStatus.DONE and entry.provider_ref:
            found[draft.step_key] = entry.provider_ref
    return found


def draft_links(actions: MailActions, made: Mapping[str, str]) -> dict[str, str]:
    """Step key → where that draft opens; {} when the mailbox cannot say."""
    if not made:
        return {}
    try:
        links = actions.draft_links(sorted(set(made.values())))
    except GhostwatchError as error:
        log.warning("draft_links_unread", error=str(error))
        return {}
    except Exception as error:  # noqa: BLE001 - a link is a convenience: never the digest
        log.warning("draft_links_unread", error=type(error).__name__)
        return {}
    return {step: links[ref] for step, ref in made.items() if ref in links}
