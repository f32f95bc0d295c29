"""Gmail through google-api-python-client: the `MailActions` write side.

Every write is a call that makes something the user can see and undo: a draft in the
thread (`drafts.create`), a message moved out of Spam (`messages.modify`), the digest
put into the inbox (`messages.insert`). Nothing here sends mail.

References: Gmail API v1 `users.drafts`
(https://developers.google.com/gmail/api/reference/rest/v1/users.drafts),
`users.messages.modify` / `users.messages.insert`. Messages go as `raw` base64url in the
JSON body: the client's media upload keeps `https` and only swaps the host
(docs/providers.md), so it cannot reach a local sandbox and gains nothing for small mail.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from http import HTTPStatus
from typing import Any

import structlog
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ghostwatch.mail.fingerprint import fingerprint_mime
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.budget import Budget
from ghostwatch.providers.google.api import DEFAULT_POLICY, execute
from ghostwatch.providers.google.gmail import BATCH_SIZE, PAGE_SIZE, GmailError
from ghostwatch.providers.google.quota import units
from ghostwatch.providers.port import DraftListing
from ghostwatch.providers.retry import RetryPolicy

log = structlog.get_logger(__name__)

STEP_HEADER = "X-Ghostwatch-Step"
"""The header `compose.drafts.draft_message` writes: the mailbox's own proof of a step."""


def raw_of(message: EmailMessage) -> str:
    """The RFC 5322 bytes as Gmail's `raw` field wants them (base64url, padded)."""
    return base64.urlsafe_b64encode(bytes(message)).decode("ascii")


class GmailActions:
    """One Gmail mailbox's writes (implements `MailActions`)."""

    def __init__(
        self,
        service: Any,
        batch_uri: str | None = None,
        user: str = "me",
        retry: RetryPolicy = DEFAULT_POLICY,
        *,
        budget: Budget | None = None,
    ) -> None:
        self.service = service
        self.batch_uri = batch_uri
        self.user = user
        self.retry = retry
        self.budget = budget
        """The user's quota budget, shared with the account's `GmailSource`."""

    def _execute(
        self, request: Any, *, idempotent: bool = True, cost: int | None = None, empty: bool = False
    ) -> Any:
        return execute(
            request, GmailError, policy=self.retry, idempotent=idempotent, budget=self.budget,
            units=cost, empty=empty,
        )  # fmt: skip

    # --- reading back what ghostwatch wrote ---------------------------------------------

    def draft_listing(self) -> DraftListing:
        """Every draft's id (`drafts.list`), and the steps of those carrying
        X-Ghostwatch-Step. A draft keeps its id through the user's edits (`drafts.update`
        replaces its message, not the draft).

        `drafts.get` takes no `metadataHeaders` (discovery document), so the header is
        read with `messages.get` on each draft's message: one header, not all of them.
        """
        drafts = dict(self._drafts())  # message id → draft id
        headers = self._step_headers(list(drafts))
        steps = {step: drafts[message_id] for message_id, step in headers.items()}
        return DraftListing(ids=frozenset(drafts.values()), steps=steps)

    def existing_steps(self) -> dict[str, str]:
        """step key → draft id, for every draft carrying X-Ghostwatch-Step."""
        return dict(self.draft_listing().steps)

    def find_message(self, message_id: str) -> str | None:
        """The Gmail id of the message with this Message-ID (no brackets), if any."""
        query = f"rfc822msgid:{message_id}"
        listing = self.service.users().messages()
        found = self._execute(listing.list(userId=self.user, q=query, includeSpamTrash=True))
        messages = found.get("messages") or []
        return str(messages[0]["id"]) if messages else None

    def find_digest(self, message_id: str, sender: str) -> str | None:
        """The Gmail id of the message with this Message-ID that is in INBOX and From
        `sender`. The search leaves Spam and Trash out (no `includeSpamTrash`), and each
        hit's labels and From are read back rather than trusted to a query."""
        listing = self.service.users().messages()
        found = self._execute(listing.list(userId=self.user, q=f"rfc822msgid:{message_id}"))
        for hit in found.get("messages") or []:
            get = listing.get(userId=self.user, id=hit["id"], format="metadata",
                              metadataHeaders=["From"])  # fmt: skip
            item = self._execute(get)
            mine = parseaddr(_header(item, "From") or "")[1].lower() == sender.lower()
            if mine and "INBOX" in item.get("labelIds", []):
                return str(item["id"])
        return None

    def _drafts(self) -> Iterator[tuple[str, str]]:
        drafts = self.service.users().drafts()
        token: str | None = None
        while True:
            page = self._execute(
                drafts.list(userId=self.user, maxResults=PAGE_SIZE, pageToken=token)
            )
            for item in page.get("drafts", []):
                yield item["message"]["id"], item["id"]
            token = page.get("nextPageToken")
            if not token:
                return

    def _step_headers(self, message_ids: list[str]) -> dict[str, str]:
        messages = self.service.users().messages()
        steps: dict[str, str] = {}
        failed: list[int | None] = []

        def keep(request_id: str, response: Any, error: Exception | None) -> None:
            if error is not None:
                status = error.resp.status if isinstance(error, HttpError) else None
                # Deleted or sent between the list and the get: it proves nothing. Any
                # other failure could hide a draft that exists, and a step missing from
                # the answer reads as "deleted by the user": refuse to answer instead.
                if status != 404:
                    failed.append(status)
                log.info("gmail_draft_unread", id=request_id, status=status)
                return
            if not isinstance(response, dict):  # a part whose JSON did not parse
                failed.append(None)
                return
            step = _header(response, STEP_HEADER)
            if step:
                steps[request_id] = step

        for start in range(0, len(message_ids), BATCH_SIZE):
            batch = BatchHttpRequest(callback=keep, batch_uri=self.batch_uri)
            chunk = message_ids[start : start + BATCH_SIZE]
            for message_id in chunk:
                get = messages.get(
                    userId=self.user,
                    id=message_id,
                    format="metadata",
                    metadataHeaders=[STEP_HEADER],
                )
                batch.add(get, request_id=message_id)
            self._execute(batch, cost=units("messages.get") * len(chunk))
        if failed:
            raise GmailError(f"could not read {len(failed)} drafts' headers: {failed[0]}")
        return steps

    # --- what a draft says, and taking one back -----------------------------------------

    def written_fingerprint(self, message: EmailMessage) -> str:
        """Gmail keeps a draft's bytes as given (`raw`): its digest is the message's own."""
        return fingerprint_mime(bytes(message))

    def draft_fingerprint(self, draft_id: str) -> str | None:
        """The draft's digest as Gmail holds it now (`drafts.get`, format `raw`: after an
        edit the draft's message is the user's); None when there is no such draft."""
        get = self.service.users().drafts().get(userId=self.user, id=draft_id, format="raw")
        try:
            found = self._execute(get)
        except GmailError as error:
            if error.status == HTTPStatus.NOT_FOUND:
                return None
            raise
        raw = str(found.get("message", {}).get("raw", ""))
        return fingerprint_mime(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))

    def withdraw_draft(self, draft_id: str) -> None:
        """`drafts.delete`: that draft, and only it, removed; already gone (404) is done."""
        delete = self.service.users().drafts().delete(userId=self.user, id=draft_id)
        try:
            self._execute(delete, empty=True)
        except GmailError as error:
            if error.status != HTTPStatus.NOT_FOUND:
                raise

    # --- writes -------------------------------------------------------------------------

    def create_draft(self, draft: Draft, message: EmailMessage, thread_id: str | None) -> str:
        """Put `message` in Drafts, in `thread_id`'s thread; the new draft's id."""
        body: dict[str, Any] = {"raw": raw_of(message)}
        if thread_id:
            body["threadId"] = thread_id
        drafts = self.service.users().drafts()
        # Not retried after a 5xx or a dropped connection: the draft may exist already,
        # and the cycle's ledger asks the mailbox (X-Ghostwatch-Step) before trying again.
        create = drafts.create(userId=self.user, body={"message": body})
        made = self._execute(create, idempotent=False)
        return str(made["id"])

    def rescue(self, message_key: str) -> None:
        """Move a message out of Spam into the inbox (both labels in one call)."""
        labels = {"removeLabelIds": ["SPAM"], "addLabelIds": ["INBOX"]}
        messages = self.service.users().messages()
        self._execute(messages.modify(userId=self.user, id=message_key, body=labels))

    def deliver_digest(self, message: EmailMessage) -> str:
        """Put the digest into the inbox, unread (no sending, no spam scan); its id."""
        body = {"raw": raw_of(message), "labelIds": ["INBOX", "UNREAD"]}
        messages = self.service.users().messages()
        made = self._execute(messages.insert(userId=self.user, body=body), idempotent=False)
        return str(made["id"])


def _header(item: dict[str, Any], name: str) -> str | None:
    for header in item.get("payload", {}).get("headers", []):
        if header.get("name", "").lower() == name.lower():
            return str(header.get("value", "")).strip()
    return None
