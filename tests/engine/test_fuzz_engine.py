"""Bad input the header-soup properties (tests/engine/test_properties.py) do not reach.

* MIME trees: nesting hundreds deep, unknown and lying charsets, broken transfer
  encodings, 8-bit bytes where 7-bit was declared, reports and attached messages;
* dates: missing, far in the past and future, and Message-IDs missing;
* the shared corpora, every folder found on disk (not a hand-kept list), through
  parse → classify → thread → decide as one mailbox.

Never an exception out of parse, classify, content extraction or the engine; a message
without any date is left out of decisions and listed in `plan.skipped` (which the scan's
summary line counts as `undated`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghostwatch import engine
from ghostwatch.engine.classify.verdict import classify
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.mail import parse
from ghostwatch.model.decisions import Plan
from ghostwatch.model.mail import Folder, Message
from tests.corpora.test_corpora import ALL_FOLDERS
from tests.support.paths import CORPORA

ME = "alex@ghostwatch.example"
RULES = Rules(me=Identity.of([ME]))
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("GHOSTWATCH_PROPERTY_EXAMPLES", "25"))
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CHARSETS = ["utf-8", "us-ascii", "x-unknown", "utf-7", "utf-16", "utf-32", "iso-2022-jp",
            "cp1252", "koi8-r", "", "utf8\"", "../../etc", "gb2312", "x-mac-roman"]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode",
             "garbage", ""]  # fmt: skip
LEAF_TYPES = ["text/plain", "text/html", "text/calendar", "message/rfc822",
              "message/delivery-status", "message/disposition-notification",
              "application/octet-stream", "image/png", "text/rfc822-headers"]  # fmt: skip
MULTIPART = ["mixed", "alternative", "related", "report; report-type=delivery-status",
             "signed", "digest"]  # fmt: skip
DATES = [
    None,
    "Mon, 1 Jan 0001 00:00:00 +0000",
    "Fri, 1 Jan 1971 00:00:00 +0000",
    "Tue, 10 Nov 2026 09:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Sat, 1 Jan 2300 00:00:00 +1400",
    "Thu, 19 Nov 2026 25:99:00 +0000",
    "=?utf-8?b?garbage?=",
]
KATHY = "Kathy Lee <kathy@contoso.example>"

payloads = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=120).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"=\r\n=ZZ=4", b"====", b"begin 644 x\n`\nend\n", b"\xff\xfe\x00A",
                     b"\x1b$B%F%9%H\x1b(B", b"+AGEAcgBl-", b"<p>Hi<script>x</script>"]),
)  # fmt: skip


@st.composite
def leaves(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    head = f'Content-Type: {kind}; charset="{charset}"\r\n'
    head += f"Content-Transfer-Encoding: {encoding}\r\n" if encoding else ""
    if draw(st.booleans()):
        head += "Content-Disposition: attachment; filename*=utf-8''%ZZ%E2\r\n"
    return head.encode() + b"\r\n" + draw(payloads)


@st.composite
def mime_bodies(draw: st.DrawFn) -> bytes:
    """A MIME entity nested `depth` multiparts deep, with a few leaves at each level."""
    depth = draw(st.one_of(st.integers(0, 6), st.integers(30, 120)))
    inner = draw(leaves())
    for level in range(depth):
        boundary = f"b{level}" if draw(st.booleans()) else "same"  # reused boundaries too
        sub = draw(st.sampled_from(MULTIPART))
        parts = [inner, *draw(st.lists(leaves(), max_size=1 if depth > 20 else 3))]
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        closing = b"--" + boundary.encode() + b"--\r\n" if draw(st.booleans()) else b""
        head = f'Content-Type: multipart/{sub}; boundary="{boundary}"\r\n\r\n'
        inner = head.encode() + body + closing
    return inner


@st.composite
def replies(draw: st.DrawFn) -> bytes:
    """Kathy's answer to my proposal: any body, any (or no) Date and Message-ID."""
    head = [f"From: {KATHY}", f"To: {ME}", "Subject: Re: Proposal", "MIME-Version: 1.0",
            "In-Reply-To: <proposal@test.example>"]  # fmt: skip
    date = draw(st.sampled_from(DATES))
    if date is not None:
        head.append(f"Date: {date}")
    if draw(st.booleans()):
        head.append(f"Message-ID: <reply-{draw(st.integers(0, 9))}@test.example>")
    return "\r\n".join(head).encode() + b"\r\n" + draw(mime_bodies())


PROPOSAL = (
    f"From: {ME}\r\nTo: {KATHY}\r\nSubject: Proposal\r\n"
    "Date: Mon, 9 Nov 2026 10:00:00 +0000\r\nMessage-ID: <proposal@test.example>\r\n\r\nHi\r\n"
).encode()


def _undated(messages: Sequence[Message]) -> set[str]:
    """Keys of undated messages the engine keeps (a repeated Message-ID is one message)."""
    seen = Counter(m.message_id for m in messages if m.message_id)
    return {m.key for m in messages if m.date is None and seen[m.message_id or ""] <= 1}


def run_engine(messages: Sequence[Message], now: datetime = NOW) -> Plan:
    threads = engine.thread(messages, RULES.me)
    engine.content_wanted(threads, RULES.me)
    return engine.decide(threads, (), RULES, now)


@FAST
@given(st.lists(replies(), min_size=1, max_size=3), st.sampled_from([NOW, datetime(2400, 1, 1,
       tzinfo=UTC), datetime(1980, 1, 1, tzinfo=UTC)]))  # fmt: skip
def test_deep_and_broken_mime_never_raises_and_undated_mail_is_skipped(
    raws: list[bytes], now: datetime
) -> None:
    messages = [parse.parse_message(PROPOSAL, "sent/0", Folder.SENT)]
    for n, raw in enumerate(raws):
        unique = raw.replace(b"<reply-", f"<reply-{n}-".encode())  # a copy would be deduplicated
        message = parse.parse_message(unique, f"inbox/{n}", Folder.INBOX)
        assert classify(message).kind in ("human", "out_of_office", "auto_ack", "bounce")
        messages.append(message)
    plan = run_engine(messages, now)
    assert _undated(messages) <= set(plan.skipped)  # left out of decisions, and said so
    assert all(m.date is None or m.date.utcoffset() is not None for m in messages)


def test_a_thousand_nested_multiparts_are_read_without_their_body() -> None:
    body = b"Content-Type: text/plain\r\n\r\nStill here\r\n"
    for level in range(1000):
        head = f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n'.encode()
        body = head + f"--n{level}\r\n".encode() + body + f"\r\n--n{level}--\r\n".encode()
    raw = f"From: {KATHY}\r\nTo: {ME}\r\nSubject: Deep\r\n".encode() + body
    message = parse.parse_message(raw, "deep", Folder.INBOX)  # the stdlib parser recurses
    assert message.subject == "Deep"
    classify(message)
    run_engine([message])


# --- the shared corpora, every folder on disk ----------------------------------------


def _corpus_folders() -> list[str]:
    if not CORPORA.is_dir():
        return []
    found = {p.parent.relative_to(CORPORA).as_posix() for p in CORPORA.rglob("*.eml")}
    return sorted(found)


def test_every_corpus_folder_on_disk_has_its_targets_tested() -> None:
    """A folder added to the corpora without targets in test_corpora.py fails here."""
    found = _corpus_folders()
    if not found:
        pytest.skip(f"corpora folder {CORPORA} is absent")
    assert set(found) <= set(ALL_FOLDERS), sorted(set(found) - set(ALL_FOLDERS))


@pytest.mark.corpus
@pytest.mark.parametrize("folder", _corpus_folders() or ["(absent)"])
def test_a_corpus_folder_goes_through_the_whole_engine(folder: str) -> None:
    path = CORPORA / folder
    if not path.is_dir():
        pytest.skip(f"corpora folder {CORPORA} is absent")
    sent = parse.parse_message(PROPOSAL, "sent/0", Folder.SENT)
    messages = [sent]
    for n, eml in enumerate(sorted(path.glob("*.eml"))):
        read = parse.parse_message if n % 3 else parse.parse_headers
        where = Folder.JUNK if n % 2 else Folder.INBOX
        message = read(eml.read_bytes(), f"{where.value}/{n}", where)
        classify(message)
        messages.append(message)
    plan = run_engine(messages)
    # (Junk that answers nothing of mine is dropped before dates matter.)
    inbox = [m for m in messages if m.folder != Folder.JUNK]
    assert _undated(inbox) <= set(plan.skipped) <= {m.key for m in messages}
