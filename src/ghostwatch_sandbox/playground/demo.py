"""`make demo`: the real daemon, once, against local sandboxes, with no account anywhere.

A Gmail sandbox and an Outlook (Graph) sandbox are seeded with the example mailbox; a
demo configuration naming them is written and loaded like any other; `ghostwatch run
--once` runs (the same `app.run_once`, at the example's "now"); then what happened is
read back from the sandboxes through their APIs: the drafts with their text, the replies
rescued from junk, and the digest, whose HTML is written to a file this prints.

    python -m ghostwatch_sandbox.playground.demo --mailbox examples/mailbox --out out/demo
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import html
import re
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import yaml

from ghostwatch import config, logs
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.gmail import gmail_service
from ghostwatch.providers.microsoft.actions import OutlookActions
from ghostwatch.providers.microsoft.graph import GraphClient
from ghostwatch.service.app import SignIns, open_store, run_once
from ghostwatch.service.cycle import CycleReport, digest_message_id
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import graph_client

ME = "alex@ghostwatch.example"
NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")  # examples/README.md's "now"


def demo_config(out: Path, gmail_url: str, graph_url: str) -> dict[str, Any]:
    """One Google and one Microsoft account, both the example mailbox's owner."""
    common = {
        "address": ME,
        "display_name": "Alex Morgan",
        "time_zone": "Europe/London",
        "junk_rescue": True,
    }
    gmail = config.GmailOptions.sandbox(gmail_url).model_dump()
    return {
        "data_dir": str(out / "data"),
        "log_format": "json",
        "log_level": "warning",
        "health": {"enabled": False},
        "accounts": [
            {"name": "google", "provider": "gmail", **common, "gmail": gmail},
            {
                "name": "microsoft",
                "provider": "outlook",
                **common,
                "outlook": {"graph_endpoint": graph_url},
            },
        ],
    }


class Readback(Protocol):
    """What one account's mailbox now holds, read through the provider's API."""

    def drafts(self) -> list[tuple[str, str, str]]:
        """(subject, to, text) of every draft ghostwatch wrote."""
        ...

    def rescued(self) -> list[tuple[str, str]]:
        """(subject, from) of every reply moved out of junk."""
        ...

    def digest(self, message_id: str) -> tuple[str, str] | None:
        """(subject, HTML) of the digest with this Message-ID."""
        ...


class GmailReadback:
    def __init__(self, sandbox: GmailSandbox) -> None:
        self.sandbox = sandbox
        self.gmail = gmail_service(sandbox.url, sandbox.credentials())
        self.actions = GmailActions(self.gmail, batch_uri=sandbox.batch_uri)

    def _raw(self, message_id: str) -> EmailMessage:
        got = self.gmail.users().messages().get(userId="me", id=message_id, format="raw")
        return _parse(base64.urlsafe_b64decode(got.execute()["raw"]))

    def drafts(self) -> list[tuple[str, str, str]]:
        found = []
        for draft_id in sorted(self.actions.existing_steps().values()):
            draft = self.gmail.users().drafts().get(userId="me", id=draft_id).execute()
            message = self._raw(draft["message"]["id"])
            found.append((str(message["Subject"]), str(message["To"]), _text(message)))
        return found

    def rescued(self) -> list[tuple[str, str]]:
        moved = [w.ids[0] for w in self.sandbox.writes if w.method == "messages.modify"]
        return [(str(m["Subject"]), str(m["From"])) for m in map(self._raw, moved)]

    def digest(self, message_id: str) -> tuple[str, str] | None:
        found = self.actions.find_message(message_id)
        if found is None:
            return None
        message = self._raw(found)
        return str(message["Subject"]), _html(message)


class OutlookReadback:
    def __init__(self, sandbox: GraphSandbox) -> None:
        self.sandbox = sandbox
        self.client: GraphClient = graph_client(sandbox)
        self.actions = OutlookActions(self.client)

    def _get(self, message_id: str) -> dict[str, Any]:
        path = f"{self.client.mailbox}/messages/{message_id}"
        return self.client.request("GET", path).json()

    def drafts(self) -> list[tuple[str, str, str]]:
        found = []
        for message_id in sorted(self.actions.existing_steps().values()):
            item = self._get(message_id)
            to = ", ".join(r["emailAddress"]["address"] for r in item.get("toRecipients", []))
            found.append((item["subject"], to, _plain(item["body"]["content"])))
        return found

    def rescued(self) -> list[tuple[str, str]]:
        moved = [w.ids[0] for w in self.sandbox.writes if w.method == "messages.move"]
        found = []
        for item in map(self._get, moved):
            sender = (item.get("from") or {}).get("emailAddress", {}).get("address", "")
            found.append((item["subject"], sender))
        return found

    def digest(self, message_id: str) -> tuple[str, str] | None:
        found = self.actions.find_message(message_id)
        if found is None:
            return None
        item = self._get(found)
        return item["subject"], item["body"]["content"]


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    return str(text).replace("\r\n", "\n")  # mail is CRLF on the wire (RFC 5322)


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    return part.get_content() if isinstance(part, EmailMessage) else ""


def _plain(markup: str) -> str:
    """Readable text from a draft's HTML body (Graph stores one body)."""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", markup, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def show(
    name: str,
    readback: Readback,
    report: CycleReport | None,
    digest_id: str,
    out: Path,
    say: Callable[[str], None],
) -> None:
    say(f"\n=== account {name}: {_summary(report)} ===")
    for number, (subject, to, text) in enumerate(readback.drafts(), 1):
        say(f"\n--- draft {number}: {subject!r} to {to}")
        say(text.rstrip())
    for subject, sender in readback.rescued():
        say(f"\nrescued from junk into the inbox: {subject!r} from {sender}")
    digest = readback.digest(digest_id)
    if digest is None:
        say("\nno digest in the inbox")
        return
    path = out / f"digest-{name}.html"
    path.write_text(digest[1], encoding="utf-8")
    say(f"\ndigest in the inbox: {digest[0]!r}; its HTML is in {path}")


def _summary(report: CycleReport | None) -> str:
    if report is None:
        return "the cycle failed (see the log above)"
    digest = "digest delivered" if report.digest_delivered else "no digest"
    return f"{report.drafts_created} drafts written, {report.rescued} rescued, {digest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mailbox", type=Path, default=Path("examples/mailbox"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    shutil.rmtree(args.out, ignore_errors=True)  # a fresh store: the demo starts from nothing
    args.out.mkdir(parents=True)
    with ExitStack() as stack:
        gmail = stack.enter_context(GmailSandbox.serve(seed=args.mailbox, user=ME))
        graph = stack.enter_context(GraphSandbox.serve(seed=args.mailbox, user=ME))
        path = args.out / "ghostwatch.yaml"
        path.write_text(yaml.safe_dump(demo_config(args.out, gmail.url, graph.base_url)))
        settings = config.load(path)
        logs.configure(settings.log_level, fmt=settings.log_format)
        print(f"demo configuration: {path} (Gmail sandbox {gmail.url}, Graph {graph.url})")
        print(f"running every account once, as `ghostwatch run --once` at {NOW.isoformat()}")
        token = graph.token
        sign_ins = SignIns(google=lambda _: gmail.credentials(), microsoft=lambda _: lambda: token)
        reports = run_once(settings, sign_ins, now=NOW)
        ids = _digest_ids(settings)
        readers: dict[str, Readback] = {
            "google": GmailReadback(gmail),
            "microsoft": OutlookReadback(graph),
        }
        for name, reader in readers.items():
            show(name, reader, reports.get(name), ids[name], args.out, print)
        refused = len(gmail.sent) + len(graph.sent)
    print(f"\nsend attempts refused by the sandboxes: {refused} (ghostwatch never sends)")
    print(f"demo took {time.perf_counter() - started:.1f} s")
    return 0 if all(r is not None for r in reports.values()) else 1


def _digest_ids(settings: config.Settings) -> dict[str, str]:
    """Each account's digest Message-ID for today, from the ids the store gave them."""
    with open_store(settings) as store, store.transaction() as tx:
        accounts = {info.name: (info.id, tx.digest_key(info.id)) for info in tx.accounts()}
    ids = {}
    for account in settings.accounts:
        account_id, key = accounts[account.name]
        ids[account.name] = digest_message_id(account_id, account.address, NOW.date(), key)
    return ids


if __name__ == "__main__":
    sys.exit(main())
