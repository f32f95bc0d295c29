"""Graph's JSON for a message (https://learn.microsoft.com/en-us/graph/api/resources/message),
with `$select`, and the MIME (`/$value`) of messages created through the API.
Messages in Sent Items have no `internetMessageHeaders` (null), as on Exchange.

Without `$select` Graph answers a default set of properties; `internetMessageHeaders`
is never in it and appears only when selected. `id` is always present, and `@removed`
entries carry only the id.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import quote

from ghostwatch.mail import mime
from ghostwatch_sandbox.microsoft.errors import bad_request
from ghostwatch_sandbox.microsoft.store import GraphMailbox, GraphMessage, Recipient

DEFAULT_PROPERTIES = (
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
)
KNOWN_PROPERTIES = frozenset({"id", "internetMessageHeaders", "uniqueBody", *DEFAULT_PROPERTIES})
PREVIEW_CHARS = 255
EXTENDED = "singleValueExtendedProperties:"
INTERNET_HEADERS = "{00020386-0000-0000-c000-000000000046}"
"""PS_INTERNET_HEADERS (MS-OXPROPS): Exchange keeps each custom x- header as a named
string property in this set, readable as `String {…} Name X-Header`."""
_EXPAND = re.compile(r"singleValueExtendedProperties\(\$filter=(?P<filter>.+)\)", re.IGNORECASE)
_EXPAND_ID = re.compile(r"id\s+eq\s+'([^']+)'", re.IGNORECASE)


def selected(select: str | None, expand: str | None = None) -> tuple[str, ...]:
    """The properties a `$select` names (400 for unknown ones), or the default set; then
    the extended properties an `$expand` asks for, as one pseudo-name."""
    return _selected(select) + _expanded(expand)


def _expanded(expand: str | None) -> tuple[str, ...]:
    """`singleValueExtendedProperties($filter=id eq '…' [or id eq '…'])`, the one expand
    emulated (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get)."""
    if not expand:
        return ()
    match = _EXPAND.fullmatch(expand.strip())
    if match is None:
        raise bad_request(f"Unsupported $expand: {expand}", "RequestBroker--ParseUri")
    ids = [i.lower() for i in _EXPAND_ID.findall(match["filter"])]
    return (EXTENDED + "|".join(ids),)


def _selected(select: str | None) -> tuple[str, ...]:
    if not select:
        return DEFAULT_PROPERTIES
    names = tuple(dict.fromkeys(n.strip() for n in select.split(",") if n.strip()))
    unknown = [n for n in names if n not in KNOWN_PROPERTIES]
    if unknown:
        raise bad_request(
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.message'.",
            "RequestBroker--ParseUri",
        )
    return names


def timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipient(person: Recipient) -> dict[str, Any]:
    return {"emailAddress": {"name": person.name, "address": person.address}}


def message_json(
    box: GraphMailbox, message: GraphMessage, select: tuple[str, ...], immutable: bool
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "@odata.etag": f'W/"{_change_key(message)}"',
        "id": message.id_for(immutable),
    }
    for name in select:
        if name.startswith(EXTENDED):
            found = _extended(message, name.removeprefix(EXTENDED).split("|"))
            if found:  # Graph leaves the collection out when nothing matches
                value["singleValueExtendedProperties"] = found
        elif name != "id":
            value[name] = _property(box, message, name)
    return value


def _extended(message: GraphMessage, wanted: list[str]) -> list[dict[str, str]]:
    """The message's custom internet headers, as the named properties Exchange keeps,
    and the extended properties a client set."""
    found = []
    for name, header in message.headers:
        prop = f"String {INTERNET_HEADERS} Name {name}"
        if name.lower().startswith("x-") and prop.lower() in wanted:
            found.append({"id": prop, "value": header})
    for key, (prop, value) in message.properties.items():
        if key in wanted:
            found.append({"id": prop, "value": value})
    return found


def _change_key(message: GraphMessage) -> str:
    return f"CQAAABYAAA{message.serial:08d}{message.version:04d}"


def _property(box: GraphMailbox, message: GraphMessage, name: str) -> Any:
    if name in ("body", "uniqueBody"):
        content, content_type = body_of(message)
        return {"contentType": content_type, "content": content}
    if name == "bodyPreview":
        return " ".join(_text(message).split())[:PREVIEW_CHARS]
    if name in ("sender", "from"):
        return recipient(message.sender) if message.sender else None
    if name in _RECIPIENTS:
        return [recipient(p) for p in getattr(message, _RECIPIENTS[name])]
    if name == "internetMessageHeaders":
        # The copy in Sent Items never went through transport: Exchange keeps no
        # internet headers for it (microsoftgraph/microsoft-graph-docs#12726, #4436).
        if message.folder == "sentitems":
            return None
        shown = [(k, v) for k, v in message.headers
                 if not (box.leeway.bare_headers and k.lower() in _ADDRESSING)]  # fmt: skip
        return [{"name": k, "value": v} for k, v in shown]
    if name == "parentFolderId":
        return box.folder_id(message.folder or "deleteditems")
    if name in ("createdDateTime", "lastModifiedDateTime", "receivedDateTime"):
        return timestamp(message.received)
    if name == "sentDateTime":
        return timestamp(message.sent) if message.sent else None
    return _plain(message)[name]


_ADDRESSING = frozenset({"from", "sender", "to", "cc", "message-id"})
"""What a header block may lack (`Leeway.bare_headers`)."""
_RECIPIENTS = {"toRecipients": "to", "ccRecipients": "cc", "bccRecipients": "bcc"}


def _plain(message: GraphMessage) -> dict[str, Any]:
    return {
        "changeKey": _change_key(message),
        "categories": list(message.categories),
        "hasAttachments": False,
        "internetMessageId": message.internet_message_id,
        "subject": message.subject,
        "importance": "normal",
        "conversationId": message.conversation_id,
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": message.is_read,
        "isDraft": message.is_draft,
        # As Graph answers it (resources/message: "the URL to open the message in Outlook
        # on the web"): the REST id, URL-encoded, and OWA's read-view parameters.
        "webLink": (
            f"https://outlook.office365.com/owa/?ItemID={quote(message.rest_id, safe='')}"
            "&exvsurl=1&viewmodel=ReadMessageItem"
        ),
        "inferenceClassification": "focused",
        "replyTo": [],
        "flag": {"flagStatus": "notFlagged"},
    }


def body_of(message: GraphMessage) -> tuple[str, str]:
    """(content, "text" | "html"): as the API set it, or the seeded MIME's text."""
    if message.raw is not None and not message.body:
        tree = BytesParser(policy=compat32).parsebytes(message.raw)
        return mime.extract_content(tree).text, "text"
    return message.body, "html" if message.body_type == "html" else "text"


def _text(message: GraphMessage) -> str:
    content, content_type = body_of(message)
    return html.unescape(content) if content_type == "html" else content


def mime_of(message: GraphMessage) -> bytes:
    """The message's MIME: as seeded, or built from what the API was given."""
    if message.raw is not None:
        return message.raw
    mime = EmailMessage()
    standard = {"from", "to", "cc", "subject", "date", "message-id", "mime-version"}
    for name, value in message.headers:
        if name.lower() not in standard and not name.lower().startswith("content-"):
            mime[name] = value
    if message.sender:
        mime["From"] = formataddr((message.sender.name, message.sender.address))
    for field, people in (("To", message.to), ("Cc", message.cc)):
        if people:
            mime[field] = ", ".join(formataddr((p.name, p.address)) for p in people)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(message.sent or message.received)
    mime["Message-ID"] = message.internet_message_id
    subtype = "html" if message.body_type == "html" else "plain"
    mime.set_content(message.body, subtype=subtype)
    return bytes(mime)
