"""The Gmail sandbox, driven by the real google-api-python-client over HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import google_auth_httplib2
import googleapiclient
import googleapiclient.http
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME
from tests.support.sandbox_fixtures import KATHY, client, gmail, sandbox, seed_dir

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


# -- writes and history ----------------------------------------------------------


def changes(gmail: Any, start: str, **params: Any) -> list[tuple[str, str]]:
    """(kind, message id) of every history record after `start`, across pages."""
    out: list[tuple[str, str]] = []
    request = gmail.users().history().list(userId="me", startHistoryId=start, **params)
    while request is not None:
        page = request.execute()
        for record in page.get("history", []):
            for kind in ("messagesAdded", "messagesDeleted", "labelsAdded", "labelsRemoved"):
                out += [(kind, entry["message"]["id"]) for entry in record.get(kind, [])]
        request = gmail.users().history().list_next(request, page)
    return out


def test_modify_changes_labels_and_records_history(gmail: Any, sandbox: GmailSandbox) -> None:
    start = history_id(gmail)
    (message_id,) = ids(gmail, labelIds=["UNREAD"])
    body = {"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}
    done = gmail.users().messages().modify(userId="me", id=message_id, body=body).execute()
    assert done["labelIds"] == ["INBOX", "STARRED"]
    assert changes(gmail, start) == [("labelsAdded", message_id), ("labelsRemoved", message_id)]
    assert changes(gmail, start, historyTypes=["labelRemoved"]) == [("labelsRemoved", message_id)]
    assert [w.method for w in sandbox.writes] == ["messages.modify"]
    with pytest.raises(HttpError) as excinfo:
        gmail.users().messages().modify(
            userId="me", id=message_id, body={"addLabelIds": ["SENT"]}
        ).execute()
    assert excinfo.value.status_code == 400
    assert error_of(excinfo)["message"] == "Invalid label: SENT"


def test_spam_rescue_moves_a_reply_back(gmail: Any) -> None:
    (junk,) = ids(gmail, q="in:spam")
    body = {"addLabelIds": ["INBOX"], "removeLabelIds": ["SPAM"]}
    gmail.users().messages().modify(userId="me", id=junk, body=body).execute()
    assert junk in ids(gmail, q="in:inbox")
    assert ids(gmail, q="in:spam") == []


def test_insert_threads_a_reply_with_the_labels_it_names(gmail: Any) -> None:
    """messages.insert is like IMAP APPEND: the labels named, no others. A message From the
    user (raw_message's default sender is ME) is not made SENT by being inserted."""
    start = history_id(gmail)
    thread_id = thread_of(gmail, "Proposal")
    sent = gmail.users().messages().get(userId="me", id=thread_id, format="metadata").execute()
    parent = next(h["value"] for h in sent["payload"]["headers"] if h["name"] == "Message-ID")
    raw = raw_message("Re: Proposal", reply_to=parent)
    body = {"raw": raw, "labelIds": [], "threadId": thread_id}
    inserted = gmail.users().messages().insert(userId="me", body=body).execute()
    assert inserted["threadId"] == thread_id
    assert inserted["labelIds"] == []
    assert ids(gmail, q="in:sent subject:Proposal") == [thread_id]  # only what was sent
    other = (
        gmail.users()
        .messages()
        .insert(userId="me", body={"raw": raw_message("Unrelated"), "labelIds": ["INBOX"]})
        .execute()
    )
    assert other["threadId"] == other["id"]
    assert other["labelIds"] == ["INBOX"]
    assert changes(gmail, start) == [
        ("messagesAdded", inserted["id"]),
        ("messagesAdded", other["id"]),
    ]


def test_drafts_crud_and_history(gmail: Any, sandbox: GmailSandbox) -> None:
    start = history_id(gmail)
    drafts = gmail.users().drafts()
    thread_id = thread_of(gmail, "Proposal")
    body = {
        "message": {"raw": raw_message("Re: Proposal", reply_to="<x@y>"), "threadId": thread_id}
    }
    created = drafts.create(userId="me", body=body).execute()
    assert created["message"]["labelIds"] == ["DRAFT"]
    got = drafts.get(userId="me", id=created["id"], format="raw").execute()
    assert base64.urlsafe_b64decode(got["message"]["raw"]).startswith(b"From: ")
    listed = drafts.list(userId="me").execute()
    assert listed["drafts"][0]["id"] == created["id"]
    assert listed["resultSizeEstimate"] == 2
    new_body = {"message": {"raw": raw_message("Re: Proposal", body="Second try.\n")}}
    updated = drafts.update(userId="me", id=created["id"], body=new_body).execute()
    assert updated["id"] == created["id"]
    assert updated["message"]["id"] != created["message"]["id"]
    drafts.delete(userId="me", id=created["id"]).execute()
    with pytest.raises(HttpError) as excinfo:
        drafts.get(userId="me", id=created["id"]).execute()
    assert excinfo.value.status_code == 404
    first, second = created["message"]["id"], updated["message"]["id"]
    assert changes(gmail, start) == [
        ("messagesAdded", first),
        ("messagesDeleted", first),
        ("messagesAdded", second),
        ("messagesDeleted", second),
    ]
    assert [w.method for w in sandbox.writes] == ["drafts.create", "drafts.update", "drafts.delete"]
    assert sandbox.sent == []


def test_history_pages_filters_and_reports_the_current_id(gmail: Any) -> None:
    start = history_id(gmail)
    for message_id in ids(gmail, q="in:inbox"):
        body = {"addLabelIds": ["STARRED"]}
        gmail.users().messages().modify(userId="me", id=message_id, body=body).execute()
    page = gmail.users().history().list(userId="me", startHistoryId=start, maxResults=2).execute()
    assert len(page["history"]) == 2
    assert "nextPageToken" in page
    assert page["historyId"] == history_id(gmail)
    record_ids = [int(r["id"]) for r in page["history"]]
    assert record_ids == sorted(record_ids)
    assert len(changes(gmail, start, labelId="STARRED")) == 3
    assert changes(gmail, start, labelId="SPAM") == []
    assert changes(gmail, history_id(gmail)) == []


def test_history_too_old_is_404(gmail: Any, sandbox: GmailSandbox) -> None:
    start = history_id(gmail)
    (message_id,) = ids(gmail, q="in:sent")
    gmail.users().messages().modify(
        userId="me", id=message_id, body={"addLabelIds": ["STARRED"]}
    ).execute()
    sandbox.expire_history()
    with pytest.raises(HttpError) as excinfo:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert excinfo.value.status_code == 404
    assert error_of(excinfo)["errors"][0]["reason"] == "notFound"
    assert gmail.users().history().list(userId="me", startHistoryId=history_id(gmail)).execute()


def test_send_is_refused_and_recorded(gmail: Any, sandbox: GmailSandbox) -> None:
    with pytest.raises(HttpError) as excinfo:
        gmail.users().messages().send(userId="me", body={"raw": raw_message("Hi")}).execute()
    assert excinfo.value.status_code == 403
    created = (
        gmail.users()
        .drafts()
        .create(userId="me", body={"message": {"raw": raw_message("Hi")}})
        .execute()
    )
    with pytest.raises(HttpError):
        gmail.users().drafts().send(userId="me", body={"id": created["id"]}).execute()
    assert [w.method for w in sandbox.sent] == ["messages.send", "drafts.send"]
    assert ids(gmail, q="in:sent subject:Hi") == []


# -- batch -----------------------------------------------------------------------


def test_batch_of_100_is_one_request_and_100_calls(gmail: Any, sandbox: GmailSandbox) -> None:
    message_ids = ids(gmail, includeSpamTrash=True)
    answers: dict[str, str] = {}

    def collect(request_id: str, response: dict[str, Any], error: Exception | None) -> None:
        assert error is None
        answers[request_id] = response["id"]

    # The client's own batch URL ignores api_endpoint (docs/providers.md): name it.
    batch = BatchHttpRequest(callback=collect, batch_uri=sandbox.batch_uri)
    wanted = [message_ids[i % len(message_ids)] for i in range(100)]
    for message_id in wanted:
        batch.add(gmail.users().messages().get(userId="me", id=message_id, format="minimal"))
    sandbox.meter.reset()
    batch.execute()
    assert [answers[str(i + 1)] for i in range(100)] == wanted
    assert (sandbox.meter.requests, sandbox.meter.calls, sandbox.meter.units) == (1, 100, 500)
    assert sandbox.meter.methods == {"messages.get": 100}


def test_batch_parts_fail_on_their_own(gmail: Any, sandbox: GmailSandbox) -> None:
    results: list[Any] = []
    batch = BatchHttpRequest(
        callback=lambda _id, response, error: results.append(error or response),
        batch_uri=sandbox.url + "/batch",
    )
    batch.add(gmail.users().getProfile(userId="me"))
    batch.add(gmail.users().messages().get(userId="me", id="missing"))
    batch.execute()
    assert results[0]["emailAddress"] == ME
    assert isinstance(results[1], HttpError)
    assert results[1].status_code == 404


def test_batch_of_101_is_refused(gmail: Any, sandbox: GmailSandbox) -> None:
    batch = BatchHttpRequest(batch_uri=sandbox.batch_uri)
    for _ in range(101):
        batch.add(gmail.users().getProfile(userId="me"))
    sandbox.meter.reset()
    with pytest.raises(HttpError) as excinfo:
        batch.execute()
    assert excinfo.value.status_code == 400
    assert (sandbox.meter.requests, sandbox.meter.calls) == (1, 0)


# -- quota, auth, faults -----------------------------------------------------------


@pytest.mark.parametrize("status", [429, 403])
def test_quota_exhaustion_is_user_rate_limit(seed_dir: Path, status: int) -> None:
    with GmailSandbox.serve(seed=seed_dir, quota_limit=20, quota_status=status) as box:
        gmail = client(box)
        (message_id,) = ids(gmail, q="in:sent")  # 5 units
        for _ in range(3):
            gmail.users().messages().get(userId="me", id=message_id).execute()
        with pytest.raises(HttpError) as excinfo:
            gmail.users().messages().get(userId="me", id=message_id).execute()
        assert excinfo.value.status_code == status
        error = error_of(excinfo)
        assert error["errors"][0]["reason"] == "userRateLimitExceeded"
        assert error["errors"][0]["domain"] == "usageLimits"
        assert (box.meter.units, box.meter.rejected) == (20, 1)


def test_quota_window_moves(seed_dir: Path) -> None:
    with GmailSandbox.serve(seed=seed_dir, quota_limit=2, quota_window=0.2) as box:
        gmail = client(box)
        for _ in range(2):
            gmail.users().getProfile(userId="me").execute()
        with pytest.raises(HttpError):
            gmail.users().getProfile(userId="me").execute()
        time.sleep(0.25)
        assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == ME


def test_google_auth_refreshes_against_the_token_endpoint(sandbox: GmailSandbox) -> None:
    credentials = sandbox.credentials()
    gmail = client(sandbox, credentials)
    gmail.users().getProfile(userId="me").execute()
    first = credentials.token
    assert first
    sandbox.expire_tokens()  # the next call gets 401; google-auth refreshes and retries
    gmail.users().getProfile(userId="me").execute()
    assert credentials.token != first


def test_revoked_grant_raises_refresh_error(sandbox: GmailSandbox) -> None:
    gmail = client(sandbox)
    gmail.users().getProfile(userId="me").execute()
    sandbox.revoke()
    with pytest.raises(RefreshError, match="invalid_grant"):
        gmail.users().getProfile(userId="me").execute()


def test_no_token_is_googles_401(sandbox: GmailSandbox) -> None:
    gmail = client(sandbox, http=httplib2.Http())
    with pytest.raises(HttpError) as excinfo:
        gmail.users().getProfile(userId="me").execute()
    assert excinfo.value.status_code == 401
    assert error_of(excinfo)["status"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("429", 429, "rateLimitExceeded"),
        ("403", 403, "userRateLimitExceeded"),
        ("500", 500, "backendError"),
        ("503", 503, "backendError"),
        ("502", 502, None),
    ],
)
def test_error_faults(
    gmail: Any, sandbox: GmailSandbox, kind: str, status: int, reason: str | None
) -> None:
    sandbox.faults.add(kind, method="getProfile")
    with pytest.raises(HttpError) as excinfo:
        gmail.users().getProfile(userId="me").execute()
    assert excinfo.value.status_code == status
    if reason is None:
        assert b"Error 502" in excinfo.value.content  # Google's front end answers HTML
    else:
        assert error_of(excinfo)["errors"][0]["reason"] == reason
    if kind == "429":
        assert excinfo.value.resp["retry-after"] == "1"
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == ME


def test_client_retries_server_errors(
    gmail: Any, sandbox: GmailSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(googleapiclient.http.time, "sleep", lambda _s: None)
    sandbox.faults.add("503", count=2)
    assert gmail.users().getProfile(userId="me").execute(num_retries=3)["emailAddress"] == ME
    assert sandbox.meter.methods["getProfile"] == 3


def test_slow_response_trips_a_client_timeout(sandbox: GmailSandbox) -> None:
    http = google_auth_httplib2.AuthorizedHttp(
        sandbox.credentials(), http=httplib2.Http(timeout=0.2)
    )
    gmail = client(sandbox, http=http)
    sandbox.faults.add("slow", method="getProfile", delay=0.6)
    with pytest.raises(TimeoutError):
        gmail.users().getProfile(userId="me").execute()


def test_dropped_connections(gmail: Any, sandbox: GmailSandbox) -> None:
    sandbox.faults.add("drop")  # httplib2 silently retries a closed connection once
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == ME
    assert sandbox.meter.requests == 2
    sandbox.faults.add("drop", count=2)
    with pytest.raises(ConnectionError):
        gmail.users().getProfile(userId="me").execute()


def test_truncated_and_malformed_bodies(gmail: Any, sandbox: GmailSandbox) -> None:
    sandbox.faults.add("truncate", method="getProfile")
    with pytest.raises(http.client.IncompleteRead):
        gmail.users().getProfile(userId="me").execute()
    sandbox.faults.add("malformed", method="getProfile")
    # The client hands back the undecodable text instead of raising: callers must check.
    answer = gmail.users().getProfile(userId="me").execute()
    assert isinstance(answer, str)
    assert answer.startswith("{")
    assert [kind for kind, _ in sandbox.faults.fired] == ["truncate", "malformed"]


# -- schema: every answer has the discovery document's shape ------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def conform(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """Every key must be in the schema's properties (following $ref) with its JSON type."""
    if "$ref" in schema:
        schema = DISCOVERY["schemas"][schema["$ref"]]
    kind = schema["type"]
    assert isinstance(value, _JSON_TYPES[kind]), f"{where}: {value!r} is not {kind}"
    value = cast(Any, value)  # checked just above against the schema's type
    assert kind in ("boolean", "object") or not isinstance(value, bool), f"{where}: a bool"
    if schema.get("format") in ("uint64", "int64"):
        assert value.isdigit(), f"{where}: {value!r} is not a {schema['format']} string"
    if schema.get("format") == "byte":
        base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if kind == "array":
        for i, item in enumerate(value):
            conform(item, schema["items"], f"{where}[{i}]")
    if kind == "object":
        properties = schema.get("properties", {})
        for key, item in value.items():
            assert key in properties, f"{where}: {key!r} is not in {schema.get('id', 'schema')}"
            conform(item, properties[key], f"{where}.{key}")


def response_schema(method_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = DISCOVERY["resources"]["users"]
    *path, name = method_id.split(".")
    for part in path:
        resource = resource["resources"][part]
    schema: dict[str, Any] = resource["methods"][name]["response"]
    return schema


def every_answer(gmail: Any) -> list[tuple[str, Any]]:
    users = gmail.users()
    start = history_id(gmail)
    (sent,) = ids(gmail, q="in:sent")
    thread_id = thread_of(gmail, "Proposal")
    answers: list[tuple[str, Any]] = [
        ("getProfile", users.getProfile(userId="me")),
        ("messages.list", users.messages().list(userId="me", maxResults=2)),
        ("threads.list", users.threads().list(userId="me", maxResults=2)),
        ("labels.list", users.labels().list(userId="me")),
        ("labels.get", users.labels().get(userId="me", id="INBOX")),
        ("drafts.list", users.drafts().list(userId="me")),
    ]
    for fmt in ("minimal", "metadata", "full", "raw"):
        answers.append(("messages.get", users.messages().get(userId="me", id=sent, format=fmt)))
        if fmt != "raw":  # threads.get has no raw format
            thread = users.threads().get(userId="me", id=thread_id, format=fmt)
            answers.append(("threads.get", thread))
    answers.append(
        (
            "messages.modify",
            users.messages().modify(userId="me", id=sent, body={"addLabelIds": ["STARRED"]}),
        )
    )
    insert = {"raw": raw_message("Schema"), "labelIds": ["INBOX", "UNREAD"]}
    answers.append(("messages.insert", users.messages().insert(userId="me", body=insert)))
    out = [(name, request.execute()) for name, request in answers]
    draft = (
        users.drafts().create(userId="me", body={"message": {"raw": raw_message("D")}}).execute()
    )
    out.append(("drafts.create", draft))
    for fmt in ("minimal", "metadata", "full", "raw"):
        out.append(
            ("drafts.get", users.drafts().get(userId="me", id=draft["id"], format=fmt).execute())
        )
    body = {"message": {"raw": raw_message("D2")}}
    out.append(
        ("drafts.update", users.drafts().update(userId="me", id=draft["id"], body=body).execute())
    )
    users.drafts().delete(userId="me", id=draft["id"]).execute()
    out.append(("history.list", users.history().list(userId="me", startHistoryId=start).execute()))
    return out


def test_every_answer_matches_the_discovery_schema(gmail: Any) -> None:
    answers = every_answer(gmail)
    assert {name for name, _ in answers} >= {
        "getProfile", "messages.list", "messages.get", "messages.modify", "messages.insert",
        "threads.list", "threads.get", "history.list", "drafts.create", "drafts.get",
        "drafts.update", "drafts.list", "labels.list", "labels.get",
    }  # fmt: skip
    history = dict(answers)["history.list"]["history"]
    assert {key for record in history for key in record} >= {
        "messagesAdded", "messagesDeleted", "labelsAdded",
    }  # fmt: skip
    for name, answer in answers:
        conform(answer, response_schema(name), name)


def test_the_checker_catches_drift() -> None:
    with pytest.raises(AssertionError, match="'threadID' is not in Message"):
        conform({"id": "1", "threadID": "1"}, {"$ref": "Message"})
    with pytest.raises(AssertionError, match="is not a uint64 string"):
        conform({"historyId": "abc"}, {"$ref": "Profile"})
    with pytest.raises(AssertionError, match="is not integer"):
        conform({"messagesTotal": "3"}, {"$ref": "Profile"})


def test_a_user_label_is_created_applied_and_seen_in_history(
    gmail: Any, sandbox: GmailSandbox
) -> None:
    """users.labels.create (a `Label_N` id, the name kept as given; a name taken is 409),
    then messages.modify with it, seen as history's labelsAdded with the message's labels."""
    labels = gmail.users().labels()
    made = labels.create(userId="me", body={"name": "ghostwatch/mute"}).execute()
    assert made["id"].startswith("Label_")
    assert made["name"] == "ghostwatch/mute"
    assert made["type"] == "user"
    listed = labels.list(userId="me").execute()["labels"]
    assert {"id": made["id"], "name": "ghostwatch/mute"}.items() <= next(
        x for x in listed if x["id"] == made["id"]
    ).items()
    with pytest.raises(HttpError) as excinfo:
        labels.create(userId="me", body={"name": "GhostWatch/Mute"}).execute()
    assert excinfo.value.status_code == 409
    start = history_id(gmail)
    (message_id,) = ids(gmail, labelIds=["UNREAD"])
    body = {"addLabelIds": [made["id"]]}
    gmail.users().messages().modify(userId="me", id=message_id, body=body).execute()
    assert changes(gmail, start) == [("labelsAdded", message_id)]
    assert [w.method for w in sandbox.writes] == ["labels.create", "messages.modify"]
