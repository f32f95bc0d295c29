"""JSON batching (https://learn.microsoft.com/en-us/graph/json-batching).

`POST /v1.0/$batch` with `{"requests": [{"id", "method", "url", "headers"?, "body"?,
"dependsOn"?}]}`: at most 20 requests; `url` is relative to the version root; a request
with a body must say its Content-Type. The answer is 200 whatever the parts did:
`{"responses": [{"id", "status", "headers", "body"}]}`, in any order (the sandbox
shuffles them, as Graph may). `dependsOn` runs a request after the ones it names; if
one of those failed, the request is not run and answers 424 Failed Dependency. A JSON
body travels as JSON; any other body (a message's MIME) as base64, as Graph sends it,
or, with `plain_text`, a text/* body as a plain string (OData JSON Format v4.01 §19.2,
which the reference allows: `leeway.py`).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

from ghostwatch_sandbox.microsoft.errors import GraphError, answer, bad_request, json_body
from ghostwatch_sandbox.server import ApiError, Request, Response

MAX_REQUESTS = 20
Dispatch = Callable[[Request], Response]


def _parts(request: Request) -> list[dict[str, Any]]:
    parts = json_body(request).get("requests")
    if not isinstance(parts, list) or not parts:
        raise bad_request("Invalid batch payload format.", "BadRequest")
    if len(parts) > MAX_REQUESTS:
        raise bad_request(
            f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.", "BadRequest"
        )
    ids = [str(p.get("id", "")) if isinstance(p, dict) else "" for p in parts]
    if "" in ids or len(set(ids)) != len(ids):
        raise bad_request("Every batch request needs a unique id.", "BadRequest")
    return [p for p in parts if isinstance(p, dict)]


def _inner(part: dict[str, Any], outer: Request) -> Request:
    headers = {str(k).lower(): str(v) for k, v in (part.get("headers") or {}).items()}
    for name in ("authorization", "host"):
        if name in outer.headers:
            headers.setdefault(name, outer.headers[name])
    body = b""
    if "body" in part:
        if "content-type" not in headers:
            raise bad_request("Content-Type header must be specified for a body.", "BadRequest")
        body = json.dumps(part["body"]).encode()
    url = str(part.get("url", ""))
    target = url if url.startswith("/v1.0/") else "/v1.0/" + url.lstrip("/")
    return Request.build(str(part.get("method", "GET")), target, headers, body)


def _part_answer(part_id: str, response: Response, plain_text: bool) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", "")
    body: Any = None
    if response.body:
        if content_type.startswith("application/json"):
            body = json.loads(response.body)
        elif plain_text and content_type.startswith("text/"):
            body = response.body.decode("utf-8", "replace")
        else:
            body = base64.b64encode(response.body).decode("ascii")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    found: dict[str, Any] = {"id": part_id, "status": response.status, "headers": headers}
    if body is not None:
        found["body"] = body
    return found


def _order(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Requests in an order where every dependency runs first (400 on a cycle or typo)."""
    by_id = {str(p["id"]): p for p in parts}
    done: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(part_id: str, path: tuple[str, ...]) -> None:
        if part_id in seen:
            return
        if part_id in path or part_id not in by_id:
            raise bad_request(f"Invalid dependsOn reference: {part_id}", "BadRequest")
        for before in by_id[part_id].get("dependsOn") or []:
            visit(str(before), (*path, part_id))
        seen.add(part_id)
        done.append(by_id[part_id])

    for part_id in by_id:
        visit(part_id, ())
    return done


def handle(
    request: Request, dispatch: Dispatch, shuffle: random.Random, plain_text: bool = False
) -> Response:
    try:
        parts = _order(_parts(request))
    except ApiError as error:
        return error.response()
    status: dict[str, int] = {}
    answers = []
    broken = False
    for part in parts:
        part_id = str(part["id"])
        response = _run(part, request, dispatch, status)
        status[part_id] = response.status
        try:
            answers.append(_part_answer(part_id, response, plain_text))
        except ValueError:
            broken = True  # a part cut on the wire: inside one JSON body, so is the batch
        broken = broken or response.mangle is not None
    shuffle.shuffle(answers)
    envelope = answer(200, {"responses": answers})
    if broken:
        envelope.mangle = "truncate"
    return envelope


def _run(
    part: dict[str, Any], outer: Request, dispatch: Dispatch, status: dict[str, int]
) -> Response:
    if any(status.get(str(d), 200) >= 400 for d in part.get("dependsOn") or []):
        return GraphError(424, "FailedDependency", "A request it depends on failed.").response()
    try:
        inner = _inner(part, outer)
    except ApiError as error:
        return error.response()
    return dispatch(inner)
