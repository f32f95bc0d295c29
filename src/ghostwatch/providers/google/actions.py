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
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import parseaddr
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from ghostwatch.mail.fingerprint import fingerprint_mime
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.budget import Budget
from ghostwatch.providers.google.api import DEFAULT_POLICY, execute
from ghostwatch.providers.google.drafts import STEP_HEADER, DraftsReader, DraftWatch, header
from ghostwatch.providers.google.gmail import GmailError
from ghostwatch.providers.port import DraftListing
from ghostwatch.providers.retry import RetryPolicy

__all__ = ["STEP_HEADER", "GmailActions", "raw_of"]


def raw_of(message: EmailMessage) -> str:
    """The RFC 5322 bytes as Gmail's `raw` field wants them (base64url, padded)."""
    return base64.urlsafe_b64encode(bytes(message)).decode("ascii")


GMAIL_DRAFT_LINK = "https://mail.google.com/mail/u/{account}/#drafts?compose={message}"
"""Gmail on the web, opening one draft in one account (see `GmailActions.draft_links`)."""


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
        drafts: DraftWatch | None = None,
        web_links: bool = True,
        address: str = "",
    ) -> None:
        self.web_links = web_links
        """Whether drafts open in Gmail on the web (False: a sandbox, whose drafts do not)."""
        self.address = address
        """The mailbox's address: the web app's account, in a browser signed in to several."""
        self.service = service
        self.batch_uri = batch_uri
        self.user = user
        self.retry = retry
        self.budget = budget
        """The user's quota budget, shared with the account's `GmailSource`."""
        self.watch = drafts if drafts is not None else DraftWatch()
        """What the account's history says of Drafts (shared with its `GmailSource`;
        a watch of its own, which no poll vouches for, lists Drafts every time)."""
        self.reader = DraftsReader(service, self._execute, batch_uri, user)

    def _execute(
        self, request: Any, *, idempotent: bool = True, cost: int | None = None, empty: bool = False
    ) -> Any:
        return execute(
            request, GmailError, policy=self.retry, idempotent=idempotent, budget=self.budget,
            units=cost, empty=empty,
        )  # fmt: skip

    # --- reading back what ghostwatch wrote ---------------------------------------------

    def draft_listing(self) -> DraftListing:
        """Every draft's id, and the steps of those carrying X-Ghostwatch-Step. A draft
        keeps its id through the user's edits (`drafts.update` replaces its message, not
        the draft). Read from Gmail only when the account's history read since the last
        listing shows a draft change (`drafts.DraftWatch`): an idle cycle reads nothing."""
        known = self.watch.current()
        return known if known is not None else self._list()

    def existing_steps(self) -> dict[str, str]:
        """step key → draft id, for every draft carrying X-Ghostwatch-Step, read now."""
        return dict(self._list().steps)

    def _list(self) -> DraftListing:
        """`drafts.list`, and the step header of the drafts' messages not read before."""
        drafts = dict(self.reader.drafts())  # message id → draft id
        unread = self.watch.unread(drafts)
        steps = self.reader.step_headers(unread, GmailError) if unread else {}
        return self.watch.listed(drafts, steps)

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
            mine = parseaddr(header(item, "From") or "")[1].lower() == sender.lower()
            if mine and "INBOX" in item.get("labelIds", []):
                return str(item["id"])
        return None

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
                self.watch.lost()  # it may be gone all the same: read Drafts again
                raise
        self.watch.withdrawn(draft_id)

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
        try:
            made = self._execute(create, idempotent=False)
        except GmailError:
            self.watch.lost()  # it may exist all the same: the next listing reads Drafts
            raise
        message_id = (made.get("message") or {}).get("id")
        self.watch.made(str(made["id"]), message_id, str(message.get(STEP_HEADER, "")).strip())
        return str(made["id"])

    def draft_links(self, draft_ids: Sequence[str]) -> dict[str, str]:
        """Where each draft opens in Gmail on the web: `drafts.list` (one request, 5 units,
        a page per 500 drafts) gives each draft's current message id, and Gmail's web app
        opens `#drafts?compose=<message id>` as that draft in its compose window.

        What this relies on: that address is Gmail's own web routing, which Google does
        not document (no API returns a draft's link); if it changes, the address still
        opens the Drafts folder. `u/<address>` picks the account by address: `u/0`, the
        first account signed in to the browser, is often a salesperson's personal one, and
        an account not signed in is asked for rather than another's Drafts shown. The
        message id, not the draft id, because the message id is what the web app shows;
        it changes when the draft is edited, so it is read when the digest is made."""
        wanted = set(draft_ids)
        if not wanted or not self.web_links:
            return {}
        account = quote(self.address, safe="@") or "0"
        return {
            draft: GMAIL_DRAFT_LINK.format(account=account, message=message)
            for message, draft in self.reader.drafts()
            if draft in wanted
        }

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
