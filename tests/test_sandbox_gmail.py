"""The Gmail sandbox, driven by the real google-api-python-client over HTTP."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import googleapiclient
import pytest
from googleapiclient.errors import HttpError

from ghostwatch.sandbox import GmailSandbox
from tests.builder import ME
from tests.sandbox_fixtures import KATHY, client, gmail, sandbox, seed_dir

__all__ = ["gmail", "sandbox", "seed_dir"]  # fixtures, imported for pytest

DISCOVERY = json.loads(
    (Path(googleapiclient.__file__).parent / "discovery_cache/documents/gmail.v1.json").read_text()
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def raw_message(
    subject: str,
    sender: str = ME,
    to: str = KATHY,
    reply_to: str | None = None,
    body: str = "Just checking in.\n",
) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = "Tue, 17 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = f"<{abs(hash((subject, body, sender)))}@test.example>"
    if reply_to:
        msg["In-Reply-To"] = msg["References"] = reply_to
    msg.set_content(body)
    return b64(bytes(msg))


def ids(gmail: Any, **params: Any) -> list[str]:
    found = gmail.users().messages().list(userId="me", **params).execute()
    return [m["id"] for m in found.get("messages", [])]


def subjects(gmail: Any, **params: Any) -> list[str]:
    out = []
    for message_id in ids(gmail, **params):
        got = (
            gmail.users()
            .messages()
            .get(userId="me", id=message_id, format="metadata", metadataHeaders=["Subject"])
            .execute()
        )
        out.append(got["payload"]["headers"][0]["value"])
    return sorted(out)


def error_of(excinfo: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(excinfo.value.content)["error"]
    return body


def history_id(gmail: Any) -> str:
    return str(gmail.users().getProfile(userId="me").execute()["historyId"])


def thread_of(gmail: Any, subject: str) -> str:
    found = gmail.users().messages().list(userId="me", q=f'subject:"{subject}"').execute()
    return str(found["messages"][-1]["threadId"])


# -- listing and search ---------------------------------------------------------


def test_profile_counts_the_seeded_mailbox(gmail: Any) -> None:
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == ME
    assert profile["messagesTotal"] == 8
    assert profile["threadsTotal"] == 6  # the proposal, its reply and the draft are one thread
    assert profile["historyId"].isdigit()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("in:sent", ["Proposal"]),
        ("in:inbox", ["Integration plan", "New lead", "Re: Proposal"]),
        ("in:spam", ["RE: Integration plan"]),
        ("in:trash", ["Old news"]),
        ("from:kathy@contoso.example", ["Re: Proposal"]),
        ("to:kathy@contoso.example in:sent", ["Proposal"]),
        ("after:2026/11/12 before:2026/11/14", ["Integration plan"]),
        (
            f"after:{int(datetime(2026, 11, 14, tzinfo=UTC).timestamp())}",
            ["Demo", "New lead", "Re: Proposal"],
        ),
        ("label:clients", ["Demo"]),
        ("in:inbox -from:raj@tailspin.example is:unread", ["New lead"]),
        ("in:anywhere plan", ["Integration plan", "RE: Integration plan"]),
    ],
)
def test_q_operators(gmail: Any, q: str, expected: list[str]) -> None:
    assert subjects(gmail, q=q) == expected


def test_newer_than_counts_from_the_sandbox_clock(seed_dir: Path) -> None:
    now = datetime(2026, 11, 16, 12, tzinfo=UTC).timestamp()
    with GmailSandbox.serve(seed=seed_dir, clock=lambda: now) as box:
        assert subjects(client(box), q="newer_than:2d") == ["Demo", "New lead", "Re: Proposal"]


def test_label_ids_and_spam_trash(gmail: Any) -> None:
    assert subjects(gmail, labelIds=["INBOX", "UNREAD"]) == ["New lead"]
    assert subjects(gmail, labelIds=["SPAM"]) == ["RE: Integration plan"]
    assert len(ids(gmail)) == 6
    assert len(ids(gmail, includeSpamTrash=True)) == 8


def test_paging_walks_every_message_once(gmail: Any) -> None:
    everything = ids(gmail, includeSpamTrash=True)
    seen: list[str] = []
    request = gmail.users().messages().list(userId="me", includeSpamTrash=True, maxResults=3)
    pages = 0
    while request is not None:
        page = request.execute()
        assert page["resultSizeEstimate"] == 8
        seen += [m["id"] for m in page["messages"]]
        pages += 1
        request = gmail.users().messages().list_next(request, page)
    assert (seen, pages) == (everything, 3)


def test_threads_group_replies_and_drafts(gmail: Any) -> None:
    thread_id = thread_of(gmail, "Proposal")
    thread = gmail.users().threads().get(userId="me", id=thread_id, format="minimal").execute()
    labels = [m["labelIds"] for m in thread["messages"]]
    assert labels == [["SENT"], ["INBOX"], ["DRAFT"]]
    listed = gmail.users().threads().list(userId="me", q="in:inbox").execute()
    assert thread_id in [t["id"] for t in listed["threads"]]
    assert listed["resultSizeEstimate"] == 3


# -- get formats ---------------------------------------------------------------


def test_get_formats(gmail: Any, seed_dir: Path) -> None:
    (message_id,) = ids(gmail, q="in:sent")
    get = gmail.users().messages().get
    minimal = get(userId="me", id=message_id, format="minimal").execute()
    assert "payload" not in minimal
    assert "raw" not in minimal
    assert minimal["snippet"] == "Here it is."
    metadata = get(
        userId="me", id=message_id, format="metadata", metadataHeaders=["From", "Subject"]
    ).execute()
    assert metadata["payload"]["headers"] == [
        {"name": "From", "value": ME},
        {"name": "Subject", "value": "Proposal"},
    ]
    full = get(userId="me", id=message_id).execute()
    body = base64.urlsafe_b64decode(full["payload"]["body"]["data"])
    assert body == b"Here it is.\n"
    raw = base64.urlsafe_b64decode(get(userId="me", id=message_id, format="raw").execute()["raw"])
    seeded = [p.read_bytes() for p in (seed_dir / ".Sent" / "cur").iterdir()]
    assert [raw] == seeded
    assert minimal["sizeEstimate"] == len(raw)
    assert minimal["internalDate"] == str(
        int(datetime(2026, 11, 10, 9, tzinfo=UTC).timestamp() * 1000)
    )


def test_full_format_gives_the_mime_tree(gmail: Any) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = KATHY, ME, "Tree"
    msg.set_content("plain words")
    msg.add_alternative("<p>html words</p>", subtype="html")
    inserted = (
        gmail.users()
        .messages()
        .insert(userId="me", body={"raw": b64(bytes(msg)), "labelIds": ["INBOX"]})
        .execute()
    )
    full = gmail.users().messages().get(userId="me", id=inserted["id"], format="full").execute()
    payload = full["payload"]
    assert payload["mimeType"] == "multipart/alternative"
    assert [(p["partId"], p["mimeType"]) for p in payload["parts"]] == [
        ("0", "text/plain"),
        ("1", "text/html"),
    ]
    html = base64.urlsafe_b64decode(payload["parts"][1]["body"]["data"])
    assert html.strip() == b"<p>html words</p>"


def test_unknown_message_is_googles_404(gmail: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        gmail.users().messages().get(userId="me", id="ffff").execute()
    assert excinfo.value.status_code == 404
    assert error_of(excinfo)["errors"][0]["reason"] == "notFound"
    assert error_of(excinfo)["status"] == "NOT_FOUND"
