"""Benchmark reading an IMAP mailbox through the provider, against a real Dovecot.

    .venv/bin/python benchmarks/imap_sync.py [--messages 20000] [--changed 10]

Loads a synthetic Maildir (`synth.py`, cached in /tmp) into a Dovecot on 127.0.0.1 (hard
links: Dovecot reads the tree as it is), then measures, with the provider's own count of
what it sent (`Wire`: tagged commands, and round trips — each time the client waited for
the server), what the IMAP provider costs:

- initial: the first sync of every folder (Dovecot builds its indexes on this first
  touch, as it would for a mailbox it had never opened: the worst case);
- idle_poll: a second read with nothing changed (one LIST-STATUS);
- poll_with_changes: a read after `--changed` messages arrived in INBOX and Sent and as
  many were expunged, counted in headers fetched.

Prints progress to stderr and, last, one JSON line:
    {"initial": {"commands", "round_trips", "seconds", "messages_per_second"},
     (and "cpu_seconds", "messages_per_cpu_second", "load_average": the client's own CPU
     time, the figure to compare on a busy machine, and how busy it was),
     "idle_poll": {"commands", "round_trips"},
     "poll_with_changes": {"changed", "commands", "round_trips", "fetched"},
     "dovecot": VERSION, "targets_met": BOOL}
The issue's targets: an idle poll is 1 round trip; a poll with k changes fetches O(k)
headers; the first sync reads at least 5,000 messages/s of headers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess  # nosec B404
import sys
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imapclient import IMAPClient

from ghostwatch import logs
from ghostwatch.providers.imap.session import ImapLogin, ImapSession
from ghostwatch.providers.imap.source import ImapSource
from ghostwatch_sandbox.dovecot import Dovecot, dovecot_binary
from synth import ME, NOW, cached_maildir

TARGET_MESSAGES_PER_SECOND = 5000


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def measured(source: ImapSource) -> dict[str, Any]:
    """One read_headers, with what it sent and how long it took."""
    wire, poller = source.session.wire, source.poller
    commands, trips, fetched = wire.commands, wire.round_trips, poller.fetched
    started, cpu = time.perf_counter(), time.process_time()
    count = len(source.read_headers())
    seconds = time.perf_counter() - started
    return {
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "messages": count,
        "commands": wire.commands - commands,
        "round_trips": wire.round_trips - trips,
        "fetched": poller.fetched - fetched,
        "seconds": round(seconds, 3),
    }


def arrival(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"] = f"Buyer {n} <buyer{n}@prospect.example>", ME
    mail["Subject"], mail["Date"] = f"Re: offer {n}", format_datetime(datetime.fromisoformat(NOW))
    mail["Message-ID"] = make_msgid(domain="prospect.example")
    mail.set_content("Sounds good.\n")
    return bytes(mail)


def change(server: Dovecot, k: int) -> None:
    """k messages arrive (INBOX and Sent) and k are expunged, behind the provider's back."""
    for n in range(k):
        server.deliver(arrival(n), "INBOX" if n % 2 else "Sent")
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(server.user, server.password)
    client.select_folder("INBOX")
    doomed = client.search("ALL")[:k]
    client.add_flags(doomed, [b"\\Deleted"], silent=True)
    client.uid_expunge(doomed)
    client.logout()


def version() -> str:
    binary = dovecot_binary() or "dovecot"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)  # nosec B603
    return done.stdout.strip()


def run(messages: int, changed: int) -> dict[str, Any]:
    box = cached_maildir("ghostwatch-imap-bench", messages)
    log(f"mailbox {box} ({messages} messages); Dovecot {version()}")
    with Dovecot.serve(box, link=True) as server:
        login = ImapLogin(server.host, server.user, server.password, port=server.port, tls="none")
        source = ImapSource(ImapSession(login))
        initial = measured(source)
        rate = initial["messages"] / max(initial["seconds"], 1e-9)
        per_cpu = initial["messages"] / max(initial["cpu_seconds"], 1e-9)
        log(f"initial: {initial} -> {rate:.0f} messages/s, {per_cpu:.0f} per CPU second")
        log(f"load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        warm = measured(ImapSource(ImapSession(login)))
        log(f"initial again, indexes warm (a fresh source): {warm}")
        idle = measured(source)
        log(f"idle poll: {idle}")
        change(server, changed)
        changes = measured(source)
        log(f"poll after {changed} arrived and {changed} were expunged: {changes}")
        source.close()
    met = (
        idle["round_trips"] == 1
        and changes["fetched"] == changed
        and rate >= TARGET_MESSAGES_PER_SECOND
    )
    return {
        "initial": {
            "messages": initial["messages"],
            "commands": initial["commands"],
            "round_trips": initial["round_trips"],
            "seconds": initial["seconds"],
            "messages_per_second": round(rate),
            "cpu_seconds": initial["cpu_seconds"],
            "messages_per_cpu_second": round(per_cpu),
            "load_average": round(os.getloadavg()[0], 1),
        },
        "idle_poll": {"commands": idle["commands"], "round_trips": idle["round_trips"]},
        "poll_with_changes": {
            "changed": changed,
            "commands": changes["commands"],
            "round_trips": changes["round_trips"],
            "fetched": changes["fetched"],
        },
        "dovecot": version(),
        "targets_met": met,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--changed", type=int, default=10)
    args = parser.parse_args()
    logs.configure("warning", fmt="json")
    if dovecot_binary() is None:
        sys.exit("no Dovecot here: apt-get install dovecot-imapd")
    print(json.dumps(run(args.messages, args.changed)))


if __name__ == "__main__":
    main()
