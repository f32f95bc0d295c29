"""One account's whole service loop against a sandbox, the same way for Gmail and Outlook.

The fault matrix, the safety tests and the cycle contract (`tests/contracts/contract_cycle.py`)
drive `run_cycle` through the real clients (Gmail: google-api-python-client over httplib2
with refreshing credentials; Outlook: httpx) against the in-package emulators, or through
a real Maildir in a temporary folder, with a SQLite store and a retry policy whose sleeps
are recorded instead of slept. A rig hides which provider it is, so every test runs the
same story against each: a `CycleRig` is any mailbox, a `Rig` one whose API can be made
to fail (the sandboxes; a Maildir has no API to arm).

The story (`story_mailbox`): on Monday 9 November I wrote to Kathy; on Friday 13th a
nudge is due (cycle one). Then Kathy answers and I write to Raj; on Friday 20th Kathy's
conversation is `replied` and Raj's nudge is due (cycle two, where the faults go).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32, default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.mail.mime import html_to_text
from ghostwatch.model.decisions import State
from ghostwatch.model.mail import Folder, normalize_subject
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.api import DEFAULT_POLICY, google_http
from ghostwatch.providers.google.calendar import GoogleCalendar
from ghostwatch.providers.google.drafts import DraftWatch
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.google.signin import VaultedCredentials
from ghostwatch.providers.microsoft.actions import DIGEST_OWN, STEP_OWN, OutlookActions
from ghostwatch.providers.microsoft.calendar import OutlookCalendar
from ghostwatch.providers.microsoft.drafts import DraftWatch as OutlookDrafts
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.providers.port import MailActions, MailSource
from ghostwatch.providers.retry import RetryPolicy
from ghostwatch.service.cycle import CycleReport, run_cycle
from ghostwatch.service.pipeline import compose_drafts, run_scan
from ghostwatch.store import Store
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.app import Write
from ghostwatch_sandbox.google.auth import SCOPE
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.microsoft.store import GraphMessage
from tests.support.builder import ME, Mailbox, when

KATHY = "Kathy Lee <kathy@contoso.example>"
RAJ = "Raj Patel <raj@tailspin.example>"
TZ = ZoneInfo("Europe/London")
RULES = Rules(me=Identity.of([ME]), calendar=BusinessCalendar(TZ))
SENDER = Sender("Alex", ME, "Alex")
FIRST = when("2026-11-13 15:00")
"""Cycle one: Kathy's nudge is due."""
SECOND = when("2026-11-20 15:00")
"""Cycle two: Kathy has answered; Raj's nudge is due."""
TIMEOUT = 0.4
"""The clients' read timeout: a `slow` fault of a second is a timeout."""
ATTEMPTS = 4
"""Tries per call under the rigs' retry policy."""
DIGEST_ID = "<ghostwatch-digest-"
PROPOSAL_ID = "<proposal-1@ghostwatch.example>"
STEP = "X-Ghostwatch-Step"

# Every call that changes a mailbox, as the sandboxes' write logs name them.
GMAIL_MUTATING = frozenset(
    {"drafts.create", "drafts.update", "drafts.delete", "drafts.send", "messages.modify",
     "messages.insert", "messages.send", "messages.delete", "messages.trash",
     "messages.batchModify", "messages.batchDelete", "messages.import", "labels.create"}
)  # fmt: skip
GRAPH_MUTATING = frozenset(
    {"messages.create", "messages.update", "messages.delete", "messages.createReply",
     "messages.move", "send"}
)  # fmt: skip


class Sleeps(list[float]):
    """A fake `sleep` for the retry policy: what it was asked to wait, in order."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=ATTEMPTS, base=0.01, cap=0.05, sleep=sleeps, now=lambda: SECOND)


def message(sender: str, to: str, subject: str, date: str, body: str, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(when(date))
    mail["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="test.example")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return bytes(mail)


def story_mailbox(root: Path) -> Mailbox:
    box = Mailbox(root)
    box.add("Sent", ME, KATHY, "Proposal", "2026-11-09 10:00", message_id=PROPOSAL_ID,
            body="Here is the proposal we discussed.\n")  # fmt: skip
    return box


def kathy_answers() -> bytes:
    return message(KATHY, ME, "Re: Proposal", "2026-11-17 09:00", "Looks good, let us talk.\n",
                   In_Reply_To=PROPOSAL_ID, References=PROPOSAL_ID)  # fmt: skip


def i_write_to_raj() -> bytes:
    return message(ME, RAJ, "Integration plan", "2026-11-16 10:00", "The plan, attached.\n")


class CycleRig(Protocol):
    """One account: its mailbox, its store row, and a service process reading it."""

    provider: str
    account: str
    sleeps: Sleeps
    store: Store
    actions: Any

    def cycle(
        self, now: datetime, actions: MailActions | None = None, **options: Any
    ) -> CycleReport: ...
    def restart(self) -> None: ...
    def preview(self, now: datetime) -> list[Draft]: ...
    def steps(self) -> Counter[str]: ...
    def digests(self) -> int: ...
    def count(self, folder: Folder) -> int: ...
    def delete_draft(self, draft_id: str) -> None: ...
    def forget_step(self, draft_id: str) -> None: ...
    def deliver(self, raw: bytes, sent: bool = False) -> None: ...
    def add_draft(self, raw: bytes) -> str: ...
    def edit_draft(self, draft_id: str, text: str) -> str: ...
    def digest_text(self) -> str: ...
    def mutations(self) -> list[Any]: ...


class Rig(CycleRig, Protocol):
    """A sandboxed account: its API's answers can be armed to fail."""

    def arm(self, kind: str, method: str | None, count: int = 1, retry_after: int = 1) -> None: ...
    def clear_faults(self) -> None: ...
    def fired(self) -> list[tuple[str, str]]: ...
    def draft_bodies(self) -> dict[str, str]: ...
    def writes(self) -> list[Write]: ...
    def sent(self) -> list[Write]: ...


def one_cycle(
    rig: CycleRig, source: Any, now: datetime, actions: MailActions | None, **options: Any
) -> CycleReport:
    """`run_cycle` for the rig's account, as the service runs it (the story's rules,
    sender and zone), with the rig's own actions unless a test gives others."""
    return run_cycle(rig.account, source, actions or rig.actions, rig.store, RULES, SENDER,
                     now, TZ, provider=rig.provider, **options)  # fmt: skip


def states(rig: Rig) -> dict[str, State]:
    """Subject → the state the last committed cycle saved for its conversation."""
    with rig.store.transaction() as tx:
        account = tx.account(rig.account, rig.provider, ME)
        return {s.subject: s.state for s in tx.snapshots(account).values()}


@dataclass
class GmailRig:
    sandbox: GmailSandbox
    store: Store
    account: str = "alex"
    provider: str = "gmail"
    sleeps: Sleeps = field(default_factory=Sleeps)
    refresh_token: str = ""
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self.refresh_token = self.refresh_token or self.sandbox.refresh_token
        self.restart()

    def credentials(self) -> VaultedCredentials:
        """What production hands the client: refreshing, refusals named (TokenRevoked)."""
        return VaultedCredentials(  # type: ignore[no-untyped-call]
            token=None, refresh_token=self.refresh_token, token_uri=self.sandbox.token_uri,
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=[SCOPE],
        )  # fmt: skip

    def restart(self) -> None:
        """A new process: new clients and provider objects, the same database."""
        from googleapiclient.discovery import build

        http = google_http(self.credentials(), timeout=self.timeout)
        self.service = build("gmail", "v1", http=http, static_discovery=True,
                             client_options={"api_endpoint": self.sandbox.url},
                             cache_discovery=False)  # fmt: skip
        retry = policy(self.sleeps)
        self.calendar = build("calendar", "v3", http=http, static_discovery=True,
                              client_options={"api_endpoint": f"{self.sandbox.url}/calendar/v3/"},
                              cache_discovery=False)  # fmt: skip
        # Shared as the service shares it: Drafts are listed only when history shows a change.
        self.drafts = DraftWatch()
        self.source = self._source(retry, self.drafts)
        self.actions = GmailActions(self.service, batch_uri=self.sandbox.batch_uri, retry=retry,
                                    drafts=self.drafts, address=ME)  # fmt: skip

    def cycle(
        self, now: datetime, actions: MailActions | None = None, **options: Any
    ) -> CycleReport:
        return one_cycle(self, self.source, now, actions, **options)

    def _source(
        self, retry: RetryPolicy = DEFAULT_POLICY, drafts: DraftWatch | None = None
    ) -> GmailSource:
        # Meetings too, as every rig reads them (the Maildir's calendar.ics, Graph's calendar).
        calendar = GoogleCalendar(self.calendar, retry=retry)
        return GmailSource(self.service, batch_uri=self.sandbox.batch_uri, calendar=calendar,
                           retry=retry, drafts=drafts)  # fmt: skip

    def preview(self, now: datetime) -> list[Draft]:
        return preview(self._source(), now)

    def arm(self, kind: str, method: str | None, count: int = 1, retry_after: int = 1) -> None:
        self.sandbox.faults.add(kind, count, method, delay=1.0, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.sandbox.faults.armed.clear()

    def fired(self) -> list[tuple[str, str]]:
        return list(self.sandbox.faults.fired)

    def deliver(self, raw: bytes, sent: bool = False) -> None:
        labels = ["SENT"] if sent else ["INBOX", "UNREAD"]
        with self.sandbox._lock:
            self.sandbox.mailbox.add(raw, labels)

    def steps(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for stored in self.sandbox.mailbox.messages.values():
            if "DRAFT" in stored.labels:
                found.update(v for k, v in stored.headers if k.lower() == STEP.lower())
        return found

    def draft_bodies(self) -> dict[str, str]:
        """Step key → the draft's text, for every ghostwatch draft."""
        found: dict[str, str] = {}
        for stored in self.sandbox.mailbox.messages.values():
            step = next((v for k, v in stored.headers if k.lower() == STEP.lower()), None)
            if step and "DRAFT" in stored.labels:
                found[step] = text_of(stored.raw)
        return found

    def digests(self) -> int:
        found = self.sandbox.mailbox.messages.values()
        return sum(1 for m in found if m.header("Message-ID").startswith(DIGEST_ID))

    def count(self, folder: Folder) -> int:
        label = {Folder.INBOX: "INBOX", Folder.JUNK: "SPAM", Folder.DRAFTS: "DRAFT"}[folder]
        return sum(1 for m in self.sandbox.mailbox.messages.values() if label in m.labels)

    def delete_draft(self, draft_id: str) -> None:
        """What the user does in Gmail: the draft is gone, unsent."""
        self.service.users().drafts().delete(userId="me", id=draft_id).execute()

    def add_draft(self, raw: bytes) -> str:
        """A draft the user writes in Gmail (or another app, through the API)."""
        body = {"message": {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}}
        made = self.service.users().drafts().create(userId="me", body=body).execute()
        return str(made["id"])

    def edit_draft(self, draft_id: str, text: str) -> str:
        """The user rewrites the draft's text in Gmail (`drafts.update`): same draft id."""
        raw = with_text(self.sandbox.mailbox.draft(draft_id).raw, text)
        body = {"message": {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}}
        self.service.users().drafts().update(userId="me", id=draft_id, body=body).execute()
        return draft_id

    def digest_text(self) -> str:
        found = self.sandbox.mailbox.messages.values()
        [digest] = [m for m in found if m.header("Message-ID").startswith(DIGEST_ID)]
        return text_of(digest.raw)

    def forget_step(self, draft_id: str) -> None:
        """Gmail's answers about this draft no longer carry X-Ghostwatch-Step; its id and
        everything else stay."""
        with self.sandbox._lock:
            stored = self.sandbox.mailbox.draft(draft_id)
            stored.raw = without_step(stored.raw)
            stored.headers = [(k, v) for k, v in stored.headers if k.lower() != STEP.lower()]

    def mark(self, subject: str, name: str, on: bool = True) -> None:
        """What the user does in Gmail: makes the label once (users.labels.create, as
        "Create new label" does) and puts it on, or takes it off, every message of the
        conversation (users.messages.modify), as Gmail's conversation view does."""
        labels = self.service.users().labels()
        listed = labels.list(userId="me").execute()["labels"]
        label = next((x["id"] for x in listed if x["name"].lower() == name.lower()), None)
        if label is None:
            label = labels.create(userId="me", body={"name": name}).execute()["id"]
        change = {"addLabelIds" if on else "removeLabelIds": [label]}
        wanted = normalize_subject(subject)
        messages = self.service.users().messages()
        for stored in list(self.sandbox.mailbox.messages.values()):
            same = normalize_subject(stored.header("Subject")) == wanted
            if same and "DRAFT" not in stored.labels:
                messages.modify(userId="me", id=stored.id, body=change).execute()

    def writes(self) -> list[Write]:
        return list(self.sandbox.writes)

    def mutations(self) -> list[Write]:
        return [w for w in self.sandbox.writes if w.method in GMAIL_MUTATING or w.forbidden]

    def sent(self) -> list[Write]:
        return self.sandbox.sent


def graph_step(message: GraphMessage) -> str:
    """The step a Graph draft carries: ghostwatch's own property, else its header (the
    sandbox may drop custom headers from reply drafts, as the reference allows)."""
    own = message.properties.get(STEP_OWN.lower())
    return own[1] if own else message.header(STEP)


def graph_digest(message: GraphMessage) -> bool:
    """A digest in the Graph sandbox: by ghostwatch's own property, or its Message-ID."""
    own = message.properties.get(DIGEST_OWN.lower())
    marked = own[1] if own else message.internet_message_id.strip("<>")
    return bool(message.folder) and marked.startswith(DIGEST_ID.strip("<>"))


@dataclass
class OutlookRig:
    graph: GraphSandbox
    store: Store
    account: str = "alex"
    provider: str = "outlook"
    sleeps: Sleeps = field(default_factory=Sleeps)
    token: str = ""
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self.token = self.token or self.graph.token
        self.restart()

    def restart(self) -> None:
        # Shared as the service shares it: Drafts are read only when the poll saw a change.
        self.drafts = OutlookDrafts()
        self.source = self._source(auto_commit=False, drafts=self.drafts)
        self.actions = OutlookActions(self.source.client, self.drafts)

    def _source(self, auto_commit: bool, drafts: OutlookDrafts | None = None) -> OutlookSource:
        http = httpx.Client(timeout=httpx.Timeout(self.timeout))
        client = GraphClient(lambda: self.token, base_url=self.graph.base_url, http=http,
                             **_retry_option(self.sleeps))  # fmt: skip
        return OutlookSource(client, OutlookCalendar(client, ME), auto_commit=auto_commit,
                             drafts=drafts)  # fmt: skip

    def cycle(
        self, now: datetime, actions: MailActions | None = None, **options: Any
    ) -> CycleReport:
        report = one_cycle(self, self.source, now, actions, **options)
        self.source.commit()  # what the service does once the cycle is recorded
        return report

    def preview(self, now: datetime) -> list[Draft]:
        return preview(self._source(auto_commit=True), now)

    def arm(self, kind: str, method: str | None, count: int = 1, retry_after: int = 1) -> None:
        self.graph.faults.add(kind, count, method, delay=1.0, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.graph.faults.armed.clear()

    def fired(self) -> list[tuple[str, str]]:
        return list(self.graph.faults.fired)

    def deliver(self, raw: bytes, sent: bool = False) -> None:
        self.graph.deliver(raw, "sentitems" if sent else "inbox")

    def steps(self) -> Counter[str]:
        return Counter(
            step for m in self.graph.mailbox.in_folder("drafts") if (step := graph_step(m))
        )

    def draft_bodies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for stored in self.graph.mailbox.in_folder("drafts"):
            step = graph_step(stored)
            if step:
                found[step] = stored.body
        return found

    def digests(self) -> int:
        return sum(1 for m in self.graph.mailbox.messages.values() if graph_digest(m))

    def count(self, folder: Folder) -> int:
        key = {Folder.INBOX: "inbox", Folder.JUNK: "junkemail", Folder.DRAFTS: "drafts"}[folder]
        return sum(1 for _ in self.graph.mailbox.in_folder(key))

    def delete_draft(self, draft_id: str) -> None:
        """What the user does in Outlook: the draft goes to Deleted Items, unsent."""
        self.actions.client.request("DELETE", f"/me/messages/{draft_id}")

    def add_draft(self, raw: bytes) -> str:
        """A draft the user writes in Outlook (or another app, through Graph)."""
        tree = BytesParser(policy=default).parsebytes(raw)
        custom = [
            {"name": k, "value": str(v)} for k, v in tree.items() if k.lower().startswith("x-")
        ]
        made = self.actions.client.request("POST", "/me/messages", json={
            "subject": str(tree["Subject"]),
            "toRecipients": [{"emailAddress": {"address": str(tree["To"])}}],
            "body": {"contentType": "text", "content": text_of(raw)},
            **({"internetMessageHeaders": custom} if custom else {}),
        })  # fmt: skip
        return str(made.json()["id"])

    def edit_draft(self, draft_id: str, text: str) -> str:
        """The user rewrites the draft's text in Outlook (PATCH): same id."""
        content = {"body": {"contentType": "text", "content": text}}
        self.actions.client.request("PATCH", f"/me/messages/{draft_id}", json=content)
        return draft_id

    def digest_text(self) -> str:
        found = self.graph.mailbox.in_folder("inbox")
        [digest] = [m for m in found if graph_digest(m)]
        return html_to_text(digest.body) if digest.body_type == "html" else digest.body

    def forget_step(self, draft_id: str) -> None:
        """Graph's answers about this draft carry no step at all (neither X-Ghostwatch-Step
        nor ghostwatch's own property): its id and everything else stay."""
        stored = self.graph.mailbox.messages[draft_id]
        stored.headers = [(k, v) for k, v in stored.headers if k.lower() != STEP.lower()]
        stored.properties.pop(STEP_OWN.lower(), None)
        self.graph.mailbox.changed(stored)

    def mark(self, subject: str, name: str, on: bool = True) -> None:
        """What the user does in Outlook: the category put on, or taken off, every message
        of the conversation (PATCH `categories`, resources/message)."""
        wanted = normalize_subject(subject)
        for key, stored in list(self.graph.mailbox.messages.items()):
            same = normalize_subject(stored.subject) == wanted
            if same and stored.folder and not stored.is_draft:
                kept = [c for c in stored.categories if c.lower() != name.lower()]
                body = {"categories": [*kept, name] if on else kept}
                self.actions.client.request("PATCH", f"/me/messages/{key}", json=body)

    def writes(self) -> list[Write]:
        return list(self.graph.writes)

    def mutations(self) -> list[Write]:
        return [w for w in self.graph.writes if w.method in GRAPH_MUTATING or w.forbidden]

    def sent(self) -> list[Write]:
        return self.graph.sent


def preview(source: MailSource, now: datetime) -> list[Draft]:
    """The drafts due at `now`, read by a fresh source: what `ghostwatch preview` lists."""
    return compose_drafts(run_scan(source, RULES, now), source, SENDER, TZ)


def with_text(raw: bytes, text: str) -> bytes:
    """The message with its body replaced by `text` (plain), its header fields kept."""
    tree = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(tree, EmailMessage)
    tree.clear_content()
    tree.set_content(text)
    return bytes(tree)


def without_step(raw: bytes) -> bytes:
    """The message's bytes without its X-Ghostwatch-Step field."""
    tree = BytesParser(policy=compat32).parsebytes(raw)
    del tree[STEP]
    return tree.as_bytes()


def text_of(raw: bytes) -> str:
    tree = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(tree, EmailMessage)
    body = tree.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


def _retry_option(sleeps: Sleeps) -> dict[str, Any]:
    """The Graph client takes the shared policy once it retries (provider "graph")."""
    import inspect

    accepts = "retry" in inspect.signature(GraphClient.__init__).parameters
    return {"retry": policy(sleeps)} if accepts else {}


PROVIDERS = ("gmail", "outlook")


@contextmanager
def rig_for(
    provider: str, seed: Path, store: Store, account: str = "alex", timeout: float = TIMEOUT
) -> Iterator[GmailRig | OutlookRig]:
    """A sandboxed account seeded from the Maildir `seed` (`timeout`: the clients')."""
    if provider == "gmail":
        with GmailSandbox.serve(seed=seed, user=ME) as sandbox:
            yield GmailRig(sandbox, store, account, timeout=timeout)
    else:
        with GraphSandbox.serve(seed=seed, user=ME) as graph:
            yield OutlookRig(graph, store, account, timeout=timeout)


@contextmanager
def sqlite_store(path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        yield store
