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


def units(method: str) -> int:
    return UNITS.get(method, DEFAULT_UNITS)
