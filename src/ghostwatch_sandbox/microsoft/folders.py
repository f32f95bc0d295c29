"""Mail folder calls: list, childFolders, get, create, move, delete, and folder delta.

References (Graph v1.0): `GET /mailFolders` lists the folders directly under the root
and `GET /mailFolders/{id}/childFolders` those under a folder, hidden ones only with
`includeHiddenFolders=true`, 10 to a page unless `$top` asks otherwise, with an
`@odata.nextLink` (`$skip`) while more remain
(https://learn.microsoft.com/en-us/graph/api/user-list-mailfolders,
…/mailfolder-list-childfolders); a mail search folder is listed among them with its
`@odata.type` (…/resources/mailsearchfolder). `DELETE` moves a folder into Deleted
Items, as Outlook does; `permanentDelete` removes it (…/mailfolder-permanentdelete);
well-known folders can be neither deleted nor moved.

`GET /mailFolders/delta` (…/mailfolder-delta) is the whole folder tree under the root in
one round: every folder however deep, hidden ones too (each says `isHidden`), then what
changed since (a folder made, renamed, moved or deleted; a permanently deleted one as
`@removed`). Paging, `$select` in the links, 410 for a forgotten round: as message
delta (`delta.py`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from ghostwatch_sandbox.microsoft.delta import Round, page_answer, start_round
from ghostwatch_sandbox.microsoft.errors import GraphError, answer, bad_request, json_body
from ghostwatch_sandbox.microsoft.mail import Call
from ghostwatch_sandbox.microsoft.store import ROOT, WELL_KNOWN, GraphMailbox, MailFolder
from ghostwatch_sandbox.server import Request, Response

DEFAULT_TOP = 10
MAX_TOP = 1000
"""Served per page at most, whatever a larger `$top` asks (Outlook's usual ceiling)."""
SCOPE = "@folders"
"""What a folder delta token is for (no folder key starts with @)."""
PROPERTIES = ("displayName", "parentFolderId", "childFolderCount", "unreadItemCount",
              "totalItemCount", "isHidden")  # fmt: skip
SEARCH_PROPERTIES = ("isSupported", "filterQuery", "includeNestedFolders", "sourceFolderIds")
SEARCH_TYPE = "#microsoft.graph.mailSearchFolder"


def folder_select(text: str | None) -> tuple[str, ...]:
    """The properties a `$select` names (400 for unknown ones), or every one."""
    if not text:
        return PROPERTIES + SEARCH_PROPERTIES
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n != "id" and n not in PROPERTIES + SEARCH_PROPERTIES]
    if unknown:
        raise bad_request(
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.mailFolder'.",
            "RequestBroker--ParseUri",
        )
    return names


class FolderView:
    """Folders as JSON, with the item counts of one moment."""

    def __init__(self, box: GraphMailbox) -> None:
        self.box = box
        self.total: Counter[str] = Counter()
        self.unread: Counter[str] = Counter()
        for message in box.messages.values():
            if message.folder is not None:
                self.total[message.folder] += 1
                self.unread[message.folder] += not message.is_read

    def json(self, folder: MailFolder, select: tuple[str, ...]) -> dict[str, Any]:
        value: dict[str, Any] = {"id": self.box.folder_id(folder.key)}
        if folder.search is not None:
            value = {"@odata.type": SEARCH_TYPE, **value}
        found = self._properties(folder)
        value.update((name, found[name]) for name in select if name in found)
        return value

    def _properties(self, folder: MailFolder) -> dict[str, Any]:
        found: dict[str, Any] = {
            "displayName": folder.name,
            "parentFolderId": self.box.folder_id(folder.parent or ROOT),
            "childFolderCount": len(self.box.children(folder.key)),
            "unreadItemCount": self.unread[folder.key],
            "totalItemCount": self.total[folder.key],
            "isHidden": folder.hidden,
        }
        if folder.search is not None:
            found.update(isSupported=True, filterQuery=folder.search,
                         includeNestedFolders=True, sourceFolderIds=[])  # fmt: skip
        return found


def _top(request: Request) -> int:
    text = request.param("$top")
    if text is None:
        return DEFAULT_TOP
    if not text.isdigit() or int(text) < 1:
        raise bad_request(f"Invalid $top value: {text}", "ErrorInvalidUrlQuery")
    return min(int(text), MAX_TOP)


def _listing(call: Call, parent: str) -> Response:
    request = call.request
    hidden = request.flag("includeHiddenFolders")
    folders = [f for f in call.box.children(parent) if hidden or not f.hidden]
    top, skip = _top(request), int(request.param("$skip") or "0")
    view, select = FolderView(call.box), folder_select(request.param("$select"))
    base = f"http://{request.headers.get('host', 'localhost')}{request.path}"
    body: dict[str, Any] = {
        "@odata.context": f"{base}/$metadata",
        "value": [view.json(f, select) for f in folders[skip : skip + top]],
    }
    if skip + top < len(folders):
        kept = {k: v[-1] for k, v in request.query.items() if k != "$skip"}
        body["@odata.nextLink"] = f"{base}?{urlencode({**kept, '$skip': skip + top})}"
    return answer(200, body)


def list_top(call: Call) -> Response:
    return _listing(call, ROOT)


def list_children(call: Call) -> Response:
    return _listing(call, call.box.folder_key(call.args["folder"]))


def get(call: Call) -> Response:
    folder = call.box.folders[call.box.folder_key(call.args["folder"])]
    select = folder_select(call.request.param("$select"))
    return answer(200, FolderView(call.box).json(folder, select))


def create(call: Call) -> Response:
    parent = call.box.folder_key(call.args.get("folder", ROOT))
    body = json_body(call.request)
    name = str(body.get("displayName") or "").strip()
    if not name:
        raise bad_request("The displayName property is required.", "ErrorInvalidRequest")
    if call.box.child_named(parent, name) is not None:
        message = "A folder with the specified name already exists."
        raise GraphError(409, "ErrorFolderExists", message)
    folder = call.box.add_folder(parent, name, hidden=bool(body.get("isHidden", False)))
    call.log("mailFolders.create", [call.box.folder_id(folder.key)])
    return answer(201, FolderView(call.box).json(folder, folder_select(None)))


def _movable(call: Call) -> MailFolder:
    key = call.box.folder_key(call.args["folder"])
    if key in WELL_KNOWN:
        raise bad_request("Distinguished folders cannot be deleted or moved.",
                          "ErrorDeleteDistinguishedFolder")  # fmt: skip
    return call.box.folders[key]


def move(call: Call) -> Response:
    folder = _movable(call)
    destination = str(json_body(call.request).get("destinationId") or "")
    if not destination:
        raise bad_request("The destinationId parameter is required.", "ErrorInvalidRequest")
    target = call.box.folder_key(destination)
    if call.box.within(target, folder.key):
        raise bad_request("A folder cannot be moved into itself.", "ErrorMoveCopyFailed")
    call.box.move_folder(folder.key, target)
    call.log("mailFolders.move", [call.box.folder_id(folder.key)])
    return answer(201, FolderView(call.box).json(folder, folder_select(None)))


def delete(call: Call) -> Response:
    """Into Deleted Items; from there (or below it), gone for good."""
    folder = _movable(call)
    if call.box.within(folder.key, "deleteditems"):
        call.box.purge_folder(folder.key)
    else:
        call.box.move_folder(folder.key, "deleteditems")
    call.log("mailFolders.delete", [call.box.folder_id(folder.key)])
    return Response.empty()


def permanent_delete(call: Call) -> Response:
    folder = _movable(call)
    call.box.purge_folder(folder.key)
    call.log("mailFolders.permanentDelete", [call.box.folder_id(folder.key)])
    return Response.empty()


def delta(call: Call) -> Response:
    box = call.box
    current = start_round(call.request, SCOPE, box.seq, box.oldest_seq, box.leeway.expired)
    select = folder_select(current.select)
    view = FolderView(box)
    keyed = sorted(
        ((f.touched, f.serial), f)
        for f in box.folders.values()
        if f.key != ROOT and _in_round(f, current)
    )
    items = [(key, _entry(box, view, f, select)) for key, f in keyed]
    return page_answer(call.request, current, items)


def _in_round(folder: MailFolder, current: Round) -> bool:
    if (folder.touched, folder.serial) <= current.after or folder.touched > current.upto:
        return False
    if current.initial:
        return not folder.deleted
    return folder.touched > current.since


def _entry(
    box: GraphMailbox, view: FolderView, folder: MailFolder, select: tuple[str, ...]
) -> dict[str, Any]:
    if folder.deleted:
        return {"id": box.folder_id(folder.key), "@removed": {"reason": "deleted"}}
    return view.json(folder, select)
