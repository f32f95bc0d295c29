"""`GraphSandbox`: a local emulator of the Microsoft Graph v1.0 calls ghostwatch makes.

    with GraphSandbox.serve(seed=Path("mailbox"), user="alex@ghostwatch.example") as graph:
        httpx.get(f"{graph.base_url}/me/mailFolders/inbox/messages/delta",
                  headers={"Authorization": f"Bearer {graph.token}"})

Mail (`mail.py`, `delta.py`), calendar and Teams attendance (`calendar.py`) and JSON
batching (`batch.py`), seeded from a Maildir and its `calendar.ics` (`seed.py`). Order
of checks per call, as Graph's front end does: route (404), token (401), faults, the
mailbox (400/403/404), the per-mailbox limits (429 + Retry-After), the call.

The per-mailbox limits are Outlook's (docs/providers.md, Throttling): 10,000 requests in
any 10 minutes, each part of a JSON batch counting as one, and 4 requests at once. A
JSON batch holds up to four of those slots while it runs, since Graph dispatches four
of its parts at a time; a request that finds no slot free is refused (429
`ApplicationThrottled`, "over its MailboxConcurrency limit"), a batch's parts each.

Test controls: `.meter` (HTTP requests, calls, by name), `.faults` (as the Gmail
sandbox's; `"$batch"` names the batch request itself), `.writes` (every mutating
call; `.sent` the refused send attempts), `.tokens` (register tokens or a verifier),
`.expire_delta()`, `.deliver(raw, folder)`, `.add_folder(path)`, `.folder_id(path)`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from ghostwatch_sandbox import faults
from ghostwatch_sandbox.google.app import Write
from ghostwatch_sandbox.microsoft import batch, calendar, folders, mail
from ghostwatch_sandbox.microsoft.auth import GraphTokens, Principal
from ghostwatch_sandbox.microsoft.errors import GraphError, graph_error, refused_send, throttled
from ghostwatch_sandbox.microsoft.leeway import REFERENCE, Leeway
from ghostwatch_sandbox.microsoft.routes import SEND, Route, route
from ghostwatch_sandbox.microsoft.seed import add_raw, seed_mail
from ghostwatch_sandbox.microsoft.store import ROOT, WELL_KNOWN, GraphMailbox, opaque
from ghostwatch_sandbox.quota import Meter, Quota, Slots
from ghostwatch_sandbox.server import ApiError, Request, Response, seeded_and_hosted

DEFAULT_USER = "alex@ghostwatch.example"
BATCH = "$batch"
"""The name `.faults` arms a fault for the JSON batch request itself under."""
# Outlook's per-app, per-mailbox limit: 10,000 requests in 10 minutes
# (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits).
MAILBOX_LIMIT, MAILBOX_WINDOW = 10_000, 600.0
MAILBOX_CONCURRENCY = 4
BATCH_SLOTS = 4
"""Parts of one JSON batch Graph dispatches at once (json-batching, "Throttling")."""
MUTATING = frozenset(
    {"messages.create", "messages.update", "messages.delete", "messages.createReply",
     "messages.move", "mailFolders.create", "mailFolders.move", "mailFolders.delete",
     "mailFolders.permanentDelete", SEND}
)  # fmt: skip


class GraphSandbox:
    default_leeway: ClassVar[Leeway] = REFERENCE
    """The freedoms of the reference a sandbox takes unless told (`leeway.py`); a test
    class sets it to `WORST_CASE` to run a whole suite that way."""

    def __init__(
        self,
        user: str = DEFAULT_USER,
        *,
        throttle_limit: int = MAILBOX_LIMIT,
        throttle_window: float = MAILBOX_WINDOW,
        concurrency: int = MAILBOX_CONCURRENCY,
        clock: Callable[[], float] = time.time,
        leeway: Leeway | None = None,
    ) -> None:
        self.user = user.lower()
        self.user_id = opaque("", self.user, "user-id")[:8] + "-0000-4000-8000-000000000001"
        self.clock = clock
        self.leeway = leeway or self.default_leeway
        self.mailbox = GraphMailbox(self.user, self.user_id, leeway=self.leeway)
        self.calendar = calendar.GraphCalendar(self.user)
        self.meter = Meter()
        self.quota = Quota(throttle_limit, throttle_window, 429)
        self.slots = Slots(concurrency)
        self.faults = faults.Faults()
        self.tokens = GraphTokens()
        self.token = self.tokens.issue(self.user)
        """A delegated token for the mailbox's user (what device-code sign-in gives)."""
        self.app_token = self.tokens.issue(None)
        """An app-only token (client credentials): `/users/{id}` routes only."""
        self.writes: list[Write] = []
        self.url = ""
        self._lock = threading.RLock()
        # A seeded, reproducible shuffle for tests, not a secret.
        self._shuffle = random.Random(20)  # nosec B311

    @classmethod
    def serve(
        cls, seed: Path | None = None, user: str = DEFAULT_USER, **options: Any
    ) -> AbstractContextManager[GraphSandbox]:
        """Seeded from the Maildir `seed`, on 127.0.0.1 (an ephemeral port) in a background
        thread until the block ends."""
        return seeded_and_hosted(cls(user, **options), seed)

    # -- test controls ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.url}/v1.0"

    def seed(self, root: Path) -> int:
        with self._lock:
            calendar.seed_calendar(root, self.calendar, self._now())
            return seed_mail(self.mailbox, root)

    def deliver(self, raw: bytes, folder: str = "inbox") -> str:
        """New mail arriving (not an API call, not metered); its immutable id."""
        with self._lock:
            return add_raw(self.mailbox, raw, folder, self._now())

    def folder_id(self, path: str) -> str:
        """The id of a well-known folder (`archive`) or of a folder by its display names
        from the top (`Clients/Contoso`)."""
        with self._lock:
            return self.mailbox.folder_id(self._folder_at(path))

    def add_folder(self, path: str, *, hidden: bool = False, search: str | None = None) -> str:
        """A new folder at `path` (its parent must exist), as the user makes one in
        Outlook (not an API call, not metered); its id."""
        parent, _, name = path.rpartition("/")
        with self._lock:
            key = self._folder_at(parent) if parent else ROOT
            return self.mailbox.folder_id(
                self.mailbox.add_folder(key, name, hidden=hidden, search=search).key
            )

    def _folder_at(self, path: str) -> str:
        if path.lower() in WELL_KNOWN:
            return self.mailbox.folder_key(path)
        key = ROOT
        for name in path.split("/"):
            found = self.mailbox.child_named(key, name)
            if found is None:
                raise KeyError(f"no folder {name!r} in {path!r}")
            key = found.key
        return key

    def expire_delta(self) -> None:
        """Forget every delta round so far: old delta links answer 410."""
        with self._lock:
            self.mailbox.expire_delta()
            self.calendar.seq += 1
            self.calendar.oldest_seq = self.calendar.seq

    def set_attendance(self, uid: str, joined_by_outsiders: bool) -> None:
        with self._lock:
            self.calendar.set_attendance(uid, joined_by_outsiders)

    @property
    def sent(self) -> list[Write]:
        """Send attempts (always refused). ghostwatch must keep this empty."""
        return [write for write in self.writes if write.forbidden]

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- HTTP -------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        self.meter.request()
        batched = request.path == "/v1.0/$batch" and request.method == "POST"
        granted = self.slots.take(_batch_size(request) if batched else 1)
        try:
            if batched:
                return self._batch(request, granted > 0)
            return self.call(request, granted > 0)
        finally:
            self.slots.give(granted)

    def _batch(self, request: Request, slotted: bool = True) -> Response:
        """A JSON batch; faults armed for `"$batch"` hit the envelope (a throttled, slow
        or cut batch request), faults armed for a call name hit that part alone."""
        fault = self.faults.take(BATCH, exact=True)
        try:
            self.tokens.principal_of(request)
            if fault is not None:
                _before(fault)
        except ApiError as error:
            return graph_error(error).response()
        response = batch.handle(
            request, lambda part: self.call(part, slotted), self._shuffle,
            self.leeway.plain_text_parts,
        )  # fmt: skip
        return faults.after(fault, response) if fault is not None else response

    def call(self, request: Request, slotted: bool = True) -> Response:
        """One API call (a plain request or one batch part); never raises. `slotted`:
        the mailbox had a concurrent slot free for it."""
        found = route(request.method, request.path)
        if found is None:
            message = f"Resource not found for the segment in '{request.path}'."
            return GraphError(400, "BadRequest", message).response()
        self.meter.call(found.name)
        fault = None
        try:
            principal = self.tokens.principal_of(request)
            fault = self.faults.take(found.name)
            if fault is not None:
                _before(fault)
            if found.name == "user.get" and found.mailbox == "me" and principal.user:
                # GET /me answers for whoever signed in, whichever mailbox this is.
                return _user(principal.user, self._id_of(principal.user))
            self._check_mailbox(found, principal)
            if found.name == "user.get":
                return _user(self.user, self.user_id)
            if not slotted:
                self.meter.reject()
                raise throttled(1)
            self._throttle()
            response = self._run(found, request)
        except ApiError as error:
            response = graph_error(error).response()
        return faults.after(fault, response) if fault is not None else response

    def _check_mailbox(self, found: Route, principal: Principal) -> None:
        if found.mailbox == "me":
            if principal.user is None:
                raise GraphError(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            wanted = principal.user
        elif found.mailbox.lower() in (self.user, self.user_id):
            wanted = self.user
        else:
            raise GraphError(
                404, "ErrorInvalidUser", f"The requested user '{found.mailbox}' is invalid."
            )
        if wanted != self.user or principal.user not in (None, self.user):
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )

    def _id_of(self, user: str) -> str:
        return self.user_id if user == self.user else opaque("", user, "user-id")[:36]

    def _throttle(self) -> None:
        """10,000 requests in any 10 minutes (429 with the seconds until one fits)."""
        try:
            self.quota.charge(self.user, 1)
        except ApiError as error:
            self.meter.reject()
            raise throttled(int(error.headers.get("Retry-After", "1"))) from None
        self.meter.charge(1)

    def _run(self, found: Route, request: Request) -> Response:
        with self._lock:
            if found.name == SEND:
                self.writes.append(Write(SEND, (), forbidden=True))
                raise refused_send()
            call = mail.Call(self.mailbox, request, found.args, self._now(), self._log)
            handler = _MAIL.get(found.name)
            if handler is not None:
                return handler(call)
            return self._calendar(found, request)

    def _calendar(self, found: Route, request: Request) -> Response:
        if found.name == "calendarView.delta":
            return calendar.view_delta(self.calendar, request)
        if found.name == "onlineMeetings.list":
            return calendar.meetings(self.calendar, request)
        if found.name == "attendanceReports.list":
            return calendar.reports(self.calendar, found.args["meeting"])
        return calendar.records(self.calendar, found.args["meeting"], found.args["report"])

    def _log(self, method: str, ids: Sequence[str]) -> None:
        self.writes.append(Write(method, tuple(ids)))


_MAIL: dict[str, Callable[[mail.Call], Response]] = {
    "messages.delta": mail.delta,
    "messages.get": mail.get,
    "messages.getMime": mail.get_mime,
    "messages.list": mail.find,
    "messages.createReply": mail.create_reply,
    "messages.update": mail.update,
    "messages.move": mail.move,
    "messages.create": mail.create,
    "messages.delete": mail.delete,
    "mailFolders.delta": folders.delta,
    "mailFolders.list": folders.list_top,
    "mailFolders.childFolders": folders.list_children,
    "mailFolders.get": folders.get,
    "mailFolders.create": folders.create,
    "mailFolders.move": folders.move,
    "mailFolders.delete": folders.delete,
    "mailFolders.permanentDelete": folders.permanent_delete,
}


def _before(fault: faults.Fault) -> None:
    """Faults that answer before the call, in Graph's shapes."""
    retry = {"Retry-After": str(fault.retry_after)}
    errors = {
        "429": GraphError(429, "TooManyRequests", "Too many requests.", retry),
        "403": GraphError(403, "ErrorAccessDenied", "Access is denied."),
        "500": GraphError(500, "InternalServerError", "An internal server error occurred."),
        "503": GraphError(503, "ServiceUnavailable", "Service unavailable.", retry),
    }
    if fault.kind in errors:
        raise errors[fault.kind]
    faults.before(fault)  # slowness; the transport faults act after the call


def _batch_size(request: Request) -> int:
    """Slots a JSON batch holds while it runs: one a part, at most BATCH_SLOTS."""
    try:
        parts = request.json().get("requests")
    except ApiError:
        return 1
    return max(1, min(BATCH_SLOTS, len(parts) if isinstance(parts, list) else 1))


def _user(upn: str, user_id: str) -> Response:
    """A user resource (https://learn.microsoft.com/en-us/graph/api/resources/user): the
    properties Graph returns by default that a mail client reads."""
    name = upn.partition("@")[0].replace(".", " ").title()
    return Response.json(
        200,
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "id": user_id,
            "displayName": name,
            "mail": upn,
            "userPrincipalName": upn,
        },
    )
