"""Message calls: get, MIME, find, createReply, update, move, create, delete.

References (Graph v1.0): message get / `$value`
(https://learn.microsoft.com/en-us/graph/api/message-get), `createReply`
(…/message-createreply: 201, a draft in the conversation; `comment` or `message`, not
both), update (…/message-update: body, subject and recipients only while a draft),
`move` (…/message-move: 201, a new id unless immutable ids are preferred), create
(…/user-post-messages: a draft unless PR_MESSAGE_FLAGS 0x0E07 says it is not unsent,
docs/providers.md), and custom `internetMessageHeaders`: names starting with `x-`, set only
when the message is created.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr
from typing import Any

from ghostwatch_sandbox.microsoft import listing
from ghostwatch_sandbox.microsoft.delta import immutable_ids, message_delta
from ghostwatch_sandbox.microsoft.errors import answer, bad_request, json_body
from ghostwatch_sandbox.microsoft.render import message_json, mime_of, selected
from ghostwatch_sandbox.microsoft.store import (
    GraphMailbox,
    GraphMessage,
    Recipient,
    new_ids,
    opaque,
)
from ghostwatch_sandbox.server import Request, Response

MESSAGE_FLAGS = "integer 0x0e07"
"""PR_MESSAGE_FLAGS (MS-OXPROPS 2.780); MSGFLAG_READ = 0x1, MSGFLAG_UNSENT = 0x8."""
_UNSENT, _READ = 0x8, 0x1
_DRAFT_ONLY = frozenset({"subject", "body", "toRecipients", "ccRecipients", "bccRecipients"})
_FILTER = re.compile(r"^\s*internetMessageId\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$", re.I)
_QUOTED = r"'(?P<{}>(?:[^']|'')*)'"
_PROPERTY_FILTER = re.compile(
    r"^\s*singleValueExtendedProperties/any\(\s*(?P<ep>\w+)\s*:\s*(?P=ep)/id\s+eq\s+"
    + _QUOTED.format("id")
    + r"\s+and\s+(?P=ep)/value\s+eq\s+"
    + _QUOTED.format("value")
    + r"\s*\)\s*$",
    re.I,
)
"""singlevaluelegacyextendedproperty-get: `$filter=singleValueExtendedProperties/Any(ep:
ep/id eq '{id}' and ep/value eq '{value}')`."""
_STANDARD = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References")


@dataclass(frozen=True, slots=True)
class Call:
    box: GraphMailbox
    request: Request
    args: dict[str, str]
    now: datetime
    log: Callable[[str, Sequence[str]], None]

    @property
    def immutable(self) -> bool:
        return immutable_ids(self.request)

    def message(self) -> GraphMessage:
        return self.box.get(self.args["id"])

    def shown(self, message: GraphMessage, status: int = 200) -> Response:
        select = selected(self.request.param("$select"), self.request.param("$expand"))
        return answer(status, message_json(self.box, message, select, self.immutable))


def delta(call: Call) -> Response:
    return message_delta(call.box, mail_folder(call.box, call.args["folder"]), call.request)


def mail_folder(box: GraphMailbox, name_or_id: str) -> str:
    """A folder that holds messages of its own: not a search folder, whose contents the
    sandbox does not emulate (they are other folders' messages)."""
    key = box.folder_key(name_or_id)
    if box.folders[key].search is not None:
        raise bad_request("The ghostwatch sandbox does not emulate search folder contents.")
    return key


def get(call: Call) -> Response:
    return call.shown(call.message())


def get_mime(call: Call) -> Response:
    return Response(200, mime_of(call.message()), {"Content-Type": "text/plain"})


def find(call: Call) -> Response:
    """`GET messages?$filter=internetMessageId eq '<…>'`, or on a single-value extended
    property, in the whole mailbox or, as `GET
    mailFolders/{id}/messages`, in one folder
    (https://learn.microsoft.com/en-us/graph/api/mailfolder-list-messages); or, in
    pages (`listing.py`), one conversation's messages, those received in a window, or a
    folder's, unfiltered. No other filter is emulated."""
    select = selected(call.request.param("$select"), call.request.param("$expand"))
    text = call.request.param("$filter") or ""
    if "folder" not in call.args and (match := listing.CONVERSATION.match(text)) is not None:
        wanted = match["value"].replace("''", "'")
        found = listing.conversation(call.box, call.request, wanted)
        return listing.paged(call.box, call.request, found, select, call.immutable)
    if "folder" not in call.args and (match := listing.WINDOW.match(text)) is not None:
        found = listing.received(call.box, match["start"], match["end"])
        return listing.paged(call.box, call.request, found, select, call.immutable)
    if "folder" in call.args and not text:
        folder = mail_folder(call.box, call.args["folder"])
        found = [m for m in call.box.messages.values() if m.folder == folder]
        return listing.paged(call.box, call.request, found, select, call.immutable)
    found = _filtered(call.box, text)
    if "folder" in call.args:
        folder = mail_folder(call.box, call.args["folder"])
        found = [m for m in found if m.folder == folder]
    value = [message_json(call.box, m, select, call.immutable) for m in found]
    return answer(200, {"value": value})


def _filtered(box: GraphMailbox, text: str) -> list[GraphMessage]:
    if (match := _FILTER.match(text)) is not None:
        return box.by_internet_id(match["value"].replace("''", "'"))
    if (match := _PROPERTY_FILTER.match(text)) is not None:
        wanted = (match["id"].replace("''", "'").lower(), match["value"].replace("''", "'"))
        return [m for m in box.messages.values()
                if m.folder and (wanted[0] in m.properties)
                and m.properties[wanted[0]][1] == wanted[1]]  # fmt: skip
    raise bad_request(f"Invalid filter clause: {text}", "ErrorInvalidUrlQueryFilter")


def create_reply(call: Call) -> Response:
    original = call.message()
    body = json_body(call.request)
    if "comment" in body and "message" in body:
        raise bad_request("Specify either comment or message, not both.", "ErrorInvalidRequest")
    me = Recipient("", call.box.user)
    mine = original.sender is not None and original.sender.address.lower() == call.box.user
    refs = " ".join([*original.references, original.internet_message_id]).strip()
    draft = _new(call, "drafts", _reply_subject(original.subject), original.conversation_id)
    draft.sender = me
    draft.to = list(original.to if mine else [original.sender] if original.sender else [])
    draft.headers = [("In-Reply-To", original.internet_message_id), ("References", refs)]
    draft.body = str(body.get("comment", ""))
    given = dict(body.get("message") or {})
    if call.box.leeway.reply_drops_custom_headers:
        given.pop("internetMessageHeaders", None)
    _apply(draft, given, creating=True)
    call.box.add(draft)
    call.log("messages.createReply", [draft.immutable_id])
    return call.shown(draft, 201)


def _reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"RE: {subject}"


def update(call: Call) -> Response:
    message = call.message()
    body = json_body(call.request)
    if not message.is_draft and (wrong := sorted(_DRAFT_ONLY.intersection(body))):
        raise bad_request(
            f"Update operation is invalid for property '{wrong[0]}' of a sent message.",
            "ErrorInvalidPropertyUpdateSentMessage",
        )
    _apply(message, body, creating=False)
    call.box.changed(message, flag_only=set(body) == {"isRead"})
    call.log("messages.update", [message.immutable_id])
    return call.shown(message)


def move(call: Call) -> Response:
    message = call.message()
    destination = str(json_body(call.request).get("destinationId") or "")
    if not destination:
        raise bad_request("The destinationId parameter is required.", "ErrorInvalidRequest")
    target = mail_folder(call.box, destination)
    call.box.move(message, target)
    call.log("messages.move", [message.immutable_id])
    return call.shown(message, 201)


def create(call: Call) -> Response:
    body = json_body(call.request)
    folder = mail_folder(call.box, call.args.get("folder", "drafts"))
    message = _new(call, folder, str(body.get("subject", "")), None)
    message.sender = Recipient("", call.box.user)
    flags = _message_flags(body)
    message.is_draft = flags is None or bool(flags & _UNSENT)
    if call.box.leeway.ignores_message_id and not message.is_draft:
        body = {k: v for k, v in body.items() if k != "internetMessageId"}
    _apply(message, body, creating=True)
    if flags is not None:
        # isRead is PR_MESSAGE_FLAGS' read bit; which of the two Exchange applies last
        # when a create gives both is not documented, so the flags win here: a client
        # relying on isRead against its own flags would see its message read.
        message.is_read = bool(flags & _READ)
    call.box.add(message)
    call.log("messages.create", [message.immutable_id])
    return call.shown(message, 201)


def delete(call: Call) -> Response:
    """DELETE moves to Deleted Items; deleting from there removes the message."""
    message = call.message()
    if message.folder == "deleteditems":
        call.box.delete(message)
    else:
        call.box.move(message, "deleteditems")
    call.log("messages.delete", [message.immutable_id])
    return Response.empty()


# --- building and changing messages ---------------------------------------------------


def _new(call: Call, folder: str, subject: str, conversation: str | None) -> GraphMessage:
    box = call.box
    serial = box.new_serial()
    immutable, rest = new_ids(box, serial)
    domain = box.user.rpartition("@")[2].replace(".", "")
    return GraphMessage(
        serial=serial,
        immutable_id=immutable,
        rest_id=rest,
        folder=folder,
        conversation_id=conversation or opaque("AAQkA", box.user, "conversation", serial),
        subject=subject,
        sender=None,
        to=[],
        cc=[],
        bcc=[],
        received=call.now,
        sent=None,
        internet_message_id=f"<{opaque('', box.user, 'mid', serial)[:24]}@{domain}.outlook.com>",
        headers=[],
        body="",
        is_draft=True,
        is_read=True,
    )


def _message_flags(body: dict[str, Any]) -> int | None:
    for prop in body.get("singleValueExtendedProperties") or []:
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() == MESSAGE_FLAGS:
            try:
                return int(str(prop.get("value", "")), 0)
            except ValueError:
                raise bad_request("PR_MESSAGE_FLAGS must be an integer.") from None
    return None


def _people(value: Any) -> list[Recipient]:
    if not isinstance(value, list):
        raise bad_request("Recipients must be a collection.", "ErrorInvalidRecipients")
    found = []
    for item in value:
        address = (item or {}).get("emailAddress") or {}
        if not address.get("address"):
            raise bad_request("At least one recipient is not valid.", "ErrorInvalidRecipients")
        found.append(Recipient(str(address.get("name") or ""), str(address["address"]).lower()))
    return found


def _apply(message: GraphMessage, body: dict[str, Any], *, creating: bool) -> None:
    """Writable properties of a create or an update, then the synthesized headers."""
    if "internetMessageHeaders" in body:
        if not creating:
            raise bad_request(
                "internetMessageHeaders can only be set when the message is created.",
                "ErrorInvalidProperty",
            )
        message.headers += _custom_headers(body["internetMessageHeaders"])
    for field, attribute in (("toRecipients", "to"), ("ccRecipients", "cc"),
                             ("bccRecipients", "bcc")):  # fmt: skip
        if field in body:
            setattr(message, attribute, _people(body[field]))
    if "subject" in body:
        message.subject = str(body["subject"] or "")
    if isinstance(body.get("body"), dict):
        message.body = str(body["body"].get("content", ""))
        message.body_type = (
            "html" if body["body"].get("contentType", "").lower() == "html" else "text"
        )
    if "isRead" in body:
        message.is_read = bool(body["isRead"])
    if "categories" in body:
        # resources/message: "The categories associated with the message" (String
        # collection), set by create or update; the master list only gives them colours.
        value = body["categories"]
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise bad_request("Invalid value for property 'categories'.", "ErrorInvalidProperty")
        message.categories = list(dict.fromkeys(value))
    for prop in body.get("singleValueExtendedProperties") or []:
        # singlevaluelegacyextendedproperty-post-singlevalueextendedproperties: set on
        # create or by PATCH; the message flags act once, on create (`_message_flags`).
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() != MESSAGE_FLAGS:
            key = str(prop.get("id", ""))
            message.properties[key.lower()] = (key, str(prop.get("value", "")))
    if creating and body.get("internetMessageId"):
        message.internet_message_id = str(body["internetMessageId"])
    if message.raw is None:
        message.headers = _synthesized(message)


def _custom_headers(value: Any) -> list[tuple[str, str]]:
    headers = []
    for item in value if isinstance(value, list) else [{}]:
        item = item if isinstance(item, dict) else {}
        name = str(item.get("name", ""))
        if not name.lower().startswith("x-"):
            raise bad_request(
                "The internet message header name should start with 'x-' or 'X-'.",
                "InvalidInternetMessageHeader",
            )
        headers.append((name, str(item.get("value", ""))))
    return headers


def _synthesized(message: GraphMessage) -> list[tuple[str, str]]:
    """The standard fields from the properties, then what else the message carried."""
    kept = [(k, v) for k, v in message.headers if k not in _STANDARD]
    threading = [(k, v) for k, v in message.headers if k in ("In-Reply-To", "References") and v]
    standard: list[tuple[str, str]] = []
    if message.sender:
        standard.append(("From", formataddr((message.sender.name, message.sender.address))))
    for name, people in (("To", message.to), ("Cc", message.cc)):
        if people:
            standard.append((name, ", ".join(formataddr((p.name, p.address)) for p in people)))
    when = message.sent or message.received or datetime.now(UTC)
    standard += [("Subject", message.subject), ("Date", format_datetime(when))]
    standard.append(("Message-ID", message.internet_message_id))
    return standard + threading + kept
