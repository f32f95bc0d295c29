"""`Message` headers ↔ JSON for the `message_headers` table.

Only what `Message` holds is written: addresses, subject, dates, ids and the signal
headers the classifier reads. `content` (bodies) is never written (docs/architecture.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ghostwatch.model.mail import Address, Folder, Mark, Message


def _addresses(values: tuple[Address, ...]) -> list[list[str]]:
    return [[a.email, a.name] for a in values]


def _parse_addresses(values: list[list[str]]) -> tuple[Address, ...]:
    return tuple(Address(email, name) for email, name in values)


def header_data(message: Message) -> dict[str, Any]:
    data = {
        "folder": message.folder.value,
        "sender": None if message.sender is None else [message.sender.email, message.sender.name],
        "to": _addresses(message.to),
        "cc": _addresses(message.cc),
        "bcc": _addresses(message.bcc),
        "subject": message.subject,
        "date": None if message.date is None else message.date.isoformat(),
        "offset": message.utc_offset_minutes,
        "message_id": message.message_id,
        "in_reply_to": list(message.in_reply_to),
        "references": list(message.references),
        "thread_id": message.thread_id,
        "headers": [list(pair) for pair in message.headers],
    }
    if message.place is not None:  # only where a provider files it (Outlook's OTHER)
        data["place"] = message.place
    if message.marks:  # only where the user marked it in their mail client
        data["marks"] = [str(mark) for mark in message.marks]
    return data


def message_from_data(key: str, data: dict[str, Any]) -> Message:
    sender = data["sender"]
    return Message(
        key=key,
        folder=Folder(data["folder"]),
        sender=None if sender is None else Address(sender[0], sender[1]),
        to=_parse_addresses(data["to"]),
        cc=_parse_addresses(data["cc"]),
        bcc=_parse_addresses(data["bcc"]),
        subject=data["subject"],
        date=None if data["date"] is None else datetime.fromisoformat(data["date"]),
        utc_offset_minutes=data["offset"],
        message_id=data["message_id"],
        in_reply_to=tuple(data["in_reply_to"]),
        references=tuple(data["references"]),
        thread_id=data["thread_id"],
        headers=tuple((name, value) for name, value in data["headers"]),
        place=data.get("place"),
        marks=tuple(Mark(mark) for mark in data.get("marks", ())),
    )
