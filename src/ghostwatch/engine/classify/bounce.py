"""Who a bounce says could not be reached.

Evidence, most trustworthy first:

1. RFC 3464 per-recipient blocks with `Action: failed` (only failed: `delayed` means
   the MTA is still trying, RFC 3464 §2.3.3; those recipients are the *delayed* ones).
2. `X-Failed-Recipients` (Exim, Gmail).
3. The explanation text of non-standard bounces. MTAs write it in a handful of
   shapes — qmail `<addr>:`, Exim's indented address, Sendmail `<addr>... User
   unknown`, Postfix `<addr> (expanded from ...): reason`, Exchange "Your message to
   addr couldn't be delivered", Gmail "wasn't delivered to addr" — so rather than one
   rule per MTA: first addresses that stand at the start of a line, then any address
   the explanation mentions. The explanation ends where the returned original's
   headers begin; the original (my own message) never counts.
4. The To/Cc of the returned original, when the report names nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ghostwatch.engine.people import is_list_robot
from ghostwatch.model.mail import Content, DeliveryStatus, Message

_ADDR = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"
ADDRESS_RE = re.compile(_ADDR)
# An address leading its line: `<a@b>:`, `  a@b`, `<a@b>... User unknown`, `a@b: reason`;
# and `a@b <c@d>: reason`, where the first is display text and the angle-addr is the
# address (RFC 5322 §3.4 name-addr; Exim reports malformed addresses so).
_LEADING_RE = re.compile(
    rf"^[ \t]*(?:RCPT TO:|Recipient:|\*+)?[ \t]*[<\"']?({_ADDR})[>\"']?(?:[ \t]+<({_ADDR})>)?",
    re.M | re.I,
)
# Where the returned original starts in a text-only bounce.
_ORIGINAL_START_RE = re.compile(
    r"^(?:[ \t]*-{2,}.*(?:original|copy of|below this line|undelivered message|message headers)"
    r"|(?:Received|Return-Path|Message-I[Dd]|DKIM-Signature|MIME-Version):)",
    re.M | re.I,
)
# The envelope sender in an SMTP transcript (RFC 5321 §3.3), folded or not.
_MAIL_FROM_RE = re.compile(rf"\bMAIL\s+FROM:\s*<?({_ADDR})", re.I)
# Amazon SES, also as an escaped JSON string inside an SNS envelope.
_SES_BOUNCED_RE = re.compile(r'\\?"bouncedRecipients\\?"\s*:\s*\[([^\]]*)\]')
# Role addresses of the reporting system itself.
_ROLE_RE = re.compile(
    r"^(?:mailer-?daemon|postmaster|post_master|hostmaster|abuse|root|mail-?daemon)@", re.I
)


@dataclass(frozen=True, slots=True)
class FailedRecipients:
    addresses: tuple[str, ...]
    signal: str


def _failed(status: DeliveryStatus) -> bool:
    # Some MTAs omit the (required) Action field; a 5.x.x Status is a permanent failure.
    return status.action == "failed" or (not status.action and status.status.startswith("5"))


def _unique(addresses: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(addresses))


def _header_list(message: Message, name: str) -> list[str]:
    value = message.header(name) or ""
    return [a.lower() for a in ADDRESS_RE.findall(value)]


def explanation(text: str) -> str:
    """The bounce's own words: the text before the returned original begins."""
    found = _ORIGINAL_START_RE.search(text)
    return text[: found.start()] if found else text


def _not_recipients(message: Message, content: Content) -> set[str]:
    """What can look like an address in a report but never failed: the report's sender,
    the envelope sender of a transcript, and Message-IDs."""
    own = {message.sender.email} if message.sender else set()
    own.update(a.lower() for a in _MAIL_FROM_RE.findall(content.text))
    own.update(i.lower() for i in content.returned_message_ids)
    own.update(i.lower() for i in message.references + message.in_reply_to)
    return own


def _excluded(message: Message, content: Content) -> set[str]:
    """For loose mentions, also the report's own recipients (me)."""
    return _not_recipients(message, content) | {a.email for a in message.recipients}


def _clean(
    addresses: Iterable[str], excluded: set[str], wrote_to: Iterable[str]
) -> tuple[str, ...]:
    """Drop excluded and role addresses — but not a role address my message went to."""
    kept = (a.lower().strip(".") for a in addresses)
    wrote = set(wrote_to)
    return _unique(a for a in kept if a not in excluded and (a in wrote or not _role(a)))


def _role(address: str) -> bool:
    return bool(_ROLE_RE.match(address)) or is_list_robot(address)


def inline_dsn_failures(content: Content) -> list[str]:
    """Recipients that RFC 3464 fields pasted into the text mark as failed."""
    return [s.recipient for s in content.quoted_statuses if _failed(s)]


def _json_bounced(text: str) -> list[str]:
    """Amazon SES bounce notifications: `"bouncedRecipients":[{"emailAddress":...}]`."""
    found = _SES_BOUNCED_RE.search(text)
    return ADDRESS_RE.findall(found.group(1)) if found else []


def _leading(words: str) -> list[str]:
    return [angle or bare for bare, angle in _LEADING_RE.findall(words)]


def _from_text(message: Message, content: Content) -> FailedRecipients | None:
    listed, loose = _not_recipients(message, content), _excluded(message, content)
    wrote_to = content.returned_recipients
    ses = _clean(_json_bounced(content.text), loose, wrote_to)
    if ses:
        return FailedRecipients(ses, "bouncedRecipients in a JSON notification")
    inline = _clean(inline_dsn_failures(content), listed, wrote_to)
    if inline:
        return FailedRecipients(inline, f"DSN fields in text: {len(inline)} failed recipient(s)")
    words = explanation(content.text)
    leading = _clean(_leading(words), listed, wrote_to)
    if leading:
        return FailedRecipients(leading, "address listed in the bounce text")
    mentioned = _clean(ADDRESS_RE.findall(words), loose, wrote_to)
    if mentioned:
        return FailedRecipients(mentioned, "address named in the bounce text")
    return None


def failed_recipients(message: Message, content: Content | None) -> FailedRecipients | None:
    """The failed recipients and which evidence named them; None when nothing does."""
    if content is not None:
        # A DSN names its recipients explicitly: only the report's own sender is noise.
        own = {message.sender.email} if message.sender else set()
        dsn = _unique(s.recipient for s in content.delivery_status if _failed(s))
        dsn = tuple(a for a in dsn if a not in own)
        if dsn:
            return FailedRecipients(dsn, f"DSN part: {len(dsn)} failed recipient(s)")
    wrote_to = content.returned_recipients if content is not None else ()
    header = _clean(_header_list(message, "x-failed-recipients"), set(), wrote_to)
    if header:
        return FailedRecipients(header, "header X-Failed-Recipients")
    if content is None:
        return None
    found = _from_text(message, content)
    if found is None and wrote_to:
        kept = _clean(wrote_to, _excluded(message, content), wrote_to)
        found = FailedRecipients(kept, "recipient of the returned message") if kept else None
    return found


def delayed_recipients(content: Content | None) -> tuple[str, ...]:
    """Recipients a report says are still being retried (RFC 3464 `Action: delayed`),
    from its DSN part or from DSN fields quoted in its text."""
    if content is None:
        return ()
    statuses = content.delivery_status or content.quoted_statuses
    return _unique(s.recipient for s in statuses if s.action == "delayed")


def delayed_only(content: Content | None) -> bool:
    """A DSN whose recipients are all still being retried (RFC 3464 `Action: delayed`)."""
    if content is None or not content.delivery_status:
        return False
    return all(s.action == "delayed" for s in content.delivery_status)


def has_dsn(content: Content | None) -> bool:
    return content is not None and bool(content.delivery_status)
