"""The IMAP commands the provider sends that IMAPClient has no method for, or none fast
enough, sent through its raw command path and read back from imaplib.

- `list_status`: LIST "" "*" RETURN (SPECIAL-USE STATUS (...)) — every folder, its
  special-use role (RFC 6154) and its counters (RFC 5819) in one round trip.
- `status_each`: one STATUS per folder, pipelined (RFC 3501 §5.5), for servers without
  LIST-STATUS: sent together, answered together, still one round trip.
- `examine`: EXAMINE (read-only: reading never changes a flag), with QRESYNC's
  (UIDVALIDITY HIGHESTMODSEQ) when the server has it (RFC 7162 §3.2.5): the answer
  names the UIDs expunged since (`VANISHED (EARLIER)`).
- `fetch`: UID FETCH of a UID set, parsed here rather than by IMAPClient's general
  parser, which measured half the speed of the whole first sync; the items asked for
  are few and fixed (UID, INTERNALDATE, FLAGS, one BODY.PEEK section).

IMAPClient 4 refuses a UID range such as `5:*` in `fetch()`, so ranges go raw too.
imaplib keeps every untagged answer until it is taken; each command here takes its own
before it starts and after it ends, so an old answer is never read as a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.imap_utf7 import decode as utf7_decode
from imapclient.imap_utf7 import encode as utf7_encode
from imapclient.response_parser import parse_response

from ghostwatch.providers.imap.session import ImapError

STATUS_ITEMS = ("MESSAGES", "UIDNEXT", "UIDVALIDITY")
MODSEQ_ITEM = "HIGHESTMODSEQ"


@dataclass(frozen=True, slots=True)
class Listed:
    """One folder as LIST (and STATUS) describe it."""

    name: str
    flags: frozenset[str]
    delimiter: str | None
    status: dict[str, int] = field(default_factory=dict)

    @property
    def selectable(self) -> bool:
        return not self.flags & {"\\NOSELECT", "\\NONEXISTENT"}


@dataclass(frozen=True, slots=True)
class Opened:
    """What EXAMINE said about a folder."""

    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int | None
    vanished: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    flags: frozenset[str]
    date_text: bytes
    """INTERNALDATE as sent, read only when needed (strptime per message measured a
    sixth of a first sync)."""
    data: bytes

    @property
    def internaldate(self) -> datetime | None:
        try:
            return datetime.strptime(self.date_text.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
        except ValueError:
            return None


def quoted(name: str) -> bytes:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 §5.1.3)."""
    encoded: bytes = utf7_encode(name)
    return b'"' + encoded.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _take(client: IMAPClient, name: str) -> list[Any]:
    taken: list[Any] = client._imap.untagged_responses.pop(name, [])
    return taken


def _raw(client: IMAPClient, command: bytes, args: list[bytes], uid: bool = False) -> list[Any]:
    typ, data = client._raw_command(command, args, uid=uid)
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise ImapError(f"{command.decode()} refused: {detail[:200]}")
    done: list[Any] = data
    return done


# --- folders -------------------------------------------------------------------------------


def _status_entry(item: Any) -> tuple[str, dict[str, int]]:
    """`"INBOX" (MESSAGES 3 UIDNEXT 4 ...)` (the name may come as a literal)."""
    parsed = parse_response([item] if isinstance(item, bytes) else list(item))
    name, pairs = parsed[0], parsed[-1]
    text = utf7_decode(name) if isinstance(name, bytes) else str(name)
    return text, {
        str(k.decode() if isinstance(k, bytes) else k).upper(): int(v)
        for k, v in zip(pairs[::2], pairs[1::2], strict=True)
    }


def _listed(client: IMAPClient, data: list[Any]) -> list[tuple[str, frozenset[str], str | None]]:
    found = []
    for flags, delimiter, name in client._proc_folder_list(data):
        names = frozenset(f.decode().upper() if isinstance(f, bytes) else str(f).upper()
                          for f in flags)  # fmt: skip
        sep = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
        found.append((str(name), names, sep))
    return found


def list_status(client: IMAPClient, modseq: bool) -> list[Listed]:
    """Every folder with its role flags and counters, in one command (RFC 5819)."""
    items = " ".join((*STATUS_ITEMS, MODSEQ_ITEM) if modseq else STATUS_ITEMS)
    _take(client, "STATUS")
    returns = f"(SPECIAL-USE STATUS ({items}))".encode()
    data = _raw(client, b"LIST", [b'""', b'"*"', b"RETURN", returns])
    data = client._imap._untagged_response("OK", data, "LIST")[1]
    statuses = dict(_status_entry(item) for item in _take(client, "STATUS"))
    return [Listed(n, f, d, statuses.get(n, {})) for n, f, d in _listed(client, data)]


def list_folders(client: IMAPClient, special_use: bool) -> list[Listed]:
    """Every folder with its flags (RETURN (SPECIAL-USE) where the server has it)."""
    args = [b'""', b'"*"'] + ([b"RETURN", b"(SPECIAL-USE)"] if special_use else [])
    data = _raw(client, b"LIST", args)
    data = client._imap._untagged_response("OK", data, "LIST")[1]
    return [Listed(n, f, d) for n, f, d in _listed(client, data)]


def status_each(
    client: IMAPClient, names: Sequence[str], modseq: bool
) -> dict[str, dict[str, int]]:
    """STATUS of every folder, pipelined: all commands sent, then all answers read."""
    items = "(" + " ".join((*STATUS_ITEMS, MODSEQ_ITEM) if modseq else STATUS_ITEMS) + ")"
    imap = client._imap
    _take(client, "STATUS")
    tags = [imap._command("STATUS", quoted(name).decode(), items) for name in names]
    for tag in tags:
        typ, data = imap._command_complete("STATUS", tag)
        if typ != "OK":
            raise ImapError(f"STATUS refused: {data!r}"[:200])
    return dict(_status_entry(item) for item in _take(client, "STATUS"))


# --- a folder opened ------------------------------------------------------------------------


def examine(client: IMAPClient, name: str, since: tuple[int, int] | None = None) -> Opened:
    """EXAMINE `name`; with `since` = (UIDVALIDITY, MODSEQ) and QRESYNC enabled, also the
    UIDs expunged since then (ignored by the server if the UIDVALIDITY is not current)."""
    for stale in ("VANISHED", "FETCH", "EXISTS", "EXPUNGE", "HIGHESTMODSEQ", "NOMODSEQ"):
        _take(client, stale)
    args = [quoted(name)]
    if since is not None:
        args.append(f"(QRESYNC ({since[0]} {since[1]}))".encode())
    _raw(client, b"EXAMINE", args)
    client._imap.state = "SELECTED"  # the raw path bypasses imaplib's state machine
    vanished = _uids(b",".join(v.replace(b"(EARLIER) ", b"") for v in _take(client, "VANISHED")))
    answer = client._process_select_response(client._imap.untagged_responses)
    for key in list(client._imap.untagged_responses):
        _take(client, key)
    modseq = answer.get(b"HIGHESTMODSEQ")
    return Opened(
        uidvalidity=int(answer[b"UIDVALIDITY"]),
        uidnext=int(answer.get(b"UIDNEXT", 0)),
        exists=int(answer.get(b"EXISTS", 0)),
        highestmodseq=int(modseq) if modseq is not None else None,
        vanished=frozenset(vanished),
    )


def select(client: IMAPClient, name: str) -> int:
    """SELECT `name` for writing; its UIDVALIDITY."""
    answer = client.select_folder(name)
    for key in list(client._imap.untagged_responses):
        _take(client, key)
    return int(answer[b"UIDVALIDITY"])


def unselect(client: IMAPClient) -> None:
    """Leave the folder without expunging it (RFC 3691; CLOSE would expunge)."""
    _raw(client, b"UNSELECT", [])
    client._imap.state = "AUTH"


def search_all(client: IMAPClient) -> set[int]:
    """The UIDs of the selected folder (to find expunged ones without QRESYNC)."""
    return {int(uid) for uid in client.search("ALL")}


def _uids(text: bytes) -> set[int]:
    """A UID set (`1:3,7`) as the numbers it holds."""
    found: set[int] = set()
    for part in text.replace(b" ", b"").split(b","):
        if not part:
            continue
        low, _, high = part.partition(b":")
        first, last = int(low), int(high or low)
        found.update(range(min(first, last), max(first, last) + 1))
    return found


def uid_set(uids: Iterable[int]) -> bytes:
    """Numbers as a compact UID set (`1:3,7`)."""
    ordered = sorted(set(uids))
    runs: list[str] = []
    start = previous = None
    for uid in ordered:
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            runs.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = uid
    if start is not None:
        runs.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(runs).encode()


# --- fetching --------------------------------------------------------------------------------

_UID = re.compile(rb"[( ]UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def fetch(
    client: IMAPClient, uids: bytes, section: bytes, partial: int | None = None
) -> list[Fetched]:
    """UID FETCH `uids` (UID FLAGS INTERNALDATE BODY.PEEK[`section`]): PEEK never sets
    \\Seen (RFC 3501 §6.4.5). `partial`: only the first that many octets
    (`BODY.PEEK[section]<0.partial>`, the same section). Answers without the section (a
    flag change another session made) are left out."""
    _take(client, "FETCH")
    octets = b"" if partial is None else b"<0." + str(partial).encode() + b">"
    items = b"(UID FLAGS INTERNALDATE BODY.PEEK[" + section + b"]" + octets + b")"
    try:
        _raw(client, b"FETCH", [uids, items], uid=True)
    finally:
        answers = _take(client, "FETCH")
    return list(_parse_fetch(answers))


def _parse_fetch(answers: list[Any]) -> Iterable[Fetched]:
    """imaplib's FETCH answers: (line up to a literal, literal) then the line's rest."""
    pending: tuple[bytes, bytes] | None = None
    for item in answers:
        if isinstance(item, tuple):
            pending = (item[0], item[1])
            continue
        if pending is None:
            continue  # a FETCH with no literal: a flag update, not our answer
        head, data = pending
        pending = None
        found = _fetched(head + b" " + (item or b""), data)
        if found is not None:
            yield found


def _fetched(text: bytes, data: bytes) -> Fetched | None:
    uid = _UID.search(text)
    if uid is None or b"BODY[" not in text:
        return None
    flags = _FLAGS.search(text)
    date = _DATE.search(text)
    names = frozenset(f.decode().upper() for f in flags[1].split()) if flags else frozenset()
    return Fetched(int(uid[1]), names, date[1] if date else b"", data)


def header_section(fields: Iterable[str]) -> bytes:
    return b"HEADER.FIELDS (" + " ".join(sorted(f.upper() for f in fields)).encode() + b")"
