"""Outlook / Microsoft 365 through Microsoft Graph: the `MailActions` write side.

Every write makes something the user can see and undo; nothing here sends mail.

- A draft answering a message: `createReply` on it (201, a draft in its conversation,
  with Outlook's threading headers), carrying the `X-Ghostwatch-Step` header — Graph
  sets custom `x-` headers only when a message is created (docs/providers.md) — and our
  subject, recipients and body in that same call, so no stepped draft is ever empty.
  A draft starting a conversation: one create in Drafts with all of it.
- Junk rescue: `move` to the Inbox; with immutable ids the message keeps its key.
- The digest: created in the Inbox, unread, in one request: PR_MESSAGE_FLAGS (0x0E07)
  without MSGFLAG_UNSENT makes it a received message and not a draft (docs/providers.md), and
  without MSGFLAG_READ an unread one; `isRead: false` says the same. A second request to
  mark it unread could fail after the create, leaving a read digest that the next cycle
  would find by its Message-ID and count as delivered.
- The mailbox's own proof of existing steps: a delta of Drafts expanding the header as
  the named property Exchange stores a custom internet header in (PS_INTERNET_HEADERS,
  `String {00020386-0000-0000-C000-000000000046} Name X-Ghostwatch-Step`): extended
  properties are readable on any item, where `internetMessageHeaders` is transport data.

References: https://learn.microsoft.com/en-us/graph/api/message-createreply,
…/message-update, …/message-move, …/user-post-messages,
https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcmsg (flags,
2.2.1.6 PidTagMessageFlags).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import getaddresses
from http import HTTPStatus
from typing import Any

from ghostwatch.mail.fingerprint import fingerprint
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.microsoft.drafts import DRAFTS, DraftWatch
from ghostwatch.providers.microsoft.graph import GraphClient, OutlookError, Part
from ghostwatch.providers.microsoft.sync import FolderSync, Synced
from ghostwatch.providers.port import DraftListing

STEP_HEADER = "X-Ghostwatch-Step"
STEP_PROPERTY = f"String {{00020386-0000-0000-C000-000000000046}} Name {STEP_HEADER}"
OWN_SET = "{5c0b2f7e-8a1d-4e59-9b64-3f2d7a41c6e0}"
"""ghostwatch's own named-property set (a GUID of ours, MS-OXPROPS "named properties"):
nothing a stranger writes into a message can set a property in it."""
STEP_OWN = f"String {OWN_SET} Name GhostwatchStep"
DIGEST_OWN = f"String {OWN_SET} Name GhostwatchDigest"
STEP_EXPAND = (
    f"singleValueExtendedProperties($filter=id eq '{STEP_OWN}' or id eq '{STEP_PROPERTY}')"
)
MESSAGE_FLAGS = {"id": "Integer 0x0E07", "value": "0"}
"""PR_MESSAGE_FLAGS with neither MSGFLAG_UNSENT (0x8) nor MSGFLAG_READ (0x1): a received,
unread message. A client sets these bits only until the message is first saved
(MS-OXCMSG 2.2.1.6), so the create is the one request that can decide both."""


def _step_of(_folder: str, item: dict[str, Any]) -> str | None:
    """A draft's step: our own property, else the header where Exchange kept it."""
    found = {str(p.get("id", "")).lower(): str(p.get("value", "")).strip()
             for p in item.get("singleValueExtendedProperties") or []}  # fmt: skip
    return found.get(STEP_OWN.lower()) or found.get(STEP_PROPERTY.lower()) or None


def _own(prop: str, value: str) -> dict[str, Any]:
    """Our mark, as singlevaluelegacyextendedproperty-post-singlevalueextendedproperties
    documents it for a create and a PATCH of a message."""
    return {"singleValueExtendedProperties": [{"id": prop, "value": value}]}


def _quoted(value: str) -> str:
    """A string inside an OData literal: quotes doubled."""
    return value.replace("'", "''")


def _people(value: str | None) -> list[dict[str, Any]]:
    pairs = getaddresses([value]) if value else []
    return [{"emailAddress": {"name": name, "address": address}} for name, address in pairs
            if address]  # fmt: skip


def _custom_headers(message: EmailMessage) -> list[dict[str, str]]:
    """The message's own `X-` fields, the only ones Graph lets a client set."""
    return [{"name": k, "value": str(v)} for k, v in message.items() if k.lower().startswith("x-")]


def _body(draft_html: str, text: str) -> dict[str, str]:
    return {"contentType": "html", "content": draft_html} if draft_html else {
        "contentType": "text", "content": text}  # fmt: skip


class OutlookActions:
    """One Outlook mailbox's writes (implements `MailActions`)."""

    def __init__(
        self, client: GraphClient, drafts: DraftWatch | None = None, *, web_links: bool = True
    ) -> None:
        self.client = client
        self.web_links = web_links
        """Whether drafts open in Outlook on the web (False: a sandbox's do not)."""
        self.drafts = FolderSync(client, (DRAFTS,), "isDraft", _step_of, expand=STEP_EXPAND)
        self.watch = drafts if drafts is not None else DraftWatch()
        """What the account's mail poll saw of Drafts (shared with its `OutlookSource`;
        a watch of its own, which no poll vouches for, reads Drafts every time)."""
        self._listing: DraftListing | None = None

    # --- reading back what ghostwatch wrote ---------------------------------------------

    def draft_listing(self) -> DraftListing:
        """Every draft's immutable id, and the steps of those carrying X-Ghostwatch-Step:
        the last listing while the mail poll since saw Drafts unchanged (`drafts.py`: no
        request at all), else a delta of Drafts (one request when little changed)."""
        if self._listing is not None and self.watch.usable():
            return self._listing
        return self._list()

    def existing_steps(self) -> dict[str, str]:
        """step key → draft id, for every draft carrying X-Ghostwatch-Step, read now."""
        return dict(self._list().steps)

    def _list(self) -> DraftListing:
        synced: Synced = self.drafts.poll()
        self.drafts.commit(synced)
        items = synced.items[DRAFTS]
        steps = {step: key for key, step in items.items() if step}
        self._listing = DraftListing(ids=frozenset(items), steps=steps)
        self.watch.listing_taken()
        return self._listing

    def find_message(self, message_id: str) -> str | None:
        """The immutable id of the message with this Message-ID (no brackets), if any."""
        quoted = f"<{message_id}>".replace("'", "''")
        found = self.client.request(
            "GET",
            f"{self.client.mailbox}/messages",
            params={"$filter": f"internetMessageId eq '{quoted}'", "$select": "id"},
        )
        value = found.json().get("value") or []
        return str(value[0]["id"]) if value else None

    def find_digest(self, message_id: str, sender: str) -> str | None:
        """The immutable id of the Inbox's digest with this Message-ID whose sender is
        `sender`: by our own property, which Exchange keeps whatever it does with
        `internetMessageId` ("updatable only if isDraft is true"); then, for a digest
        written before the property was, by that id
        (https://learn.microsoft.com/en-us/graph/api/mailfolder-list-messages)."""
        mine = f"singleValueExtendedProperties/Any(ep: ep/id eq '{DIGEST_OWN}' and ep/value eq "
        for clause in (mine + f"'{_quoted(message_id)}')",
                       f"internetMessageId eq '{_quoted(f'<{message_id}>')}'"):  # fmt: skip
            found = self._from(clause, sender)
            if found is not None:
                return found
        return None

    def _from(self, clause: str, sender: str) -> str | None:
        found = self.client.request(
            "GET",
            f"{self.client.mailbox}/mailFolders/inbox/messages",
            params={"$filter": clause, "$select": "id,from"},
        )
        for item in found.json().get("value") or []:
            address = ((item.get("from") or {}).get("emailAddress") or {}).get("address", "")
            if str(address).lower() == sender.lower():
                return str(item["id"])
        return None

    # --- what a draft says, and taking one back -----------------------------------------

    def written_fingerprint(self, message: EmailMessage) -> str:
        """What Graph keeps of a draft made from `message` (`create_draft`): subject, To
        and Cc, and one body — the HTML when there is one, reduced to its visible text,
        so the markup Exchange wraps around it changes nothing."""
        html = _part(message, "html")
        body = ("text/html", html) if html else ("text/plain", _part(message, "plain"))
        recipients = [p["emailAddress"]["address"] for field in ("To", "Cc")
                      for p in _people(message.get(field))]  # fmt: skip
        return fingerprint(str(message.get("Subject", "")), recipients, [body])

    def draft_fingerprint(self, draft_id: str) -> str | None:
        """The draft's digest as Graph answers it now
        (https://learn.microsoft.com/en-us/graph/api/message-get); None when the id is
        gone or no longer a draft."""
        try:
            found = self.client.request(
                "GET",
                f"{self.client.mailbox}/messages/{draft_id}",
                params={"$select": "subject,toRecipients,ccRecipients,body,isDraft"},
            )
        except OutlookError as error:
            if error.status == HTTPStatus.NOT_FOUND:
                return None
            raise
        item = found.json()
        if not item.get("isDraft"):
            return None
        people = [*(item.get("toRecipients") or []), *(item.get("ccRecipients") or [])]
        recipients = [str((p.get("emailAddress") or {}).get("address", "")) for p in people]
        body = item.get("body") or {}
        kind = "text/html" if str(body.get("contentType", "")).lower() == "html" else "text/plain"
        return fingerprint(str(item.get("subject") or ""), recipients,
                           [(kind, str(body.get("content") or ""))])  # fmt: skip

    def withdraw_draft(self, draft_id: str) -> None:
        """`DELETE /me/messages/{id}` (https://learn.microsoft.com/en-us/graph/api/
        message-delete): Exchange keeps it in Deleted Items, where the user can undo it;
        already gone (404) is done."""
        self.watch.lost()  # Drafts change: the next listing reads them
        try:
            self.client.request("DELETE", f"{self.client.mailbox}/messages/{draft_id}")
        except OutlookError as error:
            if error.status != HTTPStatus.NOT_FOUND:
                raise

    # --- writes -------------------------------------------------------------------------

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        """A draft in Drafts: a reply in the answered message's conversation when it is
        in the mailbox, else a new message; its id."""
        self.watch.lost()  # Drafts change: the next listing reads them
        headers = _custom_headers(message)
        content = {
            "subject": str(message.get("Subject", "")),  # as mail/outgoing.py cleaned it
            "toRecipients": _people(message.get("To")),
            "ccRecipients": _people(message.get("Cc")),
            "body": _body(draft.html, draft.text),
        }
        mark = _own(STEP_OWN, str(message.get(STEP_HEADER, "")))
        answered = self.find_message(draft.in_reply_to) if draft.in_reply_to else None
        if answered is None:
            created = self.client.request(
                "POST",
                f"{self.client.mailbox}/messages",
                json={**content, "internetMessageHeaders": headers, **mark},
            )
            return str(created.json()["id"])
        # The whole draft in the one call that makes it: createReply takes "any writeable
        # properties" of the reply (https://learn.microsoft.com/graph/api/message-createreply).
        # A separate PATCH of the content could fail after the create, leaving a stepped
        # but empty draft that the next cycle would adopt as done.
        reply = self.client.request(
            "POST",
            f"{self.client.mailbox}/messages/{answered}/createReply",
            json={"message": {**content, "internetMessageHeaders": headers}},
        )
        made = str(reply.json()["id"])
        # createReply documents no custom headers and no extended properties, so our
        # mark follows by PATCH (setting the same value again is harmless: retried as a
        # read). The header above stays a second proof where Exchange keeps it.
        path = f"{self.client.mailbox}/messages/{made}"
        self.client.request("PATCH", path, json=mark, idempotent=True)
        return made

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        """Each draft's `webLink`: "the URL to open the message in Outlook on the web"
        (resources/message), read when the digest is made, in one JSON batch per 20
        drafts. Not kept from the create answer: a moved draft gets a new REST id, and
        the link with it. A draft gone since (404) is left out."""
        box = self.client.mailbox
        ids = sorted(set(draft_ids)) if self.web_links else []
        parts = [Part(str(n), f"{box}/messages/{i}?$select=webLink") for n, i in enumerate(ids)]
        answers = self.client.batch(parts) if parts else {}
        found = {}
        for n, draft in enumerate(ids):
            answer = answers[str(n)]
            link = answer.json().get("webLink") if answer.ok() else None
            if isinstance(link, str) and link.startswith("https://"):
                found[draft] = link
        return found

    def rescue(self, message_key: str) -> None:
        """Move a message out of Junk Email into the Inbox (its immutable id stays)."""
        path = f"{self.client.mailbox}/messages/{message_key}/move"
        self.client.request("POST", path, json={"destinationId": "inbox"})

    def deliver_digest(self, message: EmailMessage) -> str:
        """The digest in the Inbox as a received, unread message (never sent); its id."""
        html = _part(message, "html")
        made = self.client.request(
            "POST",
            f"{self.client.mailbox}/mailFolders/inbox/messages",
            json={
                "subject": str(message.get("Subject", "")),
                "from": next(iter(_people(message.get("From"))), None),
                "toRecipients": _people(message.get("To")),
                "body": _body(html, _part(message, "plain")),
                "internetMessageId": str(message.get("Message-ID", "")),
                "internetMessageHeaders": _custom_headers(message),
                "isRead": False,
                "singleValueExtendedProperties": [
                    MESSAGE_FLAGS,
                    {"id": DIGEST_OWN, "value": str(message.get("Message-ID", "")).strip("<>")},
                ],
            },
        )
        return str(made.json()["id"])


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return (
        str(body.get_content())
        if body is not None and body.get_content_subtype() == subtype
        else ""
    )
