"""RFC 3464 delivery-status fields → one `DeliveryStatus` per recipient.

The fields come from two places: the blocks of a message/delivery-status part (`mime`
hands each block's fields over in order), and the text of bounces that paste the same
fields into their words (MTAs without a DSN part, bounces forwarded as text). Both come
damaged in the same ways, so one reader serves both:

* recipients run together: RFC 3464 §2.1 puts a blank line between recipients, some
  MTAs (AOL) do not, and some write `Action:` before the recipient it belongs to — so a
  field seen twice starts the next recipient;
* recipient values that are no address (`rfc822; @mx.example.org`): skipped, so the
  next recipient field, or the bounce's words, decide;
* `Original-Recipient` written without the quotes its local part needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ghostwatch.model.mail import DeliveryStatus

# "Original-Recipient" is what the sender wrote (RFC 3464 §2.3.1) — the address to match
# against contacts; "Final-Recipient" may be an alias expansion (docs/rules.md, "Failed
# recipients"). X-Actual-Recipient is Sendmail's.
_RECIPIENT_FIELDS = ("original-recipient", "final-recipient", "x-actual-recipient")
_GROUP_FIELDS = frozenset({*_RECIPIENT_FIELDS, "action", "status"})
"""The fields of which one recipient has at most one."""
_KEPT_FIELDS = _GROUP_FIELDS | {"diagnostic-code"}
# A recipient value after its "rfc822;": a local part (bare or quoted) and a domain of
# non-empty labels.
_ADDRESS = re.compile(r'(?:"[^"\\]*"|[^@\s<>"]+)@[^@\s<>".]+(?:\.[^@\s<>".]+)*')
# RFC 5322 §3.2.3 dot-atom: runs of atext joined by single dots.
_DOT_ATOM = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
# In text: a field line (possibly quoted with `>`), or a blank line between recipients.
_TEXT_FIELD = re.compile(
    r"^[ \t>]*(?:(original-recipient|final-recipient|x-actual-recipient|action|status"
    r"|diagnostic-code)[ \t]*:[ \t]*(.*?)[ \t]*)?$",
    re.M | re.I,
)
_DIAGNOSTIC_LIMIT = 500


def mailbox_form(address: str) -> str:
    """An address spelled as a header spells it (RFC 5322 §3.4.1): the local part as a
    dot-atom when it can be one, quoted when it cannot. Postfix writes the ORCPT of
    `"neko..nyaan"@example.org` without its quotes; unquoted, it would never equal the
    contact the user wrote to."""
    local, _, domain = address.rpartition("@")
    bare = local[1:-1] if len(local) > 1 and local[0] == local[-1] == '"' else local
    return f"{bare}@{domain}" if _DOT_ATOM.fullmatch(bare) else f'"{bare}"@{domain}'


def _recipient(fields: dict[str, str]) -> str:
    for name in _RECIPIENT_FIELDS:
        _, _, address = fields.get(name, "").rpartition(";")
        address = address.strip().strip("<>").lower()
        if _ADDRESS.fullmatch(address):
            return mailbox_form(address)
    return ""


def _status(fields: dict[str, str]) -> DeliveryStatus | None:
    recipient = _recipient(fields)
    if not recipient:
        return None
    return DeliveryStatus(
        recipient=recipient,
        action=fields.get("action", "").lower(),
        status=fields.get("status", ""),
        diagnostic=fields.get("diagnostic-code", "")[:_DIAGNOSTIC_LIMIT],
    )


def statuses(fields: Iterable[tuple[str, str]]) -> list[DeliveryStatus]:
    """One block's fields, in order: a field seen twice starts the next recipient."""
    groups: list[dict[str, str]] = [{}]
    for name, value in fields:
        key = name.lower()
        if key in _GROUP_FIELDS and key in groups[-1]:
            groups.append({})
        if key in _KEPT_FIELDS:
            groups[-1].setdefault(key, " ".join(value.split()))
    return [status for group in groups if (status := _status(group)) is not None]


def quoted_statuses(text: str) -> list[DeliveryStatus]:
    """The recipients whose RFC 3464 fields a bounce pasted into its text."""
    if "recipient:" not in text.lower():  # a substring test is 30x cheaper than the regex
        return []
    blocks: list[list[tuple[str, str]]] = [[]]
    for found in _TEXT_FIELD.finditer(text):
        if found[1]:
            blocks[-1].append((found[1], found[2]))
        elif blocks[-1]:  # a blank line ends the block
            blocks.append([])
    return [status for block in blocks for status in statuses(block)]
