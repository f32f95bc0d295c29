"""Batch requests: `multipart/mixed` of `application/http` parts
(https://developers.google.com/gmail/api/guides/batch).

Each part is dispatched and charged as its own call; at most 100 parts. The answer is
`multipart/mixed` with the parts in request order, each `Content-Type:
application/http` and `Content-ID: <response-ID>` for the request's `<ID>`, and CRLF
CRLF between the inner headers and body (googleapiclient's
`BatchHttpRequest._deserialize_response` splits on it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from email.message import Message as MimeMessage
from email.parser import BytesParser, Parser
from email.policy import compat32
from http import HTTPStatus

from ghostwatch_sandbox.server import ApiError, Request, Response, bad_request

MAX_PARTS = 100
Dispatch = Callable[[Request], Response]


def _parts(request: Request) -> list[MimeMessage]:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/mixed"):
        raise bad_request("Batch requests must be multipart/mixed", "badContent")
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    outer = BytesParser(policy=compat32).parsebytes(head + request.body)
    parts = outer.get_payload()
    if not outer.is_multipart() or not isinstance(parts, list) or not parts:
        raise bad_request("Invalid batch request: no parts", "badContent")
    if len(parts) > MAX_PARTS:
        raise bad_request(f"A batch request cannot contain more than {MAX_PARTS} requests.")
    return [part for part in parts if isinstance(part, MimeMessage)]


def _inner(part: MimeMessage, outer: Request) -> Request:
    """The HTTP request an `application/http` part carries."""
    payload = part.get_payload()
    text = payload if isinstance(payload, str) else ""
    status_line, _, rest = text.lstrip("\r\n").partition("\n")
    method, target, *_ = status_line.split() or ["GET", "/"]
    message = Parser(policy=compat32).parsestr(rest)
    headers = {k.lower(): str(v) for k, v in message.items()}
    if "authorization" not in headers and "authorization" in outer.headers:
        headers["authorization"] = outer.headers["authorization"]
    body = message.get_payload()
    raw = body.encode() if isinstance(body, str) else b""
    return Request.build(method, target, headers, raw)


def _answer(content_id: str, response: Response) -> str:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    inner_headers = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
    inner = f"HTTP/1.1 {response.status} {reason}\r\n{inner_headers}\r\n"
    ident = content_id.strip().removeprefix("<").removesuffix(">")
    return (
        "Content-Type: application/http\r\n"
        f"Content-ID: <response-{ident}>\r\n\r\n"
        f"{inner}{response.body.decode('utf-8', 'replace')}\r\n"
    )


def handle(request: Request, dispatch: Dispatch) -> Response:
    try:
        parts = _parts(request)
    except ApiError as error:
        return error.response()
    boundary = f"batch_{secrets.token_urlsafe(12)}"
    chunks: list[str] = []
    mangle: str | None = None
    for part in parts:
        response = dispatch(_inner(part, request))
        mangle = mangle or response.mangle
        chunks.append(f"--{boundary}\r\n" + _answer(str(part.get("Content-ID", "")), response))
    chunks.append(f"--{boundary}--\r\n")
    body = "".join(chunks).encode()
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    return Response(200, body, headers, mangle)
