"""ghostwatch's failed recipients held to Sisimai's, over the Sisimai bounce corpus.

Sisimai (https://libsisimai.org/; Debian and Ubuntu package it as `libsisimai-perl`) is
the reference bounce analyser. `sisimai_oracle.pl`, beside this file, runs it once over
every file and prints what it found; this module compares.

How the count is made:

* A file of `bounces/` counts when Sisimai names at least one recipient that failed: a
  record that is not a delivery (reason `delivered`, or action delivered, deliverable,
  expanded or relayed), not a delay (action `delayed`), not a vacation reply and not a
  complaint (reason `feedback`). With Sisimai 4.25, 539 of the 592 files.
* ghostwatch's answer is the failed recipients it names, lower case.
* A file agrees when that answer is exactly Sisimai's failed recipients.

Every file that does not agree is listed below with the reason, and the reason is checked
in the file itself, so the list cannot go stale either way: a new disagreement fails the
test, and so does a listed one that went away. Two kinds are listed apart:

* `DISAGREE` — ghostwatch names another recipient (at most `MOST_DISAGREEMENTS`):
  the address the user wrote (RFC 3464 Original-Recipient) where Sisimai names the one
  it was forwarded to (docs/rules.md, "Failed recipients"), or Sisimai reading a
  message's human text where its machine-readable fields say otherwise;
* `STILL_TRYING` — delay warnings Sisimai 4 reports as failures (action `failed` or none):
  ghostwatch calls them `auto_ack` and names *the same* address as delayed. Their own
  words say the server is still trying, so Sisimai's status is the mistake, not the
  recipient.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ghostwatch.engine.classify.verdict import classify
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.decisions import Classification, InboundClass
from ghostwatch.model.mail import Folder
from tests.support.paths import CORPORA

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

ORACLE = Path(__file__).with_name("sisimai_oracle.pl")
BOUNCES = CORPORA / "sisimai" / "bounces"
INSTALL = "Sisimai is not installed: `apt-get install libsisimai-perl` (Debian, Ubuntu)"
MOST_DISAGREEMENTS = 14
_DELIVERED_ACTIONS = frozenset({"delivered", "deliverable", "expanded", "relayed"})


@dataclass(frozen=True)
class Known:
    """A listed difference: what each side names, why, and where the file shows it."""

    ghostwatch: tuple[str, ...]
    sisimai: tuple[str, ...]
    why: str
    shown_by: tuple[str, ...]
    """Patterns the raw file must contain (case-insensitive): the evidence for `why`."""


def _forwarded(original: str, final: str) -> Known:
    return Known(
        (original,),
        (final,),
        "Original-Recipient (what the user wrote) vs the Final-Recipient it was forwarded to",
        (
            rf"^Original-Recipient:\s*rfc822;\s*<?{re.escape(original)}",
            rf"^Final-Recipient:\s*rfc822;\s*<?{re.escape(final)}",
        ),
    )


def _sisimai_read_words(ours: str, theirs: str, field: str) -> Known:
    return Known(
        (ours,),
        (theirs,),
        f"Sisimai read the human text; the machine-readable {field} names ghostwatch's",
        (rf"^{field}:\s*(?:rfc822;\s*)?<?{re.escape(ours)}",),
    )


DISAGREE: dict[str, Known] = {
    "lhost-exchange2007-04": _forwarded("neko-nyaan@cat.example.jp", "neko-nyaan@example.jp"),
    "lhost-postfix-01": _forwarded("kijitora@example.org", "r@p351355.pool.example.ne.jp"),
    "lhost-postfix-49": _forwarded(
        "toraneko@neko.example.co.jp", "kijitora-neko-nyaan@ntt.example.ne.jp"
    ),
    "lhost-postfix-77": _forwarded("neko@example.co.jp", "postmaster@libsisimai.org"),
    "lhost-postfix-78": _forwarded("neko@example.co.jp", "postmaster@libsisimai.org"),
    "lhost-postfix-79": _forwarded("nekko@c.example.co.jp", "kijitora@mailhub0"),
    "rhost-google-03": _forwarded("neko@example.co.jp", "kijitora@google.example.com"),
    "rhost-google-04": _forwarded("contact@example.co.jp", "kijitora@google.example.com"),
    "rhost-google-06": _forwarded("michitsuna@example.org", "michitsuna@google.example.com"),
    # The anonymised text says .com; the DSN and the returned To say .org.
    "lhost-domino-03": _sisimai_read_words(
        "kijitora@neko.example.org", "kijitora@neko.example.com", "Final-Recipient"
    ),
    # Only a <mailto:> link drops "-neko"; the DSN, the returned To and the text keep it.
    "lhost-office365-04": _sisimai_read_words(
        "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp",
        "otsu-sakaba-hunter-nyaaaaaaan@ezweb.ne.jp",
        "Final-Recipient",
    ),
    # X-Failed-Recipients and the envelope say .jp; the text and the returned To .or.jp.
    "lhost-exim-03": _sisimai_read_words(
        "kijitora@example.jp", "kijitora@example.or.jp", "X-Failed-Recipients"
    ),
    "lhost-fml-03": Known(
        (),
        ("neko@example.co.jp",),
        "a mailing list's loop alert, not a delivery failure: nobody failed",
        (r"^Subject: Loop Alert: Duplicated Message-ID",),
    ),
}


def _still_trying(address: str, *words: str) -> Known:
    return Known((address,), (address,), "a delay warning Sisimai reports as a failure", words)


STILL_TRYING: dict[str, Known] = {
    "lhost-exim-38": _still_trying(
        "kijitora@example.co.jp", "has not yet been delivered", "Delivery attempts will continue"
    ),
    "lhost-exim-41": _still_trying(
        "kijitora@example.net", "has not yet been delivered", "Delivery attempts will continue"
    ),
    "lhost-gmail-06": _still_trying(
        "kijitora@example.jp", "THIS IS A WARNING MESSAGE ONLY", "has been delayed"
    ),
    "lhost-opensmtpd-04": _still_trying(
        "kijitora@neko.example.jp", "only a temporary failure report", "kept in the queue"
    ),
    "lhost-x1-04": _still_trying(
        "kijitora-neko@neko.example.go.jp", r"^Subject: Warning--Could not send mail for past"
    ),
}


def _sisimai_installed() -> bool:
    if shutil.which("perl") is None:
        return False
    probe = subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, check=False)
    return probe.returncode == 0


def _failed(record: dict[str, str]) -> bool:
    reason, action = record["reason"], record["action"]
    if reason in ("feedback", "vacation", "delivered") or action in _DELIVERED_ACTIONS:
        return False
    return action != "delayed"


@dataclass(frozen=True)
class Compared:
    file: str
    sisimai: tuple[str, ...]
    ghostwatch: Classification


@cache
def compared() -> tuple[Compared, ...]:
    """Every file of `bounces/` where Sisimai names a failed recipient, with both answers."""
    if not BOUNCES.is_dir():
        pytest.skip(f"corpus folder {BOUNCES} is absent")
    if not _sisimai_installed():
        pytest.skip(INSTALL)
    files = sorted(BOUNCES.glob("*.eml"))
    run = subprocess.run(
        ["perl", str(ORACLE), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    rows: list[dict[str, Any]] = [json.loads(line) for line in run.stdout.splitlines()]
    assert [Path(r["file"]) for r in rows] == files, "one line per file, in order"
    return tuple(
        Compared(
            path.stem, failed, classify(parse_message(path.read_bytes(), path.name, Folder.INBOX))
        )
        for path, row in zip(files, rows, strict=True)
        if (
            failed := tuple(
                dict.fromkeys(r["recipient"].lower() for r in row["records"] if _failed(r))
            )
        )
    )


def _sorted(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(addresses))


def _differences() -> tuple[dict[str, Compared], dict[str, Compared]]:
    """(files naming another recipient, delay warnings Sisimai calls failures)."""
    other: dict[str, Compared] = {}
    still: dict[str, Compared] = {}
    for row in compared():
        gw = row.ghostwatch
        if _sorted(gw.failed_recipients) == _sorted(row.sisimai):
            continue
        delay = gw.kind is InboundClass.AUTO_ACK and not gw.failed_recipients
        if delay and _sorted(gw.delayed_recipients) == _sorted(row.sisimai):
            still[row.file] = row
        else:
            other[row.file] = row
    return other, still


def test_at_most_fourteen_bounces_name_another_recipient_than_sisimai() -> None:
    rows = compared()
    other, still = _differences()
    kinds = Counter(row.ghostwatch.kind.value for row in rows)
    print(
        f"\nSisimai names a failed recipient in {len(rows)} bounces; ghostwatch names exactly"
        f" the same in {len(rows) - len(other) - len(still)}; another recipient in"
        f" {len(other)}; the same one as delayed in {len(still)} (classes: {dict(kinds)})"
    )
    for name, row in sorted(other.items()):
        print(f"  {name}: ghostwatch {row.ghostwatch.failed_recipients} vs {row.sisimai}")
    assert sorted(other) == sorted(DISAGREE), "a difference from Sisimai that is not listed"
    assert sorted(still) == sorted(STILL_TRYING), "a delay/failure difference not listed"
    assert len(other) <= MOST_DISAGREEMENTS


@pytest.mark.parametrize("name", [*DISAGREE, *STILL_TRYING])
def test_each_listed_difference_is_what_the_list_says(name: str) -> None:
    known = DISAGREE.get(name) or STILL_TRYING[name]
    row = {r.file: r for r in compared()}[name]
    named = row.ghostwatch.failed_recipients or row.ghostwatch.delayed_recipients
    assert (named, row.sisimai) == (known.ghostwatch, known.sisimai), known.why


@pytest.mark.parametrize("name", [*DISAGREE, *STILL_TRYING])
def test_each_listed_reason_is_shown_by_the_file_itself(name: str) -> None:
    # Needs only the corpus: the evidence for each reason, in the message's own bytes.
    path = BOUNCES / f"{name}.eml"
    if not path.is_file():
        pytest.skip(f"corpus file {path} is absent")
    text = path.read_bytes().decode("utf-8", "replace")
    known = DISAGREE.get(name) or STILL_TRYING[name]
    for pattern in known.shown_by:
        assert re.search(pattern, text, re.M | re.I), (name, known.why, pattern)
