"""What one Gmail mailbox costs PostgreSQL: rows and bytes kept, and per idle cycle the
statements, commits, requests and quota units (docs/scaling.md).

    .venv/bin/python benchmarks/store_costs.py [--messages 5000] [--cycles 20]

One account over the Gmail sandbox seeded with a synthetic mailbox (`synth.py`, cached in
/tmp), the real daemon's runner on a throwaway PostgreSQL database (127.0.0.1:5432,
dropped at the end), holding its lease as a replica does: a first cycle (the 90-day
first sync), then `--cycles` idle ones. Statements are counted where SQLAlchemy sends
them (the lease round has a connection of its own and is not among them); sizes are
`pg_total_relation_size` (table, indexes, TOAST) after ANALYZE. Last stdout line:
    {"messages", "tables": {name: {"rows", "bytes"}}, "bytes", "idle_cycle": {"selects",
     "inserts", "updates", "deletes", "commits", "requests", "quota_units"}}
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghostwatch import config, logs
from ghostwatch.service.app import SignIns, build_daemon
from ghostwatch.store import Store
from ghostwatch_sandbox.google import GmailSandbox
from synth import ME, cached_maildir

SERVER = "postgresql://postgres@127.0.0.1:5432"
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def measure(url: str, messages: int, cycles: int) -> dict[str, Any]:
    seed = cached_maildir("ghostwatch-gmail-bench", messages)
    with GmailSandbox.serve(seed=seed, user=ME) as box:
        gmail = config.GmailOptions.sandbox(box.url).model_copy(update={"calendar": False})
        hours = {"start": "00:00", "end": "23:59", "days": ALL_WEEK}
        account = config.AccountConfig.model_validate(
            {"name": "alex", "provider": "gmail", "address": ME, "working_hours": hours}
        ).model_copy(update={"gmail": gmail})
        settings = config.Settings(
            data_dir=Path(tempfile.mkdtemp()), accounts=[account], database_url=SecretStr(url)
        )
        with Store.open(url) as store:
            store.upgrade()
            daemon = build_daemon(settings, store, SignIns(google=lambda _: box.credentials()))
            daemon.refuse_wrong_mailboxes()  # a replica's start: it claims its leases here
            runner = daemon.runners[0]
            runner.poll()  # the first sync
            runner.poll()
            kinds: Counter[str] = Counter()
            event.listen(
                store.engine,
                "before_cursor_execute",
                lambda _c, _k, statement, *_: kinds.update([statement.split(None, 1)[0]]),
            )
            event.listen(store.engine, "commit", lambda _c: kinds.update(["COMMIT"]))
            box.meter.reset()
            for _ in range(cycles):
                runner.poll()
            daemon.release_leases()
        idle = {
            "selects": kinds["SELECT"] / cycles,
            "inserts": kinds["INSERT"] / cycles,
            "updates": kinds["UPDATE"] / cycles,
            "deletes": kinds["DELETE"] / cycles,
            "commits": kinds["COMMIT"] / cycles,
            "requests": box.meter.requests / cycles,
            "quota_units": box.meter.units / cycles,
        }
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ANALYZE")
        rows = conn.execute(
            "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables"
            " WHERE schemaname = 'ghostwatch' ORDER BY 3 DESC"
        ).fetchall()
    tables = {str(name): {"rows": int(count), "bytes": int(size)} for name, count, size in rows}
    total = sum(t["bytes"] for t in tables.values())
    return {"messages": messages, "tables": tables, "bytes": total, "idle_cycle": idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    logs.configure("warning")
    database = f"gw_costs_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        print(json.dumps(measure(url, args.messages, args.cycles)), flush=True)
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


if __name__ == "__main__":
    main()
