"""The older messages of the conversations a look-back reaches (docs/rules.md, Horizon).

A first sync with a look-back reads each folder's delta from `receivedDateTime ge
<since>` (`sync.py`), which leaves out the older messages of conversations still live in
the look-back: the prospect's answer the attempt count starts after, my first message,
my earlier nudges. A full read has them, and the decisions must be the same, so every
conversation of mine that holds a message read is then read whole, as Gmail's first sync
reads my threads (docs/rules.md: only a conversation I wrote in is tracked, and only
Sent makes a message mine). Which conversations are mine comes from listing Sent Items
(conversation, Message-ID, subject and recipients, 1000 to a page: a few calls for
years of sent mail). Read whole are those that hold a message read, and those that a
message read may join (docs/rules.md, Threading): one whose Message-ID it references (a
reply retitled into a conversation of its own), or whose subject it shares, once reply
prefixes are stripped, with someone at its writer's organization (a colleague writing
anew under my subject). Each is asked for:
`GET messages?$filter=conversationId eq '…'` (list messages reads every folder,
https://learn.microsoft.com/en-us/graph/api/user-list-messages), one request per
conversation inside JSON batches of 20, with the delta's own `$select` plus
`parentFolderId`, which places each message in the folder whose delta would have
brought it. No `$orderby`: Exchange refuses it beside a `conversationId` filter (400
`InefficientFilter`, docs/providers.md). A conversation wholly older than the look-back
and joined by no message read is never asked for; nor is one I never wrote in (a
newsletter, a stranger's cold mail), which no decision follows up whatever its past.
Reading one more than the engine joins changes nothing: it is past the horizon.

A delivery report counts against my latest message of its conversation when it came
after it (docs/rules.md, bounces), and it sits in a conversation of its own. So when a
conversation read whole has my latest message from before the look-back, the mail
received between then (less `MARGIN`) and the look-back's start is listed (1000 to a
call, every folder) and the reports among it are kept: a multipart/report (RFC 3464,
RFC 6522) or mail from a mail system's role address, as Gmail's first sync searches
the mailer daemons' mail from my latest message (docs/providers.md).

Conversations are read in sorted order, `STEP` at a time, and the poll keeps the last
one done (`Synced.older`), so a first sync that the quota cuts short in this step
carries on after it in the next cycle. Later polls need nothing of this: new mail is
newer than the look-back's start, and a folder read afresh then is read whole
(`sync.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from ghostwatch.model.mail import Folder, Message, normalize_subject, organization
from ghostwatch.providers.microsoft.graph import GraphClient, Part, checked

TOP = 100
"""Messages per page of a conversation (list messages: default 10, at most 1000; a
large page of full items may time out, so a long conversation takes a few pages)."""
STEP = 100
"""Conversations read before the progress is kept (5 batches of 20)."""
Item = dict[str, Any]
MARGIN = timedelta(days=1)
"""How far before my latest message reports are looked for: a Date header is the
writer's clock, and more than the engine's `bounce_clock_skew`."""
_ROLE = re.compile(
    r"^(?:mailer-?daemon|postmaster|post_master|hostmaster|mail-?daemon"
    r"|microsoftexchange[0-9a-f]{32})@",
    re.IGNORECASE,
)
"""A mail system's own address (Exchange signs its reports MicrosoftExchange<hex>@…)."""


MINE = "sentitems"
"""The folder whose messages are mine (docs/rules.md, "Mine")."""
LIST_PAGE = 1000


class Whole(Protocol):
    """What `sync.FolderSync` reads whole after a look-back's rounds, given what it holds
    (folder → id → converted message)."""

    def wanted(self, items: Mapping[str, Mapping[str, Any]], sent: list[Item]) -> set[str]:
        """The conversations to read whole, given Sent Items' listing (`mine`)."""

    def reports_from(
        self, items: Mapping[str, Mapping[str, Any]], mine: set[str]
    ) -> datetime | None:
        """From when delivery reports can bear on the conversations `mine` (None: not)."""


class Conversations:
    """`Whole` for `Message`s (`outlook.py`)."""

    def wanted(self, items: Mapping[str, Mapping[str, Any]], sent: list[Item]) -> set[str]:
        return wanted(items, sent)

    def reports_from(
        self, items: Mapping[str, Mapping[str, Any]], mine: set[str]
    ) -> datetime | None:
        """From when reports can bear on the conversations `mine`: my latest message
        in each, the earliest of those, less `MARGIN` (None: no message of mine)."""
        latest: dict[str, datetime] = {}
        for message in items.get(MINE, {}).values():
            if message.thread_id in mine and message.date is not None:
                held = latest.get(message.thread_id)
                latest[message.thread_id] = max(held, message.date) if held else message.date
        return min(latest.values()) - MARGIN if latest else None


def reports(client: GraphClient, select: str, start: datetime, end: datetime) -> Iterable[Item]:
    """The delivery reports received from `start` to before `end`, in every folder."""
    window = f"receivedDateTime ge {stamp(start)} and receivedDateTime lt {stamp(end)}"
    url: str | None = (f"{client.mailbox}/messages?$filter={quote(window)}"
                       f"&$select={select},parentFolderId&$top={LIST_PAGE}")  # fmt: skip
    while url is not None:
        page = client.request("GET", url).json()
        yield from (item for item in page.get("value", []) if _report(item))
        link = page.get("@odata.nextLink")
        url = client.relative(str(link)) if link else None


def _report(item: Item) -> bool:
    for header in item.get("internetMessageHeaders") or []:
        name, value = str(header.get("name", "")).lower(), str(header.get("value", ""))
        if name == "content-type" and value.lower().startswith("multipart/report"):
            return True
    sender = (item.get("from") or {}).get("emailAddress") or {}
    return bool(_ROLE.match(str(sender.get("address") or "")))


def stamp(when: datetime) -> str:
    """A time as Graph's filters write it (UTC, ISO 8601)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wanted(items: Mapping[str, Mapping[str, Message]], sent: list[Item]) -> set[str]:
    """The conversations of mine to read whole, given the messages held (folder → id →
    message) and Sent Items' listing (`mine`): those that hold a message, that a message
    references, or that share its subject with someone at its writer's organization."""
    mine = {str(item.get("conversationId") or "") for item in sent} - {""}
    by_id, by_subject = _indexes(sent)
    found: set[str] = set()
    for folder in items.values():
        for message in folder.values():
            if message.thread_id and (message.thread_id in mine or message.folder == Folder.SENT):
                found.add(message.thread_id)
            found.update(by_id[i] for i in (*message.in_reply_to, *message.references)
                         if i in by_id)  # fmt: skip
            subject = normalize_subject(message.subject)
            for person in _askers(message) if subject else ():
                found.update(by_subject.get((subject, organization(person)), ()))
    return found


def _indexes(sent: list[Item]) -> tuple[dict[str, str], dict[tuple[str, str], set[str]]]:
    """Message-ID → conversation, and (normalized subject, organization of an addressee)
    → conversations, of my sent messages. By organization, not by address: the engine
    joins a message to a conversation its writer took part in (`engine/threads.py`),
    and a colleague copied on the prospect's answer took part without my writing to him."""
    by_id: dict[str, str] = {}
    by_subject: dict[tuple[str, str], set[str]] = {}
    for item in sent:
        conversation = str(item.get("conversationId") or "")
        message_id = str(item.get("internetMessageId") or "").strip().strip("<>")
        if conversation and message_id:
            by_id[message_id] = conversation
        subject = normalize_subject(str(item.get("subject") or ""))
        for name in ("toRecipients", "ccRecipients", "bccRecipients") if subject else ():
            for person in item.get(name) or []:
                address = str((person.get("emailAddress") or {}).get("address") or "").lower()
                if conversation and address:
                    by_subject.setdefault((subject, organization(address)), set()).add(conversation)
    return by_id, by_subject


def _askers(message: Message) -> set[str]:
    """Who may join this message to a conversation by its subject: its writer, and
    (my reply) whom it went to (`engine/threads.py`)."""
    people = {message.sender.email} if message.sender is not None else set()
    if message.folder == Folder.SENT:
        people.update(a.email for a in message.addressees)
    return people


def mine(client: GraphClient) -> list[Item]:
    """Every message in Sent Items (its conversation, Message-ID, subject and
    recipients), page by page."""
    select = "conversationId,internetMessageId,subject,toRecipients,ccRecipients,bccRecipients"
    url: str | None = f"{client.mailbox}/mailFolders/{MINE}/messages?$select={select}"
    url = f"{url}&$top={LIST_PAGE}"
    found: list[Item] = []
    while url is not None:
        page = client.request("GET", url).json()
        found.extend(page.get("value", []))
        link = page.get("@odata.nextLink")
        url = client.relative(str(link)) if link else None
    return found


def steps(wanted: list[str], page_size: int) -> Iterator[list[str]]:
    """`STEP` conversations at a time, or as many as a delta page holds messages if
    fewer: a source told to read in small pages (a tight quota) reads these so too."""
    size = max(1, min(STEP, page_size))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def read(client: GraphClient, select: str, expand: str, wanted: list[str]) -> Iterable[Item]:
    """Every message of the `wanted` conversations, each conversation's pages followed
    to the end (a batch of first pages, then one of the next pages, and so on)."""
    select = f"{select},parentFolderId"
    parts = {f"c{n}": _first(client, conversation, select, expand)
             for n, conversation in enumerate(wanted)}  # fmt: skip
    found: list[Item] = []
    while parts:
        answers = client.batch(Part(part_id, url) for part_id, url in parts.items())
        parts = {}
        for part_id, answer in answers.items():
            page = checked(answer, "a conversation's messages").json()
            found.extend(page.get("value", []))
            if "@odata.nextLink" in page:
                parts[part_id] = client.relative(str(page["@odata.nextLink"]))
    return found


def _first(client: GraphClient, conversation: str, select: str, expand: str) -> str:
    # OData string literal: a quote is doubled (OData ABNF, SQUOTE-in-string).
    literal = conversation.replace("'", "''")
    url = (f"{client.mailbox}/messages?$filter=" + quote(f"conversationId eq '{literal}'")
           + f"&$select={select}&$top={TOP}")  # fmt: skip
    return url + ("&$expand=" + quote(expand) if expand else "")
