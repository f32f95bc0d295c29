"""Who a bounce says could not be reached.

Evidence, most trustworthy first:

1. RFC 3464 per-recipient blocks with `Action: failed` (only failed: `delayed` means
   the MTA is still trying, RFC 3464 §2.3.3).
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

from ghostwatch.model.mail import Content, DeliveryStatus, Message

_ADDR = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"
ADDRESS_RE = re.compile(_ADDR)
# An address leading its line: `<a@b>:`, `  a@b`, `<a@b>... User unknown`, `a@b: reason`.
_LEADING_RE = re.compile(
    rf"^[ \t]*(?:RCPT TO:|Recipient:|\*+)?[ \t]*[<\"']?({_ADDR})[>\"']?", re.M | re.I
)
# Where the returned original starts in a text-only bounce.
_ORIGINAL_START_RE = re.compile(
    r"^(?:[ \t]*-{2,}.*(?:original|copy of|below this line|undelivered message|message headers)"
    r"|(?:Received|Return-Path|Message-I[Dd]|DKIM-Signature|MIME-Version):)",
    re.M | re.I,
)
# RFC 3464 fields pasted into text: forwarded bounces, MTAs that write no DSN part.
_INLINE_DSN_RE = re.compile(
    rf"^[ \t>]*(?:Final|Original)-Recipient:[ \t]*(?:rfc822[ \t]*;)?[ \t]*<?({_ADDR})>?"
    r"((?:\n[ \t>]*[\w-]+:.*){0,8})",
    re.M | re.I,
)
_FAILED_FIELD_RE = re.compile(r"^[ \t>]*(?:Action:[ \t]*failed|Status:[ \t]*5\.)", re.M | re.I)
# Amazon SES, also as an escaped JSON string inside an SNS envelope.
_SES_BOUNCED_RE = re.compile(r'\\?"bouncedRecipients\\?"\s*:\s*\[([^\]]*)\]')
# Role addresses of the reporting system itself, never a failed recipient.
_ROLE_RE = re.compile(
    r"^(?:mailer-?daemon|postmaster|post_master|hostmaster|abuse|root|mail-?daemon)@", re.I
)


@dataclass(frozen=True, slots=True)
class FailedRecipients:
    addresses: tuple[str, ...]
    signal: str


def _failed_statuses(statuses: Iterable[DeliveryStatus]) -> list[str]:
    return [s.recipient for s in statuses if s.action == "failed" or _permanent_only(s)]


def _permanent_only(status: DeliveryStatus) -> bool:
    # Some MTAs omit the (required) Action field; a 5.x.x Status is a permanent failure.
    return not status.action and status.status.startswith("5")


def _header_list(message: Message, name: str) -> list[str]:
    value = message.header(name) or ""
    return [a.lower() for a in ADDRESS_RE.findall(value)]


def explanation(text: str) -> str:
    """The bounce's own words: the text before the returned original begins."""
    found = _ORIGINAL_START_RE.search(text)
    return text[: found.start()] if found else text


def _excluded(message: Message, content: Content) -> set[str]:
    own = {a.email for a in (*message.recipients, *((message.sender,) if message.sender else ()))}
    own.update(i.lower() for i in content.returned_message_ids)
    own.update(i.lower() for i in message.references + message.in_reply_to)
    return own


def _clean(addresses: Iterable[str], excluded: set[str]) -> tuple[str, ...]:
    kept = (a.lower().strip(".") for a in addresses)
    return tuple(dict.fromkeys(a for a in kept if a not in excluded and not _ROLE_RE.match(a)))


def inline_dsn_failures(text: str) -> list[str]:
    """Recipients that RFC 3464 fields quoted in the text mark as failed."""
    if "recipient:" not in text.lower():  # a substring test is 30x cheaper than the regex
        return []
    return [addr for addr, rest in _INLINE_DSN_RE.findall(text) if _FAILED_FIELD_RE.search(rest)]


def _json_bounced(text: str) -> list[str]:
    """Amazon SES bounce notifications: `"bouncedRecipients":[{"emailAddress":...}]`."""
    found = _SES_BOUNCED_RE.search(text)
    return ADDRESS_RE.findall(found.group(1)) if found else []


def _from_text(message: Message, content: Content) -> FailedRecipients | None:
    excluded = _excluded(message, content)
    ses = _clean(_json_bounced(content.text), excluded)
    if ses:
        return FailedRecipients(ses, "bouncedRecipients in a JSON notification")
    inline = _clean(inline_dsn_failures(content.text), excluded)
    if inline:
        return FailedRecipients(inline, f"DSN fields in text: {len(inline)} failed recipient(s)")
    words = explanation(content.text)
    leading = _clean(_LEADING_RE.findall(words), excluded)
    if leading:
        return FailedRecipients(leading, "address listed in the bounce text")
    mentioned = _clean(ADDRESS_RE.findall(words), excluded)
    if mentioned:
        return FailedRecipients(mentioned, "address named in the bounce text")
    return None


def failed_recipients(message: Message, content: Content | None) -> FailedRecipients | None:
    """The failed recipients and which evidence named them; None when nothing does."""
    if content is not None:
        # A DSN names its recipients explicitly: only the report's own sender is noise.
        own = {message.sender.email} if message.sender else set()
        dsn = tuple(
            dict.fromkeys(a for a in _failed_statuses(content.delivery_status) if a not in own)
        )
        if dsn:
            return FailedRecipients(dsn, f"DSN part: {len(dsn)} failed recipient(s)")
    header = _clean(_header_list(message, "x-failed-recipients"), set())
    if header:
        return FailedRecipients(header, "header X-Failed-Recipients")
    if content is None:
        return None
    found = _from_text(message, content)
    if found is None and content.returned_recipients:
        kept = _clean(content.returned_recipients, _excluded(message, content))
        found = FailedRecipients(kept, "recipient of the returned message") if kept else None
    return found


def delayed_only(content: Content | None) -> bool:
    """A DSN whose recipients are all still being retried (RFC 3464 `Action: delayed`)."""
    if content is None or not content.delivery_status:
        return False
    return all(s.action == "delayed" for s in content.delivery_status)


def has_dsn(content: Content | None) -> bool:
    return content is not None and bool(content.delivery_status)
