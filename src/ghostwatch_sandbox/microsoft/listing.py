"""List messages in pages: one conversation's (`$filter=conversationId eq '…'`), those
received in a window (`receivedDateTime ge … and receivedDateTime lt …`), both in every
folder, or one folder's (no filter).

List messages (https://learn.microsoft.com/en-us/graph/api/user-list-messages and
…/mailfolder-list-messages) pages by `$top` (default 10, at most 1000) and gives
`@odata.nextLink` until the last page. A `conversationId` filter cannot be combined with
`$orderby`: Exchange answers 400 `InefficientFilter` (a sort must name the filtered
properties first: "Update to filtering and sorting in the REST API", Microsoft 365 Dev
Blog; observed with `receivedDateTime` ordering), which the sandbox answers too. Pages
are cut by the message's serial, so a page never shifts when mail arrives meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from ghostwatch_sandbox.microsoft.errors import GraphError, answer, bad_request
from ghostwatch_sandbox.microsoft.render import message_json
from ghostwatch_sandbox.microsoft.store import GraphMailbox, GraphMessage
from ghostwatch_sandbox.server import Request, Response

DEFAULT_TOP, MAX_TOP = 10, 1000
CONVERSATION = re.compile(r"^\s*conversationId\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$", re.I)
WINDOW = re.compile(
    r"^\s*receivedDateTime\s+ge\s+(?P<start>\S+)\s+and\s+receivedDateTime\s+lt\s+(?P<end>\S+)\s*$",
    re.I,
)


def conversation(box: GraphMailbox, request: Request, wanted: str) -> list[GraphMessage]:
    """The conversation's messages, in every folder."""
    if request.param("$orderby"):
        raise GraphError(400, "InefficientFilter", "The restriction or sort order is too "
                         "complex for this operation.")  # fmt: skip
    return [m for m in box.messages.values() if m.folder and m.conversation_id == wanted]


def received(box: GraphMailbox, start: str, end: str) -> list[GraphMessage]:
    """The messages received from `start` to before `end` (ISO times), in every folder."""
    try:
        first, last = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (start, end))
    except ValueError:
        raise bad_request("Invalid time in filter.", "ErrorInvalidUrlQueryFilter") from None
    return [m for m in box.messages.values() if m.folder and first <= m.received < last]


def paged(
    box: GraphMailbox,
    request: Request,
    found: Iterable[GraphMessage],
    select: tuple[str, ...],
    immutable: bool,
) -> Response:
    """One page of `found`, oldest serial first, from `$skiptoken` on."""
    top = _top(request.param("$top"))
    after = _after(request.param("$skiptoken"))
    rest = sorted((m for m in found if m.serial > after), key=lambda m: m.serial)
    page = rest[:top]
    body: dict[str, Any] = {"value": [message_json(box, m, select, immutable) for m in page]}
    if len(rest) > top:
        base = f"http://{request.headers.get('host', 'localhost')}{request.path}"
        kept = [(k, v[-1]) for k, v in request.query.items() if k != "$skiptoken"]
        query = urlencode([*kept, ("$skiptoken", str(page[-1].serial))], safe="$", quote_via=quote)
        body["@odata.nextLink"] = f"{base}?{query}"
    return answer(200, body)


def _top(text: str | None) -> int:
    if text is None:
        return DEFAULT_TOP
    if not text.isdigit() or not 1 <= int(text) <= MAX_TOP:
        raise bad_request(f"Invalid page size specified: '{text}'.", "ErrorInvalidUrlQuery")
    return int(text)


def _after(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise bad_request("The skip token is malformed.", "BadRequest")
    return int(token)
