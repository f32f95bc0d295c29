"""Mail as every part reads it: folders, addresses, messages, what a body yields, and the
facts about addresses and subjects that providers, the engine and compose must agree on.

Frozen and slotted: a 100,000-message mailbox is held in memory as these objects."""

from __future__ import annotations

import contextlib
import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

# A Date outside these years is garbage (or hostile), not mail. Providers treat it as
# missing; the engine ignores it, so no calendar arithmetic near year 9999 can overflow.
PLAUSIBLE_YEARS = (1900, 2200)


def plausible(when: datetime | None) -> bool:
    return when is not None and PLAUSIBLE_YEARS[0] <= when.year <= PLAUSIBLE_YEARS[1]


class Folder(StrEnum):
    """The role of the folder a message sits in (docs/scan-contract.md names them)."""

    INBOX = "inbox"
    SENT = "sent"
    JUNK = "junk"
    DRAFTS = "drafts"
    TRASH = "trash"
    OTHER = "other"


class Mark(StrEnum):
    """What a salesperson can say from their own mail client (docs/rules.md, "The mailbox
    as the control panel"): a label, category or folder named `ghostwatch/<mark>`."""

    MUTE = "mute"
    """No follow-up in this conversation (as `ghostwatch mute`)."""
    VIP = "vip"
    """High-value: first in the digest, and the escalation suggestion."""
    LEAVE_ALONE = "leave-alone"
    """Its contacts are followed up nowhere (as an opt-out they asked for)."""


MARK_PREFIX = "ghostwatch/"


def marks_named(names: Iterable[str]) -> tuple[Mark, ...]:
    """The marks among label / category / folder names: `ghostwatch/mute`, any case, with
    `.` also read as the separator (an IMAP or Maildir++ hierarchy, `ghostwatch.mute`),
    under INBOX too (`INBOX.ghostwatch.mute`, as servers that nest every folder there)."""
    found = set()
    for name in names:
        folded = name.strip().lower().replace(".", "/").removeprefix("inbox/")
        if folded.startswith(MARK_PREFIX):
            with contextlib.suppress(ValueError):
                found.add(Mark(folded.removeprefix(MARK_PREFIX).strip()))
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: `email` is always lower-case; `name` is the decoded display name."""

    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def local(self) -> str:
        return self.email.rpartition("@")[0]

    def __reduce__(self) -> tuple[type[Address], tuple[str, str]]:
        return Address, (self.email, self.name)  # see _message_values below: why


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """One per-recipient block of an RFC 3464 delivery-status report."""

    recipient: str
    action: str = ""
    status: str = ""
    diagnostic: str = ""


@dataclass(frozen=True, slots=True)
class Content:
    """What the classifier reads beyond the headers, extracted once from the MIME tree.

    Only loaded for messages that could be automatic or that decide a state;
    never stored (docs/architecture.md: bodies are not kept).
    """

    text: str = ""
    """Decoded human-readable body text (text/plain, or HTML reduced to text), truncated."""
    delivery_status: tuple[DeliveryStatus, ...] = ()
    """Per-recipient fields of a message/delivery-status part, if any."""
    returned_message_ids: tuple[str, ...] = ()
    """Message-IDs quoted from a returned original (message/rfc822, text/rfc822-headers)."""
    returned_recipients: tuple[str, ...] = ()
    """To/Cc addresses of a returned original, a hint for non-standard bounces."""
    content_type: str = ""
    """The top-level Content-Type, e.g. 'multipart/report; report-type=delivery-status'."""
    quoted_statuses: tuple[DeliveryStatus, ...] = ()
    """RFC 3464 per-recipient fields pasted into the text (bounces without a DSN part)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message as decisions need it: headers, never a whole body."""

    key: str
    """Provider-unique id (Maildir: folder-relative file name without flags)."""
    folder: Folder
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = ""
    date: datetime | None = None
    """Aware, in UTC. None when no usable date could be found."""
    utc_offset_minutes: int | None = None
    """The sender's UTC offset as written in the Date header (for send windows)."""
    message_id: str | None = None
    """Without angle brackets."""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    thread_id: str | None = None
    """The provider's own thread id (Gmail threadId, Graph conversationId), if any."""
    bcc: tuple[Address, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    """Classification evidence only: (lower-case name, decoded value) of signal headers."""
    content: Content | None = None
    place: str | None = None
    """The provider's own folder where `folder` does not tell it (Graph: the mail folder
    id of a message of role OTHER, such as Archive or Clients/Contoso); else None."""
    marks: tuple[Mark, ...] = ()
    """What the user said about the message in their own mail client: a Gmail label, an
    Outlook category, a folder named `ghostwatch/mute` … (`marks_named`; docs/rules.md
    "The mailbox as the control panel")."""

    def header(self, name: str) -> str | None:
        """The first value of a signal header (name lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc + self.bcc

    @property
    def addressees(self) -> tuple[Address, ...]:
        """To and Cc: the recipients everyone on the message can see. Only these make
        contacts (docs/rules.md "Tracked"): a Bcc is the CRM's logging address or a
        manager, never the prospect."""
        return self.to + self.cc

    def __reduce__(self) -> tuple[type[Message], tuple[object, ...]]:
        return Message, _message_values(self)


# Why Message and Address pickle by constructor: Maildir worker processes send 100,000
# messages to the parent (providers/maildir/source.py). A slots dataclass pickles through
# __getstate__/__setstate__, one setattr per field; rebuilding through the constructor
# measured ~2x faster to load and 20% faster to dump.
_message_values = operator.attrgetter(*(f.name for f in fields(Message)))


# Consumer mail services: an address there says nothing about who else is "the same
# company", so only exact addresses count (docs/rules.md "Me" and "Replied").
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "qq.com",
        "163.com",
        "naver.com",
    }
)


def is_public_domain(domain: str) -> bool:
    return domain in PUBLIC_DOMAINS


def organization(email: str) -> str:
    """The address's organization: its domain, or the exact address on a public domain."""
    domain = email.rpartition("@")[2]
    return email if is_public_domain(domain) else domain


# Reply/forward markers in the languages our users' prospects write in, plus the
# auto-reply prefixes, so "Automatic reply: Proposal" lands beside "Proposal".
SUBJECT_PREFIX = re.compile(
    r"""^\s*(?:
        (?:re|aw|wg|sv|vs|tr|fw|fwd|réf|ref|antw|antwort|rif|r|enc|res|odp|rv|vl|ynt|atb)
            \s*(?:\[\d+\]|\(\d+\))?\s*[:：]
      | (?:automatic\s+reply|auto(?:matische?)?\s*(?:reply|antwort|antwoord)|autoreply
         |out\s+of\s+(?:the\s+)?office|abwesenheitsnotiz|abwesend|réponse\s+automatique
         |respuesta\s+automática|risposta\s+automatica|automatisch\s+antwoord
         |resposta\s+automática)\s*[:：]
      | \[[^\]]{0,40}\]
    )\s*""",
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=1 << 16)
def normalize_subject(subject: str) -> str:
    """Strip reply/forward/auto-reply prefixes and tags, fold case and whitespace."""
    return " ".join(display_subject(subject).lower().split()) if subject.strip() else ""


@functools.lru_cache(maxsize=1 << 16)
def display_subject(subject: str) -> str:
    """The subject as people wrote it, without reply/forward prefixes."""
    previous = None
    while previous != subject:
        previous, subject = subject, SUBJECT_PREFIX.sub("", subject, count=1)
    return " ".join(subject.split()) or "(no subject)"
