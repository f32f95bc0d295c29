"""Gmail API v1 handlers: paths, parameters and bodies as the public reference gives them
(https://developers.google.com/gmail/api/reference/rest), on one `Mailbox`.

Each route names the method as the reference does (`messages.list`), which is also
the key for quota units, the meter and faults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ghostwatch_sandbox.google import render
from ghostwatch_sandbox.google.mailbox import Mailbox
from ghostwatch_sandbox.google.message import Stored
from ghostwatch_sandbox.google.query import parse_query
from ghostwatch_sandbox.google.render import b64url, unb64url
from ghostwatch_sandbox.server import ApiError, Request, Response, bad_request

_MAX_RESULTS = 500  # messages/threads/drafts/history.list: "maximum allowed value is 500"
_DEFAULT_RESULTS = 100
SEND_METHODS = frozenset({"messages.send", "drafts.send"})


@dataclass(frozen=True, slots=True)
class Call:
    box: Mailbox
    request: Request
    args: dict[str, str]
    now_ms: int
    record: Callable[[str, Sequence[str]], None]
    """Note a write in the sandbox's write log: (method, ids)."""


Handler = Callable[[Call], Response]


def page(items: Sequence[Any], request: Request) -> tuple[Sequence[Any], str | None]:
    """One page of `items` by `maxResults` (default 100, at most 500) and `pageToken`."""
    try:
        size = int(request.param("maxResults") or _DEFAULT_RESULTS)
        token = request.param("pageToken")
        start = int(unb64url(token).decode().removeprefix("o:")) if token else 0
    except (ValueError, ApiError):
        raise bad_request("Invalid pageToken or maxResults") from None
    size = max(1, min(size, _MAX_RESULTS))
    end = start + size
    return items[start:end], (b64url(f"o:{end}".encode()) if end < len(items) else None)


def _listed(
    result: dict[str, Any], key: str, items: list[Any], token: str | None, total: int
) -> Response:
    if items:
        result[key] = items
    if token:
        result["nextPageToken"] = token
    result["resultSizeEstimate"] = total
    return Response.json(200, result)


def _matching(call: Call) -> list[Stored]:
    """Messages for list calls: q, labelIds (all required), SPAM/TRASH left out unless asked."""
    request = call.request
    query = parse_query(call.box, request.param("q"), call.now_ms)
    label_ids = request.params("labelIds")
    hidden = set() if request.flag("includeSpamTrash") or query.spam_trash else {"SPAM", "TRASH"}
    hidden -= set(label_ids)
    found = [
        m
        for m in call.box.messages.values()
        if all(label in m.labels for label in label_ids)
        and not hidden.intersection(m.labels)
        and query(m)
    ]
    return sorted(found, key=lambda m: (m.internal_date, m.id), reverse=True)


def get_profile(call: Call) -> Response:
    box = call.box
    return Response.json(
        200,
        {
            "emailAddress": box.user,
            "messagesTotal": len(box.messages),
            "threadsTotal": len({m.thread_id for m in box.messages.values()}),
            "historyId": str(box.history_id),
        },
    )


def messages_list(call: Call) -> Response:
    found = _matching(call)
    chunk, token = page(found, call.request)
    items = [{"id": m.id, "threadId": m.thread_id} for m in chunk]
    return _listed({}, "messages", items, token, len(found))


def messages_get(call: Call) -> Response:
    stored = call.box.get(call.args["id"])
    fmt = render.check_format(call.request.param("format"))
    wanted = call.request.params("metadataHeaders")
    return Response.json(200, render.message(stored, fmt, wanted))


def messages_modify(call: Call) -> Response:
    body = call.request.json()
    add, remove = body.get("addLabelIds") or [], body.get("removeLabelIds") or []
    stored = call.box.modify(call.args["id"], list(add), list(remove))
    call.record("messages.modify", [stored.id])
    return Response.json(200, stored.brief())


def _raw(body: dict[str, Any]) -> bytes:
    raw = body.get("raw")
    if not isinstance(raw, str) or not raw:
        raise bad_request(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
        )
    return unb64url(raw)


def messages_insert(call: Call) -> Response:
    """Like IMAP APPEND: the message gets the labels the request names, and no others
    (users.messages.insert: "directly inserts a message into only this user's mailbox
    similar to IMAP APPEND ... Does not send a message"; docs/providers.md). A message From
    the user is not made SENT: only one the user sent is."""
    body = call.request.json()
    raw = _raw(body)
    labels = list(dict.fromkeys(body.get("labelIds") or []))
    by_date = call.request.param("internalDateSource") == "dateHeader"
    stored = call.box.add(raw, labels, body.get("threadId"), None if by_date else call.now_ms)
    call.record("messages.insert", [stored.id])
    return Response.json(200, stored.brief())


def threads_list(call: Call) -> Response:
    found = _matching(call)
    thread_ids = list(dict.fromkeys(m.thread_id for m in found))
    chunk, token = page(thread_ids, call.request)
    items = [render.thread_summary(call.box.thread(t)) for t in chunk]
    return _listed({}, "threads", items, token, len(thread_ids))


def threads_get(call: Call) -> Response:
    messages = call.box.thread(call.args["id"])
    fmt = render.check_format(call.request.param("format"), render.FORMATS[:3])
    wanted = call.request.params("metadataHeaders")
    return Response.json(200, render.thread(messages, fmt, wanted))


def history_list(call: Call) -> Response:
    request = call.request
    start = request.param("startHistoryId")
    if not start or not start.isdigit():
        raise bad_request("Invalid startHistoryId")
    changes = call.box.changes_since(int(start))
    if kinds := request.params("historyTypes"):
        changes = [c for c in changes if c.kind in kinds]
    if label := request.param("labelId"):
        changes = [c for c in changes if label in c.label_ids or label in c.message["labelIds"]]  # type: ignore[operator]
    chunk, token = page(changes, request)
    result: dict[str, Any] = {}
    if chunk:
        result["history"] = [render.history_record(c) for c in chunk]
    if token:
        result["nextPageToken"] = token
    result["historyId"] = str(call.box.history_id)
    return Response.json(200, result)


def _draft_body(call: Call) -> tuple[bytes, str | None]:
    message = call.request.json().get("message")
    if not isinstance(message, dict):
        raise bad_request("Missing draft message")
    return _raw(message), message.get("threadId")


def drafts_create(call: Call) -> Response:
    raw, thread_id = _draft_body(call)
    draft_id = call.box.create_draft(raw, thread_id)
    call.record("drafts.create", [draft_id])
    return Response.json(200, render.draft(draft_id, call.box.draft(draft_id)))


def drafts_update(call: Call) -> Response:
    raw, thread_id = _draft_body(call)
    stored = call.box.update_draft(call.args["id"], raw, thread_id)
    call.record("drafts.update", [call.args["id"]])
    return Response.json(200, render.draft(call.args["id"], stored))


def drafts_get(call: Call) -> Response:
    stored = call.box.draft(call.args["id"])
    fmt = render.check_format(call.request.param("format"))
    return Response.json(200, render.draft(call.args["id"], stored, fmt))


def drafts_delete(call: Call) -> Response:
    call.box.delete_draft(call.args["id"])
    call.record("drafts.delete", [call.args["id"]])
    return Response.empty()


def drafts_list(call: Call) -> Response:
    query = parse_query(call.box, call.request.param("q"), call.now_ms)
    drafts = [(d, call.box.get(m)) for d, m in reversed(call.box.drafts.items())]
    drafts = [(d, m) for d, m in drafts if query(m)]
    chunk, token = page(drafts, call.request)
    items = [{"id": d, "message": {"id": m.id, "threadId": m.thread_id}} for d, m in chunk]
    return _listed({}, "drafts", items, token, len(drafts))


def labels_list(call: Call) -> Response:
    return Response.json(200, {"labels": [render.label(x) for x in call.box.labels.values()]})


def labels_create(call: Call) -> Response:
    """users.labels.create: a user label (`Label_N`), as the user makes one in Gmail;
    a name already taken is 409 (https://developers.google.com/gmail/api/reference/rest/v1/users.labels/create)."""
    name = str(call.request.json().get("name") or "").strip()
    if not name:
        raise ApiError(400, "Invalid label name", "invalidArgument")
    if any(x.name.lower() == name.lower() for x in call.box.labels.values()):
        raise ApiError(409, "Label name exists or conflicts", "failedPrecondition")
    made = call.box.user_label(name)
    call.record("labels.create", [made.id])
    return Response.json(200, render.label(made))


def labels_get(call: Call) -> Response:
    item = call.box.labels.get(call.args["id"])
    if item is None:
        raise ApiError(404, "Requested entity was not found.", "notFound")
    members = [m for m in call.box.messages.values() if item.id in m.labels]
    unread = [m for m in members if "UNREAD" in m.labels]
    counts = (
        len(members),
        len(unread),
        len({m.thread_id for m in members}),
        len({m.thread_id for m in unread}),
    )
    return Response.json(200, render.label(item, counts))


def forbidden_send(call: Call) -> Response:
    """ghostwatch never sends: both send methods are refused, and the attempt is logged."""
    raise ApiError(
        403, "Request had insufficient authentication scopes.", "insufficientPermissions"
    )


_USER = r"^(?:/upload)?/gmail/v1/users/(?P<user>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (verb, re.compile(_USER + path + "$"), name, handler)
    for verb, path, name, handler in [
        ("GET", "/profile", "getProfile", get_profile),
        ("POST", "/messages/send", "messages.send", forbidden_send),
        ("POST", "/drafts/send", "drafts.send", forbidden_send),
        ("GET", "/messages", "messages.list", messages_list),
        ("POST", "/messages", "messages.insert", messages_insert),
        ("GET", "/messages/(?P<id>[^/]+)", "messages.get", messages_get),
        ("POST", "/messages/(?P<id>[^/]+)/modify", "messages.modify", messages_modify),
        ("GET", "/threads", "threads.list", threads_list),
        ("GET", "/threads/(?P<id>[^/]+)", "threads.get", threads_get),
        ("GET", "/history", "history.list", history_list),
        ("GET", "/drafts", "drafts.list", drafts_list),
        ("POST", "/drafts", "drafts.create", drafts_create),
        ("GET", "/drafts/(?P<id>[^/]+)", "drafts.get", drafts_get),
        ("PUT", "/drafts/(?P<id>[^/]+)", "drafts.update", drafts_update),
        ("DELETE", "/drafts/(?P<id>[^/]+)", "drafts.delete", drafts_delete),
        ("GET", "/labels", "labels.list", labels_list),
        ("POST", "/labels", "labels.create", labels_create),
        ("GET", "/labels/(?P<id>[^/]+)", "labels.get", labels_get),
    ]
]


def route(method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
    for verb, pattern, name, handler in ROUTES:
        match = pattern.match(path)
        if match and verb == method:
            return name, handler, match.groupdict()
    return None
