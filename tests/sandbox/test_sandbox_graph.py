"""The Graph sandbox driven with httpx over real HTTP, as the Outlook provider drives it."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.auth import Principal
from tests.support.builder import ME, Mailbox
from tests.support.graph_fixtures import graph, http

__all__ = ["graph", "http"]  # fixtures, used by name
KATHY = "Kathy Lee <kathy@contoso.example>"
IMMUTABLE = 'IdType="ImmutableId"'
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ghostwatch tests//EN
BEGIN:VEVENT
UID:demo-1
SUMMARY:Demo
DTSTART:20261118T150000Z
DTEND:20261118T160000Z
ORGANIZER:mailto:alex@ghostwatch.example
ATTENDEE;PARTSTAT=TENTATIVE:mailto:kathy@contoso.example
X-GHOSTWATCH-EXTERNAL-JOINED:TRUE
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph-seed")
    box = Mailbox(root)
    first = box.add("Sent", ME, KATHY, "Proposal", "2026-11-10 09:00", body="Here it is.\n")
    box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-11 10:00", reply_to=first)
    for n in range(12):
        box.add("INBOX", f"lead{n}@fabrikam.example", ME, f"Lead {n}", f"2026-11-12 08:{n:02d}")
    box.add("Junk", "raj@tailspin.example", ME, "RE: Integration", "2026-11-13 07:00")
    box.add("Drafts", ME, KATHY, "Re: Proposal", "2026-11-15 11:00", reply_to=first)
    box.add("Clients", "lee@fabrikam.example", ME, "Demo", "2026-11-14 16:00")
    box.calendar(EVENT)
    return root


def delta_all(http: httpx.Client, folder: str, **headers: str) -> tuple[list[Any], str, int]:
    """Every item of one delta round, its deltaLink and how many pages it took."""
    response = http.get(
        f"/me/mailFolders/{folder}/messages/delta",
        params={"$select": "subject,conversationId,internetMessageId"},
        headers=headers,
    )
    items, pages = [], 1
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["value"]
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"], pages
        response = http.get(page["@odata.nextLink"], headers=headers)
        pages += 1


def find_id(http: httpx.Client, subject: str, folder: str = "inbox", **headers: str) -> str:
    items, _, _ = delta_all(http, folder, **headers)
    return str(next(i["id"] for i in items if i.get("subject") == subject))


# --- delta --------------------------------------------------------------------------


def test_delta_pages_by_preferred_size_and_ends_with_a_delta_link(http: httpx.Client) -> None:
    items, link, pages = delta_all(http, "inbox", Prefer="odata.maxpagesize=5")
    assert len(items) == 13
    assert pages == 3
    assert {"subject", "conversationId", "internetMessageId", "id"} <= set(items[0])
    assert "body" not in items[0]  # $select carried in the links
    idle = http.get(link).json()
    assert idle["value"] == []
    assert "@odata.deltaLink" in idle


def test_default_page_is_ten_and_the_preference_is_echoed(http: httpx.Client) -> None:
    first = http.get("/me/mailFolders/inbox/messages/delta")
    assert len(first.json()["value"]) == 10
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=10"
    big = http.get(
        "/me/mailFolders/inbox/messages/delta", headers={"Prefer": "odata.maxpagesize=5000"}
    )
    assert big.headers["Preference-Applied"] == "odata.maxpagesize=1000"


def test_headers_only_when_selected(http: httpx.Client, graph: GraphSandbox) -> None:
    plain = http.get("/me/mailFolders/sentitems/messages/delta").json()["value"][0]
    assert "internetMessageHeaders" not in plain
    assert plain["subject"] == "Proposal"
    headers = {"$select": "internetMessageHeaders"}
    sent = http.get(f"/me/messages/{plain['id']}", params=headers).json()
    assert sent["internetMessageHeaders"] is None  # Exchange keeps none for Sent Items
    received = http.get(f"/me/messages/{find_id(http, 'Lead 3')}", params=headers).json()
    names = {h["name"].lower() for h in received["internetMessageHeaders"]}
    assert {"from", "to", "subject", "message-id", "date"} <= names


def test_a_read_state_change_comes_as_a_slim_item(http: httpx.Client) -> None:
    _, link, _ = delta_all(http, "inbox")
    lead = find_id(http, "Lead 2")
    assert http.patch(f"/me/messages/{lead}", json={"isRead": False}).status_code == 200
    [item] = http.get(link).json()["value"]
    assert set(item) == {"@odata.etag", "id", "isRead", "parentFolderId"}
    assert item["isRead"] is False


def test_replies_share_the_conversation(http: httpx.Client) -> None:
    sent, _, _ = delta_all(http, "sentitems")
    inbox, _, _ = delta_all(http, "inbox")
    reply = next(i for i in inbox if i["subject"] == "Re: Proposal")
    assert reply["conversationId"] == sent[0]["conversationId"]
    others = {i["conversationId"] for i in inbox if i["subject"].startswith("Lead")}
    assert len(others) == 12
    assert sent[0]["conversationId"] not in others


def test_changes_come_as_upserts_and_removals(http: httpx.Client, graph: GraphSandbox) -> None:
    _, inbox_link, _ = delta_all(http, "inbox", Prefer=IMMUTABLE)
    _, junk_link, _ = delta_all(http, "junkemail", Prefer=IMMUTABLE)
    junk_id = find_id(http, "RE: Integration", "junkemail", Prefer=IMMUTABLE)
    moved = http.post(f"/me/messages/{junk_id}/move", json={"destinationId": "inbox"},
                      headers={"Prefer": IMMUTABLE})  # fmt: skip
    assert moved.status_code == 201
    assert moved.json()["id"] == junk_id
    graph.deliver(b"From: new@northwind.example\nSubject: Hello\nMessage-ID: <n@x>\n\nHi\n")
    arrived = http.get(inbox_link, headers={"Prefer": IMMUTABLE}).json()["value"]
    assert {i["subject"] for i in arrived} == {"RE: Integration", "Hello"}
    removed = http.get(junk_link, headers={"Prefer": IMMUTABLE}).json()["value"]
    assert removed == [{"id": junk_id, "@removed": {"reason": "deleted"}}]


def test_an_expired_delta_token_answers_410(http: httpx.Client, graph: GraphSandbox) -> None:
    _, link, _ = delta_all(http, "inbox")
    graph.expire_delta()
    gone = http.get(link)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "syncStateNotFound"
    assert set(gone.json()["error"]) == {"code", "message", "innerError"}
    assert len(delta_all(http, "inbox")[0]) == 13  # a fresh round works


# --- ids and writes ----------------------------------------------------------------


def test_move_changes_the_rest_id_unless_immutable_ids_are_asked(http: httpx.Client) -> None:
    rest_id = find_id(http, "Lead 0")
    moved = http.post(f"/me/messages/{rest_id}/move", json={"destinationId": "junkemail"})
    assert moved.status_code == 201
    assert moved.json()["id"] != rest_id
    assert http.get(f"/me/messages/{rest_id}").status_code == 404
    immutable = find_id(http, "Lead 1", Prefer=IMMUTABLE)
    again = http.post(f"/me/messages/{immutable}/move", json={"destinationId": "junkemail"},
                      headers={"Prefer": IMMUTABLE})  # fmt: skip
    assert again.json()["id"] == immutable
    assert http.get(f"/me/messages/{immutable}").status_code == 200


def test_create_reply_makes_a_draft_in_the_conversation(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    original = find_id(http, "Re: Proposal")
    step = {"name": "X-Ghostwatch-Step", "value": "conv/nudge/1/abc"}
    made = http.post(f"/me/messages/{original}/createReply",
                     json={"message": {"internetMessageHeaders": [step]}})  # fmt: skip
    assert made.status_code == 201
    draft = made.json()
    assert draft["isDraft"] is True
    assert draft["subject"].lower() == "re: proposal"
    source = http.get(f"/me/messages/{original}").json()
    assert draft["conversationId"] == source["conversationId"]
    assert draft["toRecipients"][0]["emailAddress"]["address"] == "kathy@contoso.example"
    text = {"body": {"contentType": "text", "content": "Any news?"}}
    patched = http.patch(f"/me/messages/{draft['id']}", json=text)
    assert patched.status_code == 200
    assert patched.json()["body"]["content"] == "Any news?"
    headers = http.get(f"/me/messages/{draft['id']}", params={"$select": "internetMessageHeaders"})
    assert step in headers.json()["internetMessageHeaders"]
    assert [w.method for w in graph.writes] == ["messages.createReply", "messages.update"]


def test_custom_headers_read_back_as_named_properties(http: httpx.Client) -> None:
    prop = "String {00020386-0000-0000-C000-000000000046} Name X-Ghostwatch-Step"
    expand = {"$expand": f"singleValueExtendedProperties($filter=id eq '{prop}')"}
    original = find_id(http, "Re: Proposal")
    step = {"name": "X-Ghostwatch-Step", "value": "conv/nudge/1/abc"}
    body = {"message": {"internetMessageHeaders": [step]}}
    draft = http.post(f"/me/messages/{original}/createReply", json=body).json()
    got = http.get(f"/me/messages/{draft['id']}", params={"$select": "isDraft", **expand})
    [found] = got.json()["singleValueExtendedProperties"]
    assert (found["id"].lower(), found["value"]) == (prop.lower(), step["value"])
    plain = http.get(f"/me/messages/{original}", params={"$select": "isDraft", **expand})
    assert "singleValueExtendedProperties" not in plain.json()  # none: left out
    first = http.get(
        "/me/mailFolders/drafts/messages/delta", params={"$select": "isDraft", **expand}
    )
    made = [i for i in first.json()["value"] if i["id"] == draft["id"]]
    assert made[0]["singleValueExtendedProperties"][0]["value"] == step["value"]
    assert (
        http.get(f"/me/messages/{original}", params={"$expand": "attachments"}).status_code == 400
    )


def test_custom_headers_only_x_and_only_on_create(http: httpx.Client) -> None:
    original = find_id(http, "Re: Proposal")
    both = http.post(f"/me/messages/{original}/createReply", json={"comment": "a", "message": {}})
    assert both.status_code == 400
    bad = {"message": {"internetMessageHeaders": [{"name": "Step", "value": "1"}]}}
    assert http.post(f"/me/messages/{original}/createReply", json=bad).status_code == 400
    draft = http.post(f"/me/messages/{original}/createReply", json={}).json()
    late = {"internetMessageHeaders": [{"name": "X-Late", "value": "1"}]}
    assert http.patch(f"/me/messages/{draft['id']}", json=late).status_code == 400
    received = http.patch(f"/me/messages/{original}", json={"body": {"content": "edited"}})
    assert received.status_code == 400
    assert http.patch(f"/me/messages/{original}", json={"isRead": False}).status_code == 200


def test_created_messages_are_drafts_unless_the_flags_say_sent(http: httpx.Client) -> None:
    draft = http.post("/me/messages", json={"subject": "Note"}).json()
    assert draft["isDraft"] is True
    flags = [{"id": "Integer 0x0E07", "value": "1"}]
    body = {"subject": "Digest", "singleValueExtendedProperties": flags,
            "internetMessageId": "<digest-1@ghostwatch.example>"}  # fmt: skip
    made = http.post("/me/mailFolders/inbox/messages", json=body)
    assert made.status_code == 201
    assert made.json()["isDraft"] is False
    wanted = {"$filter": "internetMessageId eq '<digest-1@ghostwatch.example>'"}
    found = http.get("/me/messages", params=wanted)
    assert [m["id"] for m in found.json()["value"]] == [made.json()["id"]]


@pytest.mark.parametrize(("flags", "is_read", "read"), [("0", None, False), ("1", None, True),
                         ("1", False, True), ("0", True, False), ("9", None, True)])  # fmt: skip
def test_the_flags_read_bit_decides_whether_a_created_message_is_read(
    http: httpx.Client, flags: str, is_read: bool | None, read: bool
) -> None:
    """isRead is the read bit of PR_MESSAGE_FLAGS; given both, the flags win (the case a
    client cannot rely on), so only flags without the bit make an unread message."""
    body: dict[str, object] = {"singleValueExtendedProperties": [
        {"id": "Integer 0x0E07", "value": flags}]}  # fmt: skip
    if is_read is not None:
        body["isRead"] = is_read
    made = http.post("/me/mailFolders/inbox/messages", json=body).json()
    assert (made["isRead"], made["isDraft"]) == (read, flags == "9")


def test_sending_is_refused_and_recorded(http: httpx.Client, graph: GraphSandbox) -> None:
    original = find_id(http, "Re: Proposal")
    draft = http.post(f"/me/messages/{original}/createReply", json={}).json()
    assert http.post(f"/me/messages/{draft['id']}/send").status_code == 403
    assert http.post("/me/sendMail", json={"message": {}}).status_code == 403
    assert len(graph.sent) == 2


def test_mime_of_a_seeded_message(http: httpx.Client) -> None:
    original = find_id(http, "Re: Proposal")
    mime = http.get(f"/me/messages/{original}/$value")
    assert mime.status_code == 200
    assert b"Subject: Re: Proposal" in mime.content


# --- batching ------------------------------------------------------------------------


def test_batch_answers_every_part_with_its_own_status(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    graph.meter.reset()
    requests = [
        {"id": "a", "method": "GET", "url": "/me/mailFolders/inbox/messages/delta"},
        {"id": "b", "method": "GET", "url": "/me/messages/no-such-id"},
        {"id": "c", "method": "GET", "url": "/me/messages/x", "dependsOn": ["b"]},
        {"id": "d", "method": "POST", "url": "/me/messages", "body": {"subject": "x"}},
    ]
    answer = http.post("/$batch", json={"requests": requests})
    assert answer.status_code == 200
    status = {part["id"]: part["status"] for part in answer.json()["responses"]}
    assert status == {"a": 200, "b": 404, "c": 424, "d": 400}
    assert (graph.meter.requests, graph.meter.calls) == (1, 2)


def test_batch_of_more_than_twenty_is_refused(http: httpx.Client) -> None:
    one = {"method": "GET", "url": "/me/mailFolders/inbox/messages/delta"}
    parts = [{"id": str(n), **one} for n in range(21)]
    assert http.post("/$batch", json={"requests": parts}).status_code == 400
    twenty = http.post("/$batch", json={"requests": parts[:20]})
    assert len(twenty.json()["responses"]) == 20


# --- auth, throttling, faults --------------------------------------------------------


def test_tokens_decide_who_is_me(graph: GraphSandbox) -> None:
    url = graph.base_url
    assert httpx.get(f"{url}/me/messages/x").status_code == 401
    app = {"Authorization": f"Bearer {graph.app_token}"}
    assert httpx.get(f"{url}/me/mailFolders/inbox/messages/delta", headers=app).status_code == 400
    mine = httpx.get(f"{url}/users/{ME}/mailFolders/inbox/messages/delta", headers=app)
    assert mine.status_code == 200
    other = httpx.get(f"{url}/users/bob@example.com/mailFolders/inbox/messages/delta", headers=app)
    assert other.status_code == 404
    graph.tokens.add_verifier(lambda token: Principal(ME) if token == "from-auth" else None)
    issued = {"Authorization": "Bearer from-auth"}
    assert (
        httpx.get(f"{url}/me/mailFolders/inbox/messages/delta", headers=issued).status_code == 200
    )


def test_throttling_is_per_mailbox_with_retry_after(seed_dir: Path) -> None:
    with GraphSandbox.serve(seed=seed_dir, user=ME, throttle_limit=3) as graph:
        headers = {"Authorization": f"Bearer {graph.token}"}
        url = f"{graph.base_url}/me/mailFolders/inbox/messages/delta"
        answers = [httpx.get(url, headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].json()["error"]["code"] == "ApplicationThrottled"
        assert graph.meter.rejected == 1


def test_defaults_are_outlooks_limits_10000_in_10_minutes_and_4_at_once() -> None:
    graph = GraphSandbox(user=ME)
    assert (graph.quota.limit, graph.quota.window, graph.slots.limit) == (10_000, 600.0, 4)


def _at_once(work: list[Callable[[], int]]) -> list[int]:
    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(lambda run: run(), work))


def test_a_fifth_request_at_once_is_refused_for_mailbox_concurrency(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    graph.faults.add("slow", count=6, method="messages.delta", delay=0.6)
    url = "/me/mailFolders/inbox/messages/delta"
    answers = _at_once([lambda: http.get(url).status_code for _ in range(6)])
    assert sorted(answers) == [200, 200, 200, 200, 429, 429]
    assert graph.slots.peak == 4


def test_a_batch_holds_four_slots_while_it_runs(http: httpx.Client, graph: GraphSandbox) -> None:
    graph.faults.add("slow", count=1, method="messages.delta", delay=0.8)
    one = {"method": "GET", "url": "/me/mailFolders/inbox/messages/delta"}
    parts = [{"id": str(n), **one} for n in range(10)]

    def batch() -> int:
        return http.post("/$batch", json={"requests": parts}).status_code

    def late() -> int:
        time.sleep(0.3)
        answer = http.get("/me/mailFolders/inbox/messages/delta")
        assert "MailboxConcurrency" in answer.json()["error"]["message"]
        return answer.status_code

    assert _at_once([batch, late]) == [200, 429]


def test_faults_answer_in_graph_shapes(http: httpx.Client, graph: GraphSandbox) -> None:
    graph.faults.add("503", method="messages.delta", retry_after=2)
    failed = http.get("/me/mailFolders/inbox/messages/delta")
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    assert failed.json()["error"]["code"] == "ServiceUnavailable"
    graph.faults.add("drop", method="messages.delta")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/me/mailFolders/inbox/messages/delta")
    assert graph.faults.fired == [("503", "messages.delta"), ("drop", "messages.delta")]
    assert http.get("/me/mailFolders/inbox/messages/delta").status_code == 200


# --- calendar and attendance ---------------------------------------------------------


def test_calendar_view_delta_with_attendee_responses(http: httpx.Client) -> None:
    window = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
    page = http.get("/me/calendarView/delta", params=window).json()
    [event] = page["value"]
    assert event["iCalUId"] == "demo-1"
    assert event["start"]["timeZone"] == "UTC"
    statuses = {a["emailAddress"]["address"]: a["status"]["response"] for a in event["attendees"]}
    assert statuses == {"kathy@contoso.example": "tentativelyAccepted"}
    assert http.get(page["@odata.deltaLink"]).json()["value"] == []
    outside = {"startDateTime": "2027-06-01T00:00:00Z", "endDateTime": "2027-07-01T00:00:00Z"}
    assert http.get("/me/calendarView/delta", params=outside).json()["value"] == []
    assert http.get("/me/calendarView/delta").status_code == 400


def test_attendance_reports_of_the_online_meeting(http: httpx.Client, graph: GraphSandbox) -> None:
    window = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
    [event] = http.get("/me/calendarView/delta", params=window).json()["value"]
    url = event["onlineMeeting"]["joinUrl"]
    [meeting] = http.get("/me/onlineMeetings", params={"$filter": f"JoinWebUrl eq '{url}'"}).json()[
        "value"
    ]
    [report] = http.get(f"/me/onlineMeetings/{meeting['id']}/attendanceReports").json()["value"]
    records = http.get(
        f"/me/onlineMeetings/{meeting['id']}/attendanceReports/{report['id']}/attendanceRecords"
    ).json()["value"]
    assert {r["emailAddress"] for r in records} == {ME, "kathy@contoso.example"}
    graph.set_attendance("demo-1", joined_by_outsiders=False)
    [report] = http.get(f"/me/onlineMeetings/{meeting['id']}/attendanceReports").json()["value"]
    again = http.get(
        f"/me/onlineMeetings/{meeting['id']}/attendanceReports/{report['id']}/attendanceRecords"
    ).json()["value"]
    assert [r["emailAddress"] for r in again] == [ME]


def test_categories_are_set_by_patch_and_come_in_delta(http: httpx.Client) -> None:
    """resources/message `categories`: a string collection, writable by PATCH on any
    message (not only drafts), returned when selected, in the next delta round."""
    response = http.get(
        "/me/mailFolders/inbox/messages/delta", params={"$select": "subject,categories"}
    )
    while "@odata.deltaLink" not in response.json():
        response = http.get(response.json()["@odata.nextLink"])
    link = response.json()["@odata.deltaLink"]
    lead = find_id(http, "Lead 2")
    body = {"categories": ["ghostwatch/vip", "Red category"]}
    assert http.patch(f"/me/messages/{lead}", json=body).status_code == 200
    [item] = http.get(link).json()["value"]
    assert item["categories"] == ["ghostwatch/vip", "Red category"]
    assert http.patch(f"/me/messages/{lead}", json={"categories": "vip"}).status_code == 400
