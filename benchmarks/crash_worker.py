"""One process of the crash-consistency benchmark: every account's cycle, once.

    python benchmarks/crash_worker.py SPEC.json

SPEC names the database, `now`, and one Gmail and one Outlook account served by the
parent's sandboxes, and an IMAP account on the parent's Dovecot when it has one. The
parent kills this process with SIGKILL at chosen instants and starts it again; it exits 0
when every account's cycle finished.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from google.oauth2.credentials import Credentials

from ghostwatch import logs
from ghostwatch.engine.cadence import BusinessCalendar
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.outbox import Sender
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.api import google_service
from ghostwatch.providers.google.gmail import GmailSource
from ghostwatch.providers.imap.actions import ImapActions
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.providers.microsoft.outlook import OutlookSource
from ghostwatch.service.cycle import run_cycle
from ghostwatch.store import Store


def gmail(spec: dict[str, str]) -> tuple[GmailSource, GmailActions]:
    credentials = Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=spec["refresh_token"],
        token_uri=spec["token_uri"],
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
    )
    service = google_service("gmail", "v1", spec["url"], credentials)
    batch = f"{spec['url']}/batch/gmail/v1"
    return GmailSource(service, batch_uri=batch), GmailActions(service, batch_uri=batch)


def outlook(spec: dict[str, str]) -> tuple[OutlookSource, OutlookActions]:
    token = spec["token"]
    client = GraphClient(lambda: token, base_url=spec["base_url"])
    return OutlookSource(client), OutlookActions(client)


def imap(spec: dict[str, Any]) -> tuple[ImapSource, ImapActions]:
    login = ImapLogin("127.0.0.1", spec["user"], spec["password"], port=spec["port"], tls="none")
    session = ImapSession(login)
    return ImapSource(session), ImapActions(session)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    logs.configure("warning", sys.stderr)
    zone = ZoneInfo(spec["tz"])
    now = datetime.fromisoformat(spec["now"])
    rules = Rules(me=Identity.of([spec["me"]]), calendar=BusinessCalendar(zone))
    sender = Sender(name="Jordan Reyes", address=spec["me"], signature="Jordan")
    with Store.open(spec["database"]) as store:
        store.upgrade()
        accounts: list[tuple[str, tuple[Any, Any]]] = [
            ("gmail", gmail(spec["gmail"])),
            ("outlook", outlook(spec["outlook"])),
        ]
        if spec.get("imap"):
            accounts.append(("imap", imap(spec["imap"])))
        for name, (source, actions) in accounts:
            run_cycle(name, source, actions, store, rules, sender, now, zone,
                      junk_rescue=True, digest=True, provider=name)  # fmt: skip
            if isinstance(source, OutlookSource):
                source.commit()


if __name__ == "__main__":
    main()
