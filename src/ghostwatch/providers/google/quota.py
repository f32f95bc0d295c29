"""Gmail's quota units per method: what ghostwatch's metrics count and the sandbox charges.

Gmail's published table (https://developers.google.com/gmail/api/reference/quota):
15,000 units per user per minute by default; going over answers `userRateLimitExceeded`.
"""

from __future__ import annotations

UNITS: dict[str, int] = {
    "getProfile": 1,
    "labels.list": 1,
    "labels.get": 1,
    "history.list": 2,
    "messages.list": 5,
    "messages.get": 5,
    "messages.modify": 5,
    "messages.trash": 5,
    "messages.untrash": 5,
    "messages.attachments.get": 5,
    "messages.delete": 10,
    "messages.insert": 25,
    "messages.send": 100,
    "drafts.create": 10,
    "drafts.update": 15,
    "drafts.get": 5,
    "drafts.list": 5,
    "drafts.delete": 10,
    "drafts.send": 100,
    "threads.list": 10,
    "threads.get": 10,
}


DEFAULT_UNITS = 5
GMAIL_METHOD = "gmail.users."
"""How google-api-python-client names a Gmail method (`HttpRequest.methodId`)."""


def units(method: str) -> int:
    return UNITS.get(method, DEFAULT_UNITS)


def request_units(method_id: str) -> int:
    """Units of a built request, by its `methodId` (`gmail.users.messages.get`);
    Calendar and Meet count requests, one each, against quotas of their own."""
    if method_id.startswith(GMAIL_METHOD):
        return units(method_id.removeprefix(GMAIL_METHOD))
    return 1
