"""Delta queries (https://learn.microsoft.com/en-us/graph/delta-query-overview) for
messages in one folder (https://learn.microsoft.com/en-us/graph/api/message-delta).

A round starts without a token (all messages of the folder) or from a `$deltatoken`
(what changed since that round ended) and is served in pages: every page but the last
carries `@odata.nextLink` (`$skiptoken`), the last `@odata.deltaLink`. `$select` is
given on the first call only and travels inside the links, as does the one filter delta
takes, `receivedDateTime ge <time>` (removals are reported whatever the date). Page
size is 10 unless `Prefer: odata.maxpagesize=N` asks otherwise (capped at `MAX_PAGE`),
and the answer says what it applied in `Preference-Applied`. Pages are cut by key (the
seq of the change, then the message) so a change during a round never shifts a message
out of it: it shows up in the next round instead. A token from a round the mailbox no longer
remembers answers 410 Gone with `syncStateNotFound` (docs/providers.md): resync.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ghostwatch_sandbox.microsoft.errors import GraphError, answer, bad_request
from ghostwatch_sandbox.microsoft.render import message_json, selected
from ghostwatch_sandbox.microsoft.store import GraphMailbox, GraphMessage
from ghostwatch_sandbox.server import Request, Response

DEFAULT_PAGE = 10
MAX_PAGE = 1000
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)
_RECEIVED = re.compile(r"receivedDateTime\s+(?:ge|gt)\s+(?P<when>\S+)", re.IGNORECASE)
_IMMUTABLE = re.compile(r'IdType\s*=\s*"?ImmutableId"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Round:
    scope: str
    """What the token is for: a folder key, or a calendar window."""
    since: int
    upto: int
    initial: bool
    select: str
    after: tuple[int, int] = (0, 0)
    """The (seq, serial) key of the last item served."""
    received_from: str = ""
    """`$filter=receivedDateTime ge …` of the first call (ISO time; "" for none)."""
    expand: str = ""
    """`$expand` of the first call (extended properties), carried like `$select`."""


def encode(value: Round) -> str:
    data = json.dumps([value.scope, value.since, value.upto, value.initial, value.select,
                       list(value.after), value.received_from, value.expand])  # fmt: skip
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode(token: str) -> Round:
    try:
        padded = token + "=" * (-len(token) % 4)
        scope, since, upto, initial, select, after, received, expand = json.loads(
            base64.urlsafe_b64decode(padded)
        )
        return Round(str(scope), int(since), int(upto), bool(initial), str(select),
                     (int(after[0]), int(after[1])), str(received), str(expand))  # fmt: skip
    except (ValueError, TypeError, UnicodeDecodeError):
        raise bad_request("The delta or skip token is malformed.", "BadRequest") from None


def prefers(request: Request) -> list[str]:
    return [p.strip() for p in request.headers.get("prefer", "").split(",") if p.strip()]


def page_size(request: Request) -> int:
    for preference in prefers(request):
        if match := _MAXPAGESIZE.fullmatch(preference):
            return max(1, min(int(match[1]), MAX_PAGE))
    return DEFAULT_PAGE


def immutable_ids(request: Request) -> bool:
    return any(_IMMUTABLE.fullmatch(p) for p in prefers(request))


def received_filter(text: str | None) -> str:
    """The one filter message delta takes: `receivedDateTime ge|gt <time>` (ISO, UTC)."""
    if not text:
        return ""
    match = _RECEIVED.fullmatch(text.strip())
    if match is None:
        raise bad_request(f"Unsupported filter on delta: {text}", "ErrorInvalidUrlQueryFilter")
    try:
        when = datetime.fromisoformat(match["when"].replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid time in filter: {text}", "ErrorInvalidUrlQueryFilter") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def gone() -> GraphError:
    return GraphError(410, "syncStateNotFound", "The sync state generation is no longer available.")


def start_round(
    request: Request,
    scope: str,
    box_seq: int,
    oldest: int,
    expired: Callable[[], GraphError] = gone,
) -> Round:
    """The round a request asks for: fresh, continued from a delta token, or a page."""
    skip, delta = request.param("$skiptoken"), request.param("$deltatoken")
    if skip is not None:
        found = decode(skip)
    elif delta is not None:
        last = decode(delta)
        found = replace(last, since=last.upto, upto=box_seq, initial=False, after=(0, 0))
    else:
        received = received_filter(request.param("$filter"))
        expand = request.param("$expand") or ""
        found = Round(scope, 0, box_seq, True, request.param("$select") or "", (0, 0), received,
                      expand)  # fmt: skip
    if found.scope != scope:
        raise bad_request("The token belongs to another folder or window.", "BadRequest")
    if not found.initial and found.since < oldest:
        raise expired()
    return found


def page_answer(
    request: Request, current: Round, items: list[tuple[tuple[int, int], dict[str, Any]]]
) -> Response:
    """One page of (key, json) items already past `current.after`, sorted by key."""
    size = page_size(request)
    chunk, more = items[:size], len(items) > size
    base = f"http://{request.headers.get('host', 'localhost')}{request.path}"
    body: dict[str, Any] = {"@odata.context": f"{base}/$metadata", "value": [v for _, v in chunk]}
    if more:
        after = replace(current, after=chunk[-1][0])
        body["@odata.nextLink"] = f"{base}?$skiptoken={encode(after)}"
    else:
        done = replace(current, initial=False, after=(0, 0))
        body["@odata.deltaLink"] = f"{base}?$deltatoken={encode(done)}"
    return answer(200, body, {"Preference-Applied": f"odata.maxpagesize={size}"})


def message_delta(box: GraphMailbox, folder: str, request: Request) -> Response:
    current = start_round(request, folder, box.seq, box.oldest_seq, box.leeway.expired)
    select = selected(current.select, current.expand)
    immutable = immutable_ids(request)
    keyed = sorted(
        ((message.touched[folder], message.serial), message)
        for message in box.messages.values()
        if _in_round(message, folder, current)
    )
    items = [(key, _entry(box, m, folder, select, immutable, current.initial)) for key, m in keyed]
    return page_answer(request, current, items)


def _in_round(message: GraphMessage, folder: str, current: Round) -> bool:
    seq = message.touched.get(folder)
    if seq is None or not current.since < seq <= current.upto:
        return False
    if _too_old(message, folder, current):
        return False
    if (seq, message.serial) <= current.after:
        return False
    return not current.initial or message.folder == folder


def _too_old(message: GraphMessage, folder: str, current: Round) -> bool:
    if not current.received_from or message.folder != folder:
        return False
    return message.received < datetime.fromisoformat(current.received_from)


def _entry(
    box: GraphMailbox,
    message: GraphMessage,
    folder: str,
    select: tuple[str, ...],
    imm: bool,
    initial: bool,
) -> dict[str, Any]:
    if message.folder != folder:
        return {"id": message.id_for(imm), "@removed": {"reason": "deleted"}}
    if message.flag_change_only and not initial:
        # Exchange answers a read-state change with a slim item whatever $select asked
        # (microsoftgraph/microsoft-graph-docs#7776): clients must keep what they had.
        slim = ("isRead", "parentFolderId")
        return message_json(box, message, slim, imm)
    return message_json(box, message, select, imm)
