"""Gmail's JSON shapes for messages, threads, drafts and history records.

`format` (https://developers.google.com/gmail/api/reference/rest/v1/Format):
`minimal` — ids, labels, snippet, sizes, dates; `metadata` — plus `payload.headers`
(only `metadataHeaders`, when given); `full` — the parsed MIME tree as `payload`
(`partId`, `mimeType`, `filename`, `headers`, `body {size, data}`, `parts`);
`raw` — the whole message as base64url in `raw`, no `payload`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from email.message import Message as MimeMessage
from typing import Any

from ghostwatch_sandbox.google.mailbox import Change, Label
from ghostwatch_sandbox.google.message import Stored, headers_of
from ghostwatch_sandbox.server import bad_request

FORMATS = ("minimal", "metadata", "full", "raw")
_HISTORY_FIELDS = {
    "messageAdded": "messagesAdded",
    "messageDeleted": "messagesDeleted",
    "labelAdded": "labelsAdded",
    "labelRemoved": "labelsRemoved",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding (clients send both)."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad_request("Invalid value for ByteString: raw") from None


def check_format(value: str | None, allowed: Sequence[str] = FORMATS) -> str:
    """`format` (default full); threads.get has no `raw` format."""
    chosen = value or "full"
    if chosen not in allowed:
        raise bad_request(f"Invalid value at 'format' ({chosen!r})")
    return chosen


def _body(part: MimeMessage) -> dict[str, Any]:
    if part.is_multipart():
        return {"size": 0}
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return {"size": len(data), "data": b64url(data)} if data else {"size": 0}


def _part(part: MimeMessage, part_id: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": [{"name": k, "value": v} for k, v in headers_of(part)],
        "body": _body(part),
    }
    children = part.get_payload() if part.is_multipart() else None
    if isinstance(children, list):
        prefix = f"{part_id}." if part_id else ""
        node["parts"] = [_part(child, f"{prefix}{i}") for i, child in enumerate(children)]
    return node


def _metadata(stored: Stored, wanted: Sequence[str]) -> dict[str, Any]:
    names = {name.lower() for name in wanted}
    headers = [
        {"name": k, "value": v} for k, v in stored.headers if not names or k.lower() in names
    ]
    content_type = stored.header("Content-Type").split(";")[0].strip().lower()
    return {"partId": "", "mimeType": content_type or "text/plain", "headers": headers}


def message(stored: Stored, fmt: str = "full", wanted: Sequence[str] = ()) -> dict[str, Any]:
    """A Message resource in the requested format."""
    result: dict[str, Any] = {
        "id": stored.id,
        "threadId": stored.thread_id,
        "labelIds": list(stored.labels),
        "snippet": stored.snippet,
        "sizeEstimate": len(stored.raw),
        "historyId": str(stored.history_id),
        "internalDate": str(stored.internal_date),
    }
    if fmt == "metadata":
        result["payload"] = _metadata(stored, wanted)
    elif fmt == "full":
        result["payload"] = _part(stored.tree(), "")
    elif fmt == "raw":
        result["raw"] = b64url(stored.raw)
    return result


def thread(messages: Sequence[Stored], fmt: str, wanted: Sequence[str] = ()) -> dict[str, Any]:
    latest = max(m.history_id for m in messages)
    return {
        "id": messages[0].thread_id,
        "historyId": str(latest),
        "messages": [message(m, fmt, wanted) for m in messages],
    }


def thread_summary(messages: Sequence[Stored]) -> dict[str, Any]:
    """threads.list items: id, the latest message's snippet, historyId."""
    return {
        "id": messages[0].thread_id,
        "snippet": messages[-1].snippet,
        "historyId": str(max(m.history_id for m in messages)),
    }


def draft(draft_id: str, stored: Stored, fmt: str | None = None) -> dict[str, Any]:
    """A Draft; create/update answer `{id, message: {id, threadId, labelIds}}`."""
    body = message(stored, fmt) if fmt else stored.brief()
    return {"id": draft_id, "message": body}


def history_record(change: Change) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": change.message}
    if change.kind in ("labelAdded", "labelRemoved"):
        entry["labelIds"] = list(change.label_ids)
    return {
        "id": str(change.id),
        "messages": [{"id": change.message["id"], "threadId": change.message["threadId"]}],
        _HISTORY_FIELDS[change.kind]: [entry],
    }


def label(item: Label, counts: tuple[int, int, int, int] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": item.id, "name": item.name, "type": item.type}
    if item.type == "user":
        result["messageListVisibility"] = "show"
        result["labelListVisibility"] = "labelShow"
    if counts is not None:
        total, unread, threads, threads_unread = counts
        result.update(
            messagesTotal=total,
            messagesUnread=unread,
            threadsTotal=threads,
            threadsUnread=threads_unread,
        )
    return result
