"""Every header value ghostwatch writes, cleaned here and only here.

Each value comes from somewhere a stranger can write: a display name from a message or
an invitation, a subject, a meeting's title, a uid in a step key. A header field is one
line, folded only at whitespace (RFC 5322 §2.2, §2.2.3), so:

* a line break inside a value would add header fields of its own. The standard library
  refuses one with `ValueError` (and counts U+2028, U+2029, U+0085, VT and FF as line
  breaks): one hostile attendee name used to stop a whole cycle;
* control characters (NUL, ESC and the C1 range) are not text (RFC 5322 §3.2.5 `VCHAR`),
  and some servers refuse or cut a message holding them.

* an RFC 2047 encoded word (`=?utf-8?b?…?=`) in a value is decoded by the library when
  it parses what it is given, so text that merely looks like one (a subject, a name, a
  meeting's title or uid, a stranger's Message-ID, after our own decoding, or never
  decoded at all) came out as whatever it encodes: a line break and a `Bcc:` field of
  its own, or an angle address in place of the recipient's.

So every value becomes one line of printable characters with single spaces and no
encoded word (`=?` is written `= ?`; an id or token holding one is left out or hashed),
and the library folds it and writes RFC 2047 encoded words for what is not ASCII. An address
that cannot be written as it is (a control character or a space in it, a non-ASCII
local part that would need SMTPUTF8) is not repaired: a repaired address is someone
else's. It raises `UnsafeItem`, and the cycle skips that one item.
"""

from __future__ import annotations

import email.message
import email.policy
import hashlib
import re
from collections.abc import Iterable
from email.headerregistry import Address as HeaderAddress

from ghostwatch.errors import UnsafeItem
from ghostwatch.mail.visible import without_escapes
from ghostwatch.model.mail import Address

MAX_TEXT = 900
"""Characters of one free-text value (a subject): a stranger's 1 MB title becomes a header
every server takes (RFC 5322 §2.1.1 limits a line to 998 characters; folding keeps each
line under it, this keeps the whole field a sane size)."""

MAX_TOKEN = 200
"""Characters of a token written as it is (a step key part): longer ones are hashed."""

# Fold only at RFC 5322's hard limit: folded at 78, a long X-Ghostwatch-Step reads back
# with a space inside through Python's own parser, and a step key must read back exactly.
POLICY = email.policy.SMTP.clone(max_line_length=998)

# RFC 5322 §3.4.1 addr-spec, as ghostwatch writes it: printable ASCII, none of the
# specials that would need quoting, one "@".
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")
_MESSAGE_ID = re.compile(r"^[\x21-\x3b\x3d\x3f-\x7e]+$")  # printable ASCII but < and >


def header_text(value: str, limit: int = MAX_TEXT) -> str:
    """`value` as one line of printable characters, runs of space as one, at most `limit`."""
    # str.isprintable is False for every Cc, Cf, Zl, Zp and Zs-but-space character:
    # NUL, ESC, C1, U+2028/2029, bidi overrides and no-break spaces all become spaces.
    # An escape sequence goes whole (mail/visible.py): its tail, `[31m`, is no text either.
    spaced = "".join(c if c.isprintable() else " " for c in without_escapes(value))
    text = " ".join(spaced.split()).replace(_ENCODED_WORD, "= ?")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_ENCODED_WORD = "=?"
"""How an RFC 2047 encoded word begins (§2): never written as it is (see above)."""


def step_token(value: str) -> str:
    """`value` unchanged if it is a short printable ASCII token, else a hash of it: a
    step key must read back from the mailbox exactly as it was written."""
    if len(value) <= MAX_TOKEN and _TOKEN.match(value) and _ENCODED_WORD not in value:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"h-{digest}"


def message_id(value: str | None) -> str | None:
    """A Message-ID usable in a header (RFC 5322 §3.6.4 msg-id), without brackets, or None."""
    if not value:
        return None
    bare = value.strip().removeprefix("<").removesuffix(">")
    usable = len(bare) <= MAX_TEXT and _MESSAGE_ID.match(bare) and _ENCODED_WORD not in bare
    return bare if usable else None


def mailbox(address: Address) -> str:
    """`Name <local@domain>` with the name cleaned; raises `UnsafeItem` for an address
    that cannot be written as it is."""
    email = address.email
    if not _ADDR_SPEC.match(email) or email.count("@") != 1 or _ENCODED_WORD in email:
        raise UnsafeItem("an address holds characters a header cannot carry")
    local, _, domain = address.email.partition("@")
    return str(HeaderAddress(header_text(address.name, 200), local, domain))


def new_message() -> email.message.EmailMessage:
    """An empty message under the policy every written message uses."""
    return email.message.EmailMessage(policy=POLICY)


def put(message: email.message.EmailMessage, name: str, value: str) -> None:
    """Set header `name` (replacing any) to the cleaned `value`."""
    del message[name]
    message[name] = header_text(value)


def put_addresses(
    message: email.message.EmailMessage, name: str, addresses: Iterable[Address]
) -> None:
    """Set an address-list header; `UnsafeItem` if any address cannot be written."""
    del message[name]
    message[name] = ", ".join(mailbox(a) for a in addresses)


def put_ids(message: email.message.EmailMessage, name: str, ids: Iterable[str]) -> None:
    """Set a msg-id list header (In-Reply-To, References, Message-ID); unusable ids left out."""
    usable = [found for found in map(message_id, ids) if found]
    del message[name]
    if usable:
        message[name] = " ".join(f"<{found}>" for found in usable)
