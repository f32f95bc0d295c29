"""Reading back what a ghostwatch process logged as JSON (its stderr, off a TTY), for the
benchmarks and tests that watch real `ghostwatch run` processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def json_events(path: Path) -> list[dict[str, Any]]:
    """Every JSON object in a log file. ghostwatch writes one a line, libraries' records
    included (ghostwatch/logs.py); what else writes to stderr (a crashing interpreter, a
    log from before that) may put plain text on a line: each object is read whole."""
    decoder = json.JSONDecoder()
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        at = line.find("{")
        while at != -1:
            try:
                event, end = decoder.raw_decode(line, at)
            except json.JSONDecodeError:
                at = line.find("{", at + 1)
                continue
            if isinstance(event, dict):
                found.append(event)
            at = line.find("{", end)
    return found
