"""The Graph sandbox's mail folders, driven with httpx over real HTTP: listing, the folder
tree's delta, making, moving and deleting folders, and mail in folders of the user's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ghostwatch_sandbox.microsoft import GraphSandbox
from tests.support.builder import ME, Mailbox
from tests.support.graph_fixtures import graph, http

__all__ = ["graph", "http"]  # fixtures, used by name
KATHY = "Kathy Lee <kathy@contoso.example>"
IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}
TOP_LEVEL = ["Archive", "Clients", "Conversation History", "Deleted Items", "Drafts",
             "Inbox", "Junk Email", "Outbox", "Sent Items", "Sync Issues"]  # fmt: skip


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph-folders")
    box = Mailbox(root)
    first = box.add("Sent", ME, KATHY, "Proposal", "2026-11-10 09:00")
    box.add("Archive", KATHY, ME, "Re: Proposal", "2026-11-11 10:00", reply_to=first)
    box.add("Clients.Contoso", KATHY, ME, "Contract", "2026-11-12 10:00")
    box.add("INBOX.Leads", "lee@fabrikam.example", ME, "Hello", "2026-11-12 11:00")
    box.folder("Clients.Empty")
    return root


def names(page: dict[str, Any]) -> list[str]:
    return [f["displayName"] for f in page["value"]]


def follow(http: httpx.Client, url: str, **headers: str) -> tuple[list[Any], str]:
    """Every item of a round (or listing) and its delta link ("" for a listing)."""
    items: list[Any] = []
    while True:
        page = http.get(url, headers=headers).json()
        items += page["value"]
        if "@odata.nextLink" not in page:
            return items, page.get("@odata.deltaLink", "")
        url = page["@odata.nextLink"]


def subjects(http: httpx.Client, folder: str) -> list[str]:
    items, _ = follow(http, f"/me/mailFolders/{folder}/messages/delta?$select=subject")
    return sorted(i["subject"] for i in items if "@removed" not in i)


def test_a_maildir_seeds_nested_folders_and_the_well_known_archive(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    archive = http.get("/me/mailFolders/archive").json()
    assert archive["id"] == graph.folder_id("Archive") == graph.folder_id("archive")
    assert (archive["displayName"], archive["totalItemCount"]) == ("Archive", 1)
    clients = graph.folder_id("Clients")
    children = http.get(f"/me/mailFolders/{clients}/childFolders").json()
    assert names(children) == ["Contoso", "Empty"]
    assert children["value"][0]["parentFolderId"] == clients
    assert subjects(http, graph.folder_id("Clients/Contoso")) == ["Contract"]
    assert subjects(http, graph.folder_id("Inbox/Leads")) == ["Hello"]
    assert subjects(http, "archive") == ["Re: Proposal"]


def test_listing_pages_by_ten_or_top_and_hides_hidden_folders(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    graph.add_folder("Zeta", hidden=True)
    first = http.get("/me/mailFolders").json()
    assert names(first) == TOP_LEVEL
    assert "@odata.nextLink" not in first
    every, _ = follow(http, "/me/mailFolders?includeHiddenFolders=true&$top=4")
    assert [f["displayName"] for f in every] == [*TOP_LEVEL, "Zeta"]
    assert [f["isHidden"] for f in every][-2:] == [False, True]
    page = http.get("/me/mailFolders?$top=3&$select=displayName").json()
    assert page["value"][0] == {"id": graph.folder_id("Archive"), "displayName": "Archive"}
    assert "$skip=3" in page["@odata.nextLink"].replace("%24", "$")
    assert http.get("/me/mailFolders?$top=0").status_code == 400
    assert http.get("/me/mailFolders?$select=colour").status_code == 400


def test_folder_delta_is_the_whole_tree_then_what_changed(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    tree, link = follow(http, "/me/mailFolders/delta", Prefer="odata.maxpagesize=5")
    by_name = {f["displayName"]: f for f in tree}
    assert set(by_name) >= {*TOP_LEVEL, "Contoso", "Empty", "Leads", "Conflicts"}
    assert "Top of Information Store" not in by_name
    assert by_name["Contoso"]["parentFolderId"] == graph.folder_id("Clients")
    assert follow(http, link)[0] == []  # nothing changed
    made = http.post(f"/me/mailFolders/{graph.folder_id('Clients')}/childFolders",
                     json={"displayName": "Tailspin"})  # fmt: skip
    assert made.status_code == 201
    http.delete(f"/me/mailFolders/{graph.folder_id('Clients/Empty')}")
    changed, link = follow(http, link)
    assert {f["displayName"]: f["parentFolderId"] for f in changed} == {
        "Tailspin": graph.folder_id("Clients"),
        "Empty": graph.folder_id("deleteditems"),  # deleting moves it into Deleted Items
    }
    gone = graph.folder_id("Deleted Items/Empty")
    assert http.post(f"/me/mailFolders/{gone}/permanentDelete").status_code == 204
    assert follow(http, link)[0] == [{"id": gone, "@removed": {"reason": "deleted"}}]
    graph.expire_delta()
    assert http.get(link).status_code == 410


def test_a_message_moves_into_a_folder_of_the_users_own(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    contoso = graph.folder_id("Clients/Contoso")
    _, inbox_link = follow(http, "/me/mailFolders/inbox/messages/delta?$select=subject")
    _, contoso_link = follow(http, f"/me/mailFolders/{contoso}/messages/delta?$select=subject")
    arrival = graph.deliver(
        b"From: kathy@contoso.example\r\nSubject: Re: Proposal\r\n\r\nYes.\r\n", folder="inbox"
    )
    moved = http.post(f"/me/messages/{arrival}/move", json={"destinationId": contoso},
                      headers=IMMUTABLE)  # fmt: skip
    assert moved.status_code == 201
    assert moved.json()["parentFolderId"] == contoso
    assert follow(http, inbox_link, **IMMUTABLE)[0] == [
        {"id": arrival, "@removed": {"reason": "deleted"}}
    ]
    [item] = follow(http, contoso_link, **IMMUTABLE)[0]
    assert (item["id"], item["subject"]) == (arrival, "Re: Proposal")


def test_folders_that_cannot_be_used_as_mail_folders(
    http: httpx.Client, graph: GraphSandbox
) -> None:
    search = graph.add_folder("Inbox/Weekly", search="contains(subject, 'weekly')")
    inbox = http.get(f"/me/mailFolders/{graph.folder_id('Inbox')}/childFolders").json()
    listed = inbox["value"][-1]
    assert (listed["@odata.type"], listed["id"]) == ("#microsoft.graph.mailSearchFolder", search)
    assert http.get(f"/me/mailFolders/{search}/messages/delta").status_code == 400
    assert http.delete("/me/mailFolders/inbox").status_code == 400
    assert http.get("/me/mailFolders/no-such-folder/messages/delta").status_code == 404
    clash = http.post("/me/mailFolders", json={"displayName": "clients"})
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "ErrorFolderExists")
