"""Which call a Graph URL names: `/v1.0/me/…` or `/v1.0/users/{id | upn}/…`.

Graph writes entity keys in links both as segments (`mailFolders/inbox`) and in OData
key syntax (`mailFolders('inbox')`); both are accepted. Send endpoints are routed so the
sandbox can refuse and record them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_MAILBOX = re.compile(r"^/v1\.0/(?:(?P<me>me)|users/(?P<user>[^/]+))(?:/(?P<rest>.*))?$")
_KEY = re.compile(r"(?P<name>[A-Za-z]+)\('(?P<key>[^']*)'\)")
SEND = "send"
"""The name every refused send endpoint is metered and logged under."""

_DELTA = r"delta(?:\(\))?"
"""`delta` or, as OData function-call syntax writes it, `delta()`."""
_ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"", "user.get"),
    ("GET", rf"mailFolders/{_DELTA}", "mailFolders.delta"),
    ("GET", r"mailFolders", "mailFolders.list"),
    ("POST", r"mailFolders", "mailFolders.create"),
    ("GET", r"mailFolders/(?P<folder>[^/]+)", "mailFolders.get"),
    ("DELETE", r"mailFolders/(?P<folder>[^/]+)", "mailFolders.delete"),
    ("GET", r"mailFolders/(?P<folder>[^/]+)/childFolders", "mailFolders.childFolders"),
    ("POST", r"mailFolders/(?P<folder>[^/]+)/childFolders", "mailFolders.create"),
    ("POST", r"mailFolders/(?P<folder>[^/]+)/move", "mailFolders.move"),
    ("POST", r"mailFolders/(?P<folder>[^/]+)/permanentDelete", "mailFolders.permanentDelete"),
    ("GET", rf"mailFolders/(?P<folder>[^/]+)/messages/{_DELTA}", "messages.delta"),
    ("GET", r"mailFolders/(?P<folder>[^/]+)/messages", "messages.list"),
    ("POST", r"mailFolders/(?P<folder>[^/]+)/messages", "messages.create"),
    ("GET", r"messages", "messages.list"),
    ("POST", r"messages", "messages.create"),
    ("GET", r"messages/(?P<id>[^/]+)", "messages.get"),
    ("PATCH", r"messages/(?P<id>[^/]+)", "messages.update"),
    ("DELETE", r"messages/(?P<id>[^/]+)", "messages.delete"),
    ("GET", r"messages/(?P<id>[^/]+)/\$value", "messages.getMime"),
    ("POST", r"messages/(?P<id>[^/]+)/createReply(?:All)?", "messages.createReply"),
    ("POST", r"messages/(?P<id>[^/]+)/move", "messages.move"),
    ("POST", r"messages/(?P<id>[^/]+)/(?:send|reply|replyAll|forward)", SEND),
    ("POST", r"sendMail", SEND),
    ("GET", r"(?:calendar/)?calendarView/delta", "calendarView.delta"),
    ("GET", r"onlineMeetings", "onlineMeetings.list"),
    ("GET", r"onlineMeetings/(?P<meeting>[^/]+)/attendanceReports", "attendanceReports.list"),
    (
        "GET",
        r"onlineMeetings/(?P<meeting>[^/]+)/attendanceReports/(?P<report>[^/]+)/attendanceRecords",
        "attendanceRecords.list",
    ),
]
_COMPILED = [(method, re.compile(f"^{pattern}$"), name) for method, pattern, name in _ROUTES]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    mailbox: str
    """"me" or the id/UPN of `/users/{…}`."""
    args: dict[str, str]


def route(method: str, path: str) -> Route | None:
    match = _MAILBOX.match(unquote(path))
    if match is None:
        return None
    rest = _KEY.sub(lambda m: f"{m['name']}/{m['key']}", match["rest"] or "")
    for wanted, pattern, name in _COMPILED:
        if wanted == method and (found := pattern.match(rest)):
            return Route(name, "me" if match["me"] else match["user"], found.groupdict())
    return None
