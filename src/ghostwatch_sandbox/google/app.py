"""`GmailSandbox`: a local emulator of the Gmail REST API v1 for tests and demos.

    with GmailSandbox.serve(seed=Path("mailbox"), user="alex@ghostwatch.example") as sandbox:
        service = googleapiclient.discovery.build(
            "gmail", "v1", credentials=sandbox.credentials(), static_discovery=True,
            client_options={"api_endpoint": sandbox.url},
        )
        batch = service.new_batch_http_request(...)   # batch_uri=sandbox.batch_uri

(the client builds batch URLs from the discovery `rootUrl` and ignores `api_endpoint`;
see docs/providers.md.) The same server answers Calendar v3 `events.list` under
`/calendar/v3/` (`calendar.py`) and Meet v2 conference records under `/v2/` (`meet.py`),
seeded from the Maildir's `calendar.ics` (`calendar_seed.py`). Order of checks per
call, as Google's front end does: route (404), authentication (401), faults, the user
(403), the per-user quota (429/403), the method.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghostwatch.providers.google.quota import units
from ghostwatch_sandbox import faults
from ghostwatch_sandbox.google import batch, calendar, gmail, meet
from ghostwatch_sandbox.google.auth import SCOPE, TokenIssuer
from ghostwatch_sandbox.google.calendar_seed import seed_calendar
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from ghostwatch_sandbox.google.mailbox import Mailbox
from ghostwatch_sandbox.google.seed import seed_maildir
from ghostwatch_sandbox.quota import Meter, Quota
from ghostwatch_sandbox.server import ApiError, Request, Response, seeded_and_hosted

DEFAULT_USER = "alex@ghostwatch.example"
BATCH_PATHS = ("/batch", "/batch/gmail/v1")


@dataclass(frozen=True, slots=True)
class Write:
    """One mutating call, as the write log keeps it."""

    method: str
    ids: tuple[str, ...]
    forbidden: bool = False


class GmailSandbox:
    def __init__(
        self,
        user: str = DEFAULT_USER,
        *,
        quota_limit: int = 15_000,
        quota_window: float = 60.0,
        quota_status: int = 429,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.user = user
        self.clock = clock
        self.mailbox = Mailbox(user, clock)
        self.calendar = calendar.CalendarStore(user, clock)
        self.meet = meet.MeetStore(clock)
        self.meter = Meter()
        self.quota = Quota(quota_limit, quota_window, quota_status)
        self.faults = faults.Faults()
        self.tokens = TokenIssuer(clock=clock, signed_in=user)
        self.refresh_token = self.tokens.grant(user)
        self.writes: list[Write] = []
        self.url = ""
        self._lock = threading.RLock()

    @classmethod
    def serve(
        cls, seed: Path | None = None, user: str = DEFAULT_USER, port: int = 0, **options: Any
    ) -> AbstractContextManager[GmailSandbox]:
        """Seeded from the Maildir `seed`, on 127.0.0.1 (`port`, or an ephemeral one) in a
        background thread until the block ends."""
        return seeded_and_hosted(cls(user, **options), seed, port)

    # -- test controls ----------------------------------------------------------
    def seed(self, root: Path) -> int:
        """Messages from the Maildir, events (and Meet records) from its calendar.ics."""
        with self._lock:
            now = datetime.fromtimestamp(self.clock(), UTC)
            seed_calendar(root, self.calendar, self.meet, now)
            return seed_maildir(self.mailbox, root)

    def set_attendance(self, meeting_code: str, joined_by_outsiders: bool) -> None:
        """Meet's record for a meeting: the user alone, or with someone from outside."""
        me = meet.signed_in("", self.user)
        outsider = meet.Person("Guest", "anonymousUser") if joined_by_outsiders else None
        when = datetime.fromtimestamp(self.clock(), UTC)
        for stored in self.calendar.events.values():
            if stored.event.conference_id == meeting_code:
                when = stored.event.start
        self.meet.set_attendance(meeting_code, me, outsider, when)

    def expire_history(self, keep: int = 0) -> None:
        with self._lock:
            self.mailbox.expire_history(keep)

    def revoke(self, refresh_token: str | None = None) -> None:
        """Revoke a grant: refreshing answers invalid_grant, its access tokens get 401."""
        self.tokens.revoke(refresh_token or self.refresh_token)

    def expire_tokens(self) -> None:
        self.tokens.expire_access_tokens()

    @property
    def sent(self) -> list[Write]:
        """Send attempts (always refused). ghostwatch must keep this empty."""
        return [write for write in self.writes if write.forbidden]

    @property
    def batch_uri(self) -> str:
        return f"{self.url}/batch/gmail/v1"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def revoke_uri(self) -> str:
        return f"{self.url}/revoke"

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/o/oauth2/auth"

    def credentials(
        self,
        refresh_token: str | None = None,
        token: str | None = None,
        scopes: Sequence[str] = (SCOPE,),
    ) -> Any:
        """google-auth user credentials that refresh against this sandbox's /token."""
        from google.oauth2.credentials import Credentials

        return Credentials(  # type: ignore[no-untyped-call]
            token=token,
            refresh_token=refresh_token or self.refresh_token,
            token_uri=self.token_uri,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scopes=list(scopes),
        )

    def sign_in(self, scopes: Sequence[str]) -> Any:
        """A new grant of `scopes` for the mailbox's user, as the consent screen would give
        (what `ghostwatch sandbox` stores in the vault in place of a real sign-in)."""
        return self.credentials(self.tokens.grant(self.user, scopes=tuple(scopes)), None, scopes)

    # -- HTTP -------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        signing_in = self.tokens.handle(request)
        if signing_in is not None:
            return signing_in
        self.meter.request()
        if request.path in BATCH_PATHS and request.method == "POST":
            return batch.handle(request, self.call)
        return self.call(request)

    def call(self, request: Request) -> Response:
        """One API call (a plain request or one batch part); never raises."""
        found = gmail.route(request.method, request.path)
        if found is None:
            return self._other(request)
        name, handler, args = found
        return self._guarded(
            name, request, lambda user: self._run(name, handler, args, request, user)
        )

    def _other(self, request: Request) -> Response:
        """Calendar v3 (under /calendar/v3/) and Meet v2 (under /v2/) calls."""
        on_calendar = calendar.route(request.method, request.path)
        on_meet = meet.route(request.method, request.path)
        if on_calendar is not None:
            name, args = on_calendar

            def run(user: str) -> Response:
                self._charge(user, 1)  # Calendar and Meet count requests
                with self._lock:
                    return calendar.events_list(self.calendar, request, args["calendar"])

        elif on_meet is not None:
            name, args = on_meet

            def run(user: str) -> Response:
                self._charge(user, 1)  # Calendar and Meet count requests
                with self._lock:
                    return meet.handle(self.meet, name, request, args)

        else:
            return ApiError(404, "Requested entity was not found.", "notFound").response()
        return self._guarded(name, request, run)

    def _guarded(self, name: str, request: Request, run: Callable[[str], Response]) -> Response:
        """Authentication, faults, then `run(user)`; API errors become answers."""
        self.meter.call(name)
        fault = None
        try:
            user = self.tokens.user_of(request)
            fault = self.faults.take(name)
            if fault is not None:
                faults.before(fault)
            response = run(user)
        except ApiError as error:
            response = error.response()
        return faults.after(fault, response) if fault is not None else response

    def _charge(self, user: str, cost: int) -> None:
        try:
            self.quota.charge(user, cost)
        except ApiError:
            self.meter.reject()
            raise
        self.meter.charge(cost)

    def _run(
        self, name: str, handler: gmail.Handler, args: dict[str, str], request: Request, user: str
    ) -> Response:
        if args["user"] not in ("me", user):
            raise ApiError(403, f"Delegation denied for {user}", "forbidden")
        self._charge(user, units(name))
        with self._lock:
            if name in gmail.SEND_METHODS:
                self.writes.append(Write(name, (), forbidden=True))
            now_ms = int(self.clock() * 1000)
            return handler(gmail.Call(self.mailbox, request, args, now_ms, self._log))

    def _log(self, method: str, ids: Sequence[str]) -> None:
        self.writes.append(Write(method, tuple(ids)))
