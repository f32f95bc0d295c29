"""How well `authres` reads the Authentication-Results headers of the shared corpora.

    .venv/bin/python benchmarks/authres_corpora.py [--corpora ../shared/corpora]

Why ghostwatch reads the header itself and keeps authres as the tests' oracle
(src/ghostwatch/engine/classify/authenticity.py): every header of every corpus file is
given to authres, and to ghostwatch's tolerant reading; the figures say how many authres
parses, how many it rejects (and whose they are), and whether the two readings agree on
the DMARC/SPF/DKIM results wherever both read a header.

The last stdout line is one JSON object:
    {"headers": N, "authres_parsed": P, "authres_rejected": R, "rejected_by_origin": {...},
     "tolerant_read": T, "agree_where_both_read": A, "disagree": D, "seconds": S}
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import time
from collections import Counter
from pathlib import Path

import authres
import authres.dmarc

from ghostwatch.engine.classify import authenticity

_KEPT = ("dmarc", "spf", "dkim")


def _origin(value: str) -> str:
    lowered = value.lower()
    if "outlook.com" in lowered or "protection.outlook" in lowered or "sender ip is" in lowered:
        return "microsoft"
    if "yahoo" in lowered or "domainkeys=" in lowered:
        return "yahoo-legacy"
    return "other"


def _by_authres(value: str) -> list[tuple[str, str]] | None:
    try:
        header = authres.FeatureContext(authres.dmarc).parse_value(value)
    except (authres.AuthResError, ValueError, IndexError):
        return None
    return [(str(r.method).lower(), str(r.result).lower()) for r in header.results]


def _headers(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        found += [" ".join(str(v).split()) for v in message.get_all("Authentication-Results", [])]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=Path("../shared/corpora"))
    args = parser.parse_args()
    start = time.perf_counter()
    headers = _headers(args.corpora)
    parsed = rejected = tolerant = agree = disagree = 0
    origins: Counter[str] = Counter()
    for value in headers:
        strict = _by_authres(value)
        loose = tuple((m, r) for m, r in authenticity.results_of(value) if m in _KEPT)
        tolerant += bool(loose)
        if strict is None:
            rejected += 1
            origins[_origin(value)] += 1
            continue
        parsed += 1
        if tuple((m, r) for m, r in strict if m in _KEPT) == loose:
            agree += 1
        else:
            disagree += 1
            print(f"disagree: {value[:160]}")
    print(
        json.dumps(
            {
                "headers": len(headers),
                "authres_parsed": parsed,
                "authres_rejected": rejected,
                "rejected_by_origin": dict(origins),
                "tolerant_read": tolerant,
                "agree_where_both_read": agree,
                "disagree": disagree,
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
