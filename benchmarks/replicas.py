"""Replicas on one PostgreSQL, killed at random, against many Gmail sandboxes (issue 18).

    .venv/bin/python benchmarks/replicas.py [--replicas 3] [--mailboxes 1000] [--kills 20]
        [--lease 15] [--poll 60] [--kill-every 15] [--hosts 2] [--seed 18]

Starts `--replicas` real `ghostwatch run` processes on a throwaway PostgreSQL database
(127.0.0.1:5432, dropped at the end) with `--mailboxes` Gmail accounts, each its own
sandbox mailbox; the sandboxes run in `--hosts` processes of their own
(`replica_sandboxes.py`), so their CPU is not the replicas'. The sign-ins are in the
database's vault: a replica has only the database URL and the key. Phases:

1. warm-up: every mailbox polled twice (first syncs, clients built);
2. calm: two poll intervals with nothing arriving: the idle cycle's CPU, from
   /proc/PID/stat of the replicas, over the polls their logs show;
3. churn: mail arrives (a message the user sent a week ago, which makes one follow-up
   due, and newsletters, which make none) while a random replica is SIGKILLed every
   `--kill-every` seconds and restarted 1-5 s later, `--kills` times;
4. settle: no kills and no mail for a lease and two polls, then every replica stops.

Figures (the last stdout line is one JSON object):
- `polls`: cycles the replicas' logs show (`cycle_started`…`cycle_ended`; one cut by a
  kill ends at the kill); `double_polls`: pairs of one account's cycles by two
  replicas whose windows overlap;
- `duplicates`: drafts beyond the first for one X-Ghostwatch-Step; `missing`: messages
  sent that have no follow-up draft at the end (read from the sandboxes);
- `takeover_seconds_max`: for every account a killed replica held (the leases table at
  the kill), the time until another replica's cycle of it started; the target is one
  lease time and one poll interval;
- `idle_cycle_cpu_ms`: replica CPU per poll in the calm phase; `mailboxes_per_core`:
  300 s / that, the mailboxes one core serves at 5-minute polls (target >= 5,000);
  `cpu_ms_per_poll_all_in` counts every CPU second of every replica over the whole run
  (starts and restarts, first syncs, takeovers, mail) over every poll.
Also: the sandboxes' request and quota-unit totals, and send attempts (must be 0).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import psycopg
import yaml
from google.oauth2.credentials import Credentials

from ghostwatch import logs
from ghostwatch.providers.google import signin as google
from ghostwatch.store import Store
from ghostwatch.store.vault_rows import database_vault
from ghostwatch.vault.keys import SecretKey, new_key
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from ghostwatch_sandbox.logs import json_events

HERE = Path(__file__).resolve().parent
GHOSTWATCH = HERE.parent / ".venv" / "bin" / "ghostwatch"
SERVER = "postgresql://postgres@127.0.0.1:5432"
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TICK = os.sysconf("SC_CLK_TCK")


def log(text: str) -> None:
    print(f"[replicas] {text}", file=sys.stderr, flush=True)


def address(index: int) -> str:
    return f"rep{index:05d}@bench.example"


# --- the sandboxes, in processes of their own ---------------------------------------------


@dataclass
class Host:
    process: subprocess.Popen[str]
    url: str
    first: int
    tokens: list[str]

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = Request(f"{self.url}/control/{path}", data=data, method="POST" if data else "GET")
        request.add_header("Content-Type", "application/json")
        with urlopen(request, timeout=60) as answer:  # nosec B310 - our own loopback server
            return json.loads(answer.read())


def start_hosts(mailboxes: int, hosts: int) -> list[Host]:
    started = []
    per = -(-mailboxes // hosts)
    for first in range(0, mailboxes, per):
        count = min(per, mailboxes - first)
        process = subprocess.Popen(
            [sys.executable, str(HERE / "replica_sandboxes.py"), "--first", str(first),
             "--boxes", str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        started.append(Host(process, line["url"], first, line["refresh_tokens"]))
    return started


def host_of(hosts: list[Host], index: int) -> Host:
    return next(h for h in reversed(hosts) if h.first <= index)


# --- the database, the vault and the configuration -----------------------------------------


def admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def sign_in_all(url: str, hosts: list[Host], mailboxes: int, key: str, folder: Path) -> None:
    """Each account's Google sign-in, into the database's vault (no file anywhere)."""
    with Store.open(url) as store:
        store.upgrade()
        vault = database_vault(store.engine, folder / "unused", SecretKey.parse(key, "bench"))
        for index in range(mailboxes):
            host = host_of(hosts, index)
            granted = Credentials(  # type: ignore[no-untyped-call]
                token=None,
                refresh_token=host.tokens[index - host.first],
                token_uri=f"{host.url}/u/{index}/token",
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                scopes=google.google_scopes(junk_rescue=False),
            )
            google.store_user_login(vault, f"m{index:05d}", granted)


def write_config(folder: Path, hosts: list[Host], mailboxes: int, args: Any) -> Path:
    accounts = []
    for index in range(mailboxes):
        root = f"{host_of(hosts, index).url}/u/{index}"
        accounts.append({
            "name": f"m{index:05d}",
            "provider": "gmail",
            "address": address(index),
            "digest": False,
            "working_hours": {"start": "00:00", "end": "23:59", "days": ALL_WEEK},
            "gmail": {"api_endpoint": f"{root}/", "batch_uri": f"{root}/batch/gmail/v1",
                      "calendar": False},
        })  # fmt: skip
    settings = {
        "log_format": "json",
        "schedule": {
            "mail_minutes": args.poll / 60,
            "calendar_minutes": 1440,
            "jitter_seconds": max(1, int(args.poll / 6)),
            "stale_after_minutes": 60,
        },
        "replicas": {"lease_seconds": args.lease},
        "vault": "database",
        "accounts": accounts,
    }
    path = folder / "ghostwatch.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


# --- replicas --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


@dataclass
class Replica:
    slot: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    killed: float | None = None
    cpu: float = 0.0
    """The last CPU reading (seconds): a killed process keeps its last one."""

    def sample(self) -> None:
        found = cpu_seconds(self.process.pid)
        if found is not None and self.process.poll() is None:
            self.cpu = found


@dataclass
class Fleet:
    folder: Path
    config: Path
    env: dict[str, str]
    replicas: list[Replica] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, slot: int) -> Replica:
        env = {**self.env, "GHOSTWATCH_HEALTH__ADDRESS": f"127.0.0.1:{free_port()}",
               "GHOSTWATCH_DATA_DIR": str(self.folder / f"data-{slot}")}  # fmt: skip
        path = self.folder / f"replica-{slot}-{len(self.replicas)}.log"
        with path.open("wb") as sink:
            process = subprocess.Popen(
                [str(GHOSTWATCH), "run", "--config", str(self.config)],
                stdout=subprocess.DEVNULL, stderr=sink, env=env,
            )  # fmt: skip
        replica = Replica(slot, process, path, time.time())
        with self.lock:
            self.replicas.append(replica)
        return replica

    def live(self) -> list[Replica]:
        with self.lock:
            return [r for r in self.replicas if r.killed is None and r.process.poll() is None]

    def sample(self) -> None:
        with self.lock:
            for replica in self.replicas:
                replica.sample()

    def cpu(self) -> float:
        with self.lock:
            return sum(r.cpu for r in self.replicas)

    def stop(self) -> None:
        for replica in self.live():
            replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            try:
                replica.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                replica.process.kill()


def serving_since(replica: Replica) -> float | None:
    """When its daemon started serving (its log's `daemon_started`), or None yet."""
    with replica.log.open("rb") as log:
        for line in log:
            if b'"daemon_started"' in line:
                return float(replica.started)
    return None


def windows(fleet: Fleet) -> list[tuple[int, str, float, float]]:
    """(replica, account, start, end) of every cycle in the replicas' logs."""
    found = []
    for number, replica in enumerate(fleet.replicas):
        opened: dict[str, float] = {}
        for event in json_events(replica.log):
            kind = event.get("event")
            if kind == "cycle_started":
                opened[event["account"]] = event["at"]
            elif kind == "cycle_ended" and event["account"] in opened:
                found.append((number, event["account"], opened.pop(event["account"]), event["at"]))
        end = replica.killed or time.time()
        found.extend((number, account, start, end) for account, start in opened.items())
    return found


def double_polls(found: list[tuple[int, str, float, float]]) -> int:
    by_account: dict[str, list[tuple[int, str, float, float]]] = {}
    for window in found:
        by_account.setdefault(window[1], []).append(window)
    pairs = 0
    for cycles in by_account.values():
        cycles.sort(key=lambda w: w[2])
        for i, first in enumerate(cycles):
            for second in cycles[i + 1 :]:
                if second[2] >= first[3]:
                    break
                pairs += second[0] != first[0]
    return pairs


def held_by(url: str, pid: int) -> list[str]:
    """The accounts whose lease the replica `pid` holds (its holder name has the pid)."""
    with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT account FROM ghostwatch.leases WHERE holder LIKE %s AND expires_at > now()",
            (f"%-{pid}-%",),
        ).fetchall()
    return [str(row[0]) for row in rows]


# --- mail arriving -----------------------------------------------------------------------------


def sent_message(index: int, number: int) -> EmailMessage:
    """A message the user sent a week ago and nobody answered: one follow-up is due."""
    message = EmailMessage()
    message["From"] = address(index)
    message["To"] = f"buyer{number}@customer{number % 97}.example"
    message["Subject"] = f"Proposal {number} for your team"
    message["Date"] = format_datetime(datetime.now(UTC) - timedelta(days=7))
    message["Message-ID"] = make_msgid(domain="bench.example")
    message.set_content(f"Hi,\n\nhere is proposal {number}, as promised.\n\nBest\n")
    return message


def newsletter(index: int, number: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "news@vendor.example"
    message["To"] = address(index)
    message["Subject"] = f"Weekly digest {number}"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="vendor.example")
    message["List-Unsubscribe"] = "<mailto:leave@vendor.example>"
    message.set_content("This week: nothing you asked for.\n")
    return message


def deliver(host: Host, index: int, message: EmailMessage, labels: list[str]) -> None:
    raw = base64.b64encode(message.as_bytes()).decode()
    host.control("insert", {"box": index, "raw": raw, "labels": labels})


# --- the run ---------------------------------------------------------------------------------


def wait_polled(fleet: Fleet, mailboxes: int, times: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        fleet.sample()
        counts = Counter(account for _, account, _, _ in windows(fleet))
        if len(counts) == mailboxes and min(counts.values()) >= times:
            return
        time.sleep(2)
    log(f"warning: not every mailbox was polled {times} times within {limit:.0f} s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    chance = random.Random(args.seed)  # nosec B311 - when to kill, not a secret
    database = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin(f"CREATE DATABASE {database}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    folder = Path(tempfile.mkdtemp(prefix="gw-replicas-"))
    hosts = start_hosts(args.mailboxes, args.hosts)
    fleet = None
    try:
        key = new_key()
        sign_in_all(url, hosts, args.mailboxes, key, folder)
        config = write_config(folder, hosts, args.mailboxes, args)
        env = {**os.environ, "GHOSTWATCH_DATABASE_URL": url, "GHOSTWATCH_SECRET_KEY": key}
        fleet = Fleet(folder, config, env)
        began = time.time()
        for slot in range(args.replicas):
            fleet.start(slot)
        log(f"{args.replicas} replicas, {args.mailboxes} mailboxes: warming up")
        wait_polled(fleet, args.mailboxes, 2, args.poll * 6 + 120)
        # Calm: nothing arrives; the idle cycle's CPU over the polls of this window.
        fleet.sample()
        calm_cpu, calm_from = fleet.cpu(), time.time()
        time.sleep(args.poll * 2)
        fleet.sample()
        calm_cpu, calm_to = fleet.cpu() - calm_cpu, time.time()
        calm_polls = sum(1 for _, _, s, e in windows(fleet) if calm_from <= s and e <= calm_to)
        log(f"calm: {calm_polls} polls, {calm_cpu:.1f} CPU s")
        sent, kills = churn(fleet, hosts, url, args, chance)
        log("settling")
        settle_until = time.time() + args.lease + 2 * args.poll + 10
        while time.time() < settle_until:
            fleet.sample()
            time.sleep(1)
        fleet.sample()
        fleet.stop()
        seconds = time.time() - began
        found = windows(fleet)
        result = figures(args, fleet, hosts, found, sent, kills, calm_cpu, calm_polls, seconds)
        return result | database_figures(url, database, len(found), args.mailboxes)
    finally:
        if fleet is not None:
            fleet.stop()
        for host in hosts:
            if host.process.stdin is not None:
                host.process.stdin.close()
            host.process.wait(timeout=30)
        admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@dataclass
class Kill:
    at: float
    accounts: list[str]


def churn(
    fleet: Fleet, hosts: list[Host], url: str, args: Any, chance: random.Random
) -> tuple[dict[tuple[int, str], int], list[Kill]]:
    """Mail arriving and replicas killed; the sent subjects (box, subject → 1) and kills."""
    sent: dict[tuple[int, str], int] = {}
    kills: list[Kill] = []
    number = 0
    next_kill = time.time() + args.kill_every
    restarts: list[tuple[float, int]] = []
    while len(kills) < args.kills or restarts:
        now = time.time()
        fleet.sample()
        for when, slot in list(restarts):
            if when <= now:
                fleet.start(slot)
                restarts.remove((when, slot))
        serving = [r for r in fleet.live() if serving_since(r) is not None]
        if len(kills) < args.kills and now >= next_kill and len(serving) > 1:
            # Among replicas that finished starting, and never the last one: the target
            # (a lease and a poll) is how long a running replica takes to step in.
            victim = chance.choice(serving)
            accounts = held_by(url, victim.process.pid)
            victim.sample()
            victim.killed = time.time()
            os.kill(victim.process.pid, signal.SIGKILL)
            victim.process.wait()
            kills.append(Kill(victim.killed, accounts))
            restarts.append((victim.killed + chance.uniform(1, 5), victim.slot))
            next_kill = victim.killed + args.kill_every * chance.uniform(0.5, 1.5)
            log(f"kill {len(kills)}: replica {victim.slot} held {len(accounts)} accounts")
        for _ in range(args.arrivals):
            number += 1
            index = chance.randrange(args.mailboxes)
            host = host_of(hosts, index)
            if number % 3:
                message = sent_message(index, number)
                deliver(host, index, message, ["SENT"])
                sent[(index, str(message["Subject"]))] = 1
            else:
                deliver(host, index, newsletter(index, number), ["INBOX", "UNREAD"])
        time.sleep(1)
    return sent, kills


def figures(
    args: Any,
    fleet: Fleet,
    hosts: list[Host],
    found: list[tuple[int, str, float, float]],
    sent: dict[tuple[int, str], int],
    kills: list[Kill],
    calm_cpu: float,
    calm_polls: int,
    seconds: float,
) -> dict[str, Any]:
    drafts = [d for host in hosts for d in host.control("drafts")["drafts"]]
    steps = Counter((box, step) for box, step, _ in drafts if step)
    duplicates = sum(count - 1 for count in steps.values())
    answered = {(box, subject.removeprefix("Re: ")) for box, step, subject in drafts if step}
    missing = sum(1 for key in sent if key not in answered)
    takeovers = []
    for kill in kills:
        for account in kill.accounts:
            later = [s for number, a, s, _ in found if a == account and s > kill.at
                     and fleet.replicas[number].killed != kill.at]  # fmt: skip
            takeovers.append(min(later) - kill.at if later else float("inf"))
    meters = [host.control("meter") for host in hosts]
    idle_ms = 1000 * calm_cpu / max(1, calm_polls)
    all_in_ms = 1000 * fleet.cpu() / max(1, len(found))
    return {
        "replicas": args.replicas,
        "mailboxes": args.mailboxes,
        "seconds": round(seconds),
        "kills": len(kills),
        "polls": len(found),
        "double_polls": double_polls(found),
        "duplicates": duplicates,
        "missing": missing,
        "takeover_seconds_max": round(max(takeovers, default=0.0), 1),
        "idle_cycle_cpu_ms": round(idle_ms, 1),
        "mailboxes_per_core": round(300_000 / idle_ms) if idle_ms else None,
        "lease_seconds": args.lease,
        "poll_seconds": args.poll,
        "takeover_target_seconds": args.lease + args.poll,
        "follow_ups_due": len(sent),
        "drafts": len(drafts),
        "calm_polls": calm_polls,
        "cpu_ms_per_poll_all_in": round(all_in_ms, 1),
        "replica_cpu_seconds": round(fleet.cpu(), 1),
        "sandbox_requests": sum(m["requests"] for m in meters),
        "sandbox_quota_units": sum(m["units"] for m in meters),
        "send_attempts": sum(m["sends"] for m in meters),
    }


def database_figures(url: str, database: str, polls: int, mailboxes: int) -> dict[str, Any]:
    """What the run cost PostgreSQL: its size, rows written (pg_stat_user_tables) and
    transactions committed (pg_stat_database), per poll and per mailbox."""
    with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=5) as conn:
        size, writes, rows = conn.execute(
            "SELECT sum(pg_total_relation_size(relid)), sum(n_tup_ins + n_tup_upd + n_tup_del),"
            " sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'ghostwatch'"
        ).fetchone() or (0, 0, 0)
        (commits,) = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone() or (0,)
    return {
        "db_bytes_per_mailbox": round(int(size or 0) / mailboxes),
        "db_rows_per_mailbox": round(int(rows or 0) / mailboxes, 1),
        "db_row_writes_per_poll": round(int(writes or 0) / max(1, polls), 1),
        "db_commits_per_poll": round(int(commits or 0) / max(1, polls), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease", type=float, default=15.0, help="replicas.lease_seconds")
    parser.add_argument("--poll", type=float, default=60.0, help="seconds between mail polls")
    parser.add_argument("--kill-every", type=float, default=15.0, help="mean seconds")
    parser.add_argument("--arrivals", type=int, default=1, help="messages a second")
    parser.add_argument("--hosts", type=int, default=2, help="sandbox processes")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    logs.configure("warning")  # this process's own log: not a line per account signed in
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
