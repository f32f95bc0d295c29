"""What `ghostwatch accounts` shows and what `mute|unmute|note` change, from the store.

Kept apart from the click layer so both are plain functions over `Settings` and a
`Store`: the CLI only prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ghostwatch.config import AccountConfig, Settings
from ghostwatch.errors import UserError
from ghostwatch.model.sync import Trouble
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.imap import signin as imap
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.service.signins import sign_in_state
from ghostwatch.store import Store
from ghostwatch.store.vault_rows import DatabaseEntries
from ghostwatch.vault.tokens import SUFFIX, TokenVault

# Every provider that signs in, with the command that does it: one missing here was a
# KeyError (a traceback from `ghostwatch accounts`) for every IMAP account.
_SIGN_IN = {
    "gmail": (google.entry_name, "google"),
    "outlook": (microsoft.entry_name, "microsoft"),
    "imap": (imap.entry_name, "imap"),
}


@dataclass(frozen=True, slots=True)
class AccountStatus:
    name: str
    provider: str
    enabled: bool
    auth: str
    last_cycle: datetime | None
    last_error: str | None
    trouble: Trouble | None = None
    """Failed cycles since a digest showed them (or, without a digest, since the last
    good cycle)."""
    digest: bool = True
    """Whether a digest will report `trouble` (not for a dry run or a digest turned off)."""


def statuses(
    settings: Settings, store: Store, vault: TokenVault | None = None
) -> list[AccountStatus]:
    """Every configured account: its sign-in, and its last cycle as the store recorded it.
    With the vault (its key is set) the sign-in says what kind; without, only whether."""
    with store.transaction() as tx:
        seen = {info.name: info for info in tx.accounts()}
        troubles = {info.name: tx.trouble(info.id) for info in seen.values()}
    stored = _vault_entries(settings, store)
    rows = []
    for account in settings.accounts:
        info = seen.get(account.name)
        rows.append(
            AccountStatus(
                account.name,
                account.provider,
                account.enabled,
                _auth_state(account, stored, vault),
                info.last_cycle_at if info else None,
                info.last_error if info else None,
                troubles.get(account.name),
                account.gets_digest,
            )
        )
    return rows


def _vault_entries(settings: Settings, store: Store) -> set[str]:
    """The vault's entry names, read without its key (the names hold no secret): a
    missing key must not hide which accounts are signed in. With `vault: database` the
    vault is the database's table (store/vault_rows.py)."""
    if settings.vault == "database":
        return set(DatabaseEntries(store.engine).names())
    folder = settings.data_dir.expanduser() / "tokens"  # where `vault_in` keeps them
    if not folder.is_dir():
        return set()
    return {path.name.removesuffix(SUFFIX) for path in folder.glob(f"*{SUFFIX}")}


def _auth_state(account: AccountConfig, stored: set[str], vault: TokenVault | None) -> str:
    if account.provider == "maildir":
        return "local folder (no sign-in)"
    entry, command = _SIGN_IN[account.provider]
    if entry(account.name) in stored:
        return sign_in_state(vault, account.name) if vault else "signed in (tokens in the vault)"
    return f"not signed in: run `ghostwatch auth {command} --account {account.name}`"


def pick_account(settings: Settings, name: str | None) -> AccountConfig:
    """The named account, or the only one; a `UserError` saying which names exist."""
    names = [a.name for a in settings.accounts]
    if name is None:
        if len(settings.accounts) == 1:
            return settings.accounts[0]
        raise UserError(f"several accounts are configured: pass --account ({', '.join(names)})")
    for account in settings.accounts:
        if account.name == name:
            return account
    raise UserError(f"no account {name!r} in the configuration (accounts: {', '.join(names)})")


def set_conversation(
    store: Store,
    account: AccountConfig,
    conversation: str,
    *,
    muted: bool | None = None,
    note: str | None = None,
    high_value: bool | None = None,
) -> None:
    """Change a conversation's settings; the next cycle's decisions and drafts use them.

    An id the last cycle did not see is refused (a typo would silently mute nothing);
    before any cycle has run there is nothing to check against, so it is kept."""
    with store.transaction() as tx:
        account_id = tx.account(account.name, account.provider, account.address)
        known = tx.snapshots(account_id)
        if known and conversation not in known:
            raise UserError(
                f"account {account.name} has no conversation {conversation!r}: "
                "the ID column of `ghostwatch scan` lists them"
            )
        tx.set_conversation(account_id, conversation, muted=muted, note=note, high_value=high_value)


# An address as `scan` prints a contact: one "@", something on each side, no blank or
# control character. Anything else is a typo to report, never a row to guess at.
_ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")


def lift_opt_out(store: Store, account: AccountConfig, address: str, at: datetime) -> str:
    """The user says `address` may be contacted again (docs/rules.md "Said stop, or said
    later"): every opt-out it asked up to `at` stops counting; asking again counts again.
    The address as kept (lower case); a `UserError` when it is no address or none is kept."""
    wanted = address.strip().lower()
    if not _ADDRESS.fullmatch(wanted):
        raise UserError(
            f"{address!r} is not an email address: give one as `ghostwatch scan` lists "
            "contacts (name@example.com)"
        )
    with store.transaction() as tx:
        account_id = tx.account(account.name, account.provider, account.address)
        if not tx.lift_opt_out(account_id, wanted, at):
            raise UserError(
                f"account {account.name} has no opt-out for {wanted}: "
                "`ghostwatch scan` shows who asked not to be contacted"
            )
    return wanted
