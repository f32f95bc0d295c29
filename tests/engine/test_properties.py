"""Properties of the engine that must hold for every mailbox, not just the hand-written ones.

* Robustness: arbitrary header soup and broken bodies never make parse → thread →
  content_wanted → decide (or classify) raise.
* Determinism: the plan does not depend on the order messages reach the engine, nor on
  the file names, sub-folders (cur/new) and creation order of a Maildir.
* State invariants (docs/rules.md–§2) on every plan the generators produce.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghostwatch import engine
from ghostwatch.cli.report import plan_json
from ghostwatch.engine.classify.verdict import classify
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.mail import parse
from ghostwatch.model.decisions import Action, Plan, State
from ghostwatch.model.mail import Folder, Message
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import scan_maildir

pytestmark = pytest.mark.slow

ME = "alex@ghostwatch.example"
ALIAS = "alex.morgan@gmail.com"
# A year's look-back: the generated mail and `plan_nows` span four months, and the
# horizon has scenarios of its own (tests/contracts/contract_rules.py).
RULES = Rules(me=Identity.of([ME, ALIAS]), look_back=timedelta(days=365))
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

# A longer hunt: GHOSTWATCH_PROPERTY_EXAMPLES=2000 pytest tests/engine/test_properties.py
EXAMPLES = int(os.environ.get("GHOSTWATCH_PROPERTY_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- state invariants, checked on every plan below ---------------------------------


def check_invariants(plan: Plan, now: datetime) -> None:
    ids = {c.id for c in plan.conversations}
    assert len(ids) == len(plan.conversations), "conversation ids are unique"
    for c in plan.conversations:
        if c.state == State.DUE:
            assert c.action != Action.NONE, c
            assert c.due_at is not None, c
            assert c.due_at <= now, c
        else:
            assert c.action == Action.NONE, c
        assert c.attempt >= 0, c
        if c.state == State.SNOOZED:
            assert c.snoozed_until is not None, c
            assert c.snoozed_until > now, c
        else:
            assert c.snoozed_until is None, c
        if c.reply_in_junk:
            assert c.state == State.REPLIED, c
        assert list(c.contacts) == sorted(c.contacts), c
        assert all(a == a.lower() for a in c.contacts), c
        if c.state == State.NOT_TRACKED:
            assert c.contacts == (), c
        else:
            assert c.contacts, c
            assert not any(RULES.me.is_internal(a) for a in c.contacts), c
    for j in plan.junk_replies:
        assert j.conversation in ids, j
        # (Not necessarily `replied`: a rescued answer I have since followed up on is still
        # listed, so it can be moved out of Junk, while the conversation waits again.)
    # The JSON contract serializes whatever the engine decided.
    json.dumps(plan_json(plan, UTC, include_untracked=True))


def run_engine(messages: Sequence[Message], now: datetime = NOW, rules: Rules = RULES) -> Plan:
    threads = engine.thread(messages, rules.me)
    wanted = engine.content_wanted(threads, rules.me)
    assert wanted <= {m.key for m in threads.messages()}
    plan = engine.decide(threads, (), rules, now)
    assert isinstance(plan, Plan)
    return plan


# --- 1. header soup -------------------------------------------------------------------

HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Precedence",
    "Return-Path",
    "X-Failed-Recipients",
    "X-Autoreply",
    "Content-Language",
    "Received",
    "MIME-Version",
]
BROKEN_DATES = [
    "",
    "yesterday",
    "Mon, 32 Foo 2026 25:61:61 +9999",
    "Fri, 20 Nov 2026 10:00:00",
    "Fri, 20 Nov 2026 10:00:00 -0000",
    "Fri, 20 Nov 2026 10:00:00 +2500",
    "20 Nov 26 10:00 EST",
    "Mon, 1 Jan 0001 00:00:00 +0000",
    "1 Jan 0100 00:00:00 +0000",
    "Sat, 1 Jan 1000 00:00:00 -1200",
    "Thu, 1 Jan 1970 00:00:00 +0000",
    "Mon, 1 Jan 2100 00:00:00 +1400",
    "Sat, 1 Jan 9990 00:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Thu, 30 Dec 9999 10:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 +0000",
    "2026-11-20T10:00:00Z",
    "Fri, 20 Nov 2026 10:00:00 +0000 (UTC) trailing junk",
]
ADDRESSES = [
    ME,
    f"Alex <{ME}>",
    ALIAS.upper(),
    "kathy@contoso.example",
    '"Lopez, Kathy" <KATHY@Contoso.Example>',
    "lee@contoso.example (Lee)",
    "sam@ghostwatch.example",
    "noreply@tailspin.example",
    "MAILER-DAEMON@mx.example",
    "<>",
    "undisclosed-recipients:;",
    "team: a@b.example, c@d.example;",
    "@",
    "a@",
    "@b",
    "<<a@b>>",
    "=?utf-8?q?K=C3=A4thy?= <kathy@contoso.example>",
    "Ünïcödé <üser@exämple.de>",
]
CHARSETS = ["utf-8", "x-bogus", "unknown-8bit", "", "utf-7", "iso-2022-jp", "cp1252", "ut f8"]


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(["B", "Q", "b", "x", ""]))
    payload = draw(st.text(st.characters(codec="ascii", exclude_characters="?\r\n"), max_size=30))
    return f"=?{charset}?{encoding}?{payload}?="


header_values = st.one_of(
    st.just(""),
    st.text(max_size=60).map(lambda s: s.replace("\r", " ").replace("\n", " ")),
    st.text(st.characters(min_codepoint=0x80), max_size=40),
    st.sampled_from(BROKEN_DATES),
    st.sampled_from(ADDRESSES),
    st.lists(st.sampled_from(ADDRESSES), min_size=2, max_size=4).map(", ".join),
    st.sampled_from(["<>", "<", ">", "<a@b>", "<a@b> <c@d>", "no-brackets", "<<x>>", "< >"]),
    st.sampled_from(
        [
            "auto-replied",
            "auto-generated",
            "no",
            "bulk",
            "junk",
            "auto_reply",
            "multipart/report; report-type=delivery-status; boundary=X",
            "multipart/mixed; boundary=",
            "multipart/alternative",
            'text/plain; charset="x-unknown"',
            "base64",
            "quoted-printable",
            "Automatic reply: Out of Office",
            "Undelivered Mail Returned to Sender",
        ]
    ),
    encoded_words(),
    st.lists(encoded_words(), min_size=1, max_size=3).map(" ".join),
    st.integers(1, 10).map(lambda n: "x" * (1024 * n)),  # up to 10 KB
    st.sampled_from(["Ä" * 5000, "=?utf-8?b?" + "QUFB" * 2500 + "?="]),
)
header_names = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.sampled_from([h.upper() for h in HEADER_NAMES] + [h.lower() for h in HEADER_NAMES]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True),
    st.sampled_from(["", " ", "From ", "Ünïcödé", "X-\x00"]),
)

BODIES = [
    b"",
    b"hello\n",
    b"I am out of the office until 27.11.2026.\n",
    b"Je suis absent jusqu'au 1er d\xc3\xa9cembre 2026.\n",
    b"--BOUNDARY\nContent-Type: text/plain\n\nunterminated part",
    b"--WRONG\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\n"
    b"Action: failed\n\n--WRONG--\n",
    b"--X\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not*base64===\n--X--",
    b"--X\nContent-Type: message/rfc822\n\nMessage-ID: <orig@x>\nTo: kathy@contoso.example\n"
    b"\n--X\nContent-Type: text/rfc822-headers\n\nTo: <>\n--X--\n",
    b"--X\nContent-Type: text/html; charset=x-bogus\n\n<p>back on <b>Monday</b>\n--X--",
    b"--X\nContent-Type: multipart/mixed; boundary=X\n\n--X\n--X\n--X--",
    b"=?utf-8?b?broken?= \xff\xfe\x00 \r\r\n",
]
bodies = st.one_of(
    st.sampled_from(BODIES),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(header_names, header_values), max_size=14))
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    out = []
    for name, value in lines:
        encoded = value.encode(draw(st.sampled_from(["utf-8", "latin-1"])), "replace")
        if draw(st.booleans()) and len(encoded) > 20:  # fold it (RFC 5322 §2.2.3)
            encoded = encoded[:10] + eol + b"\t" + encoded[10:]
        out.append(name.encode("utf-8", "replace") + b": " + encoded)
    if draw(st.booleans()):
        out.append(draw(st.binary(max_size=40)))  # a header line that is not one
    return eol.join(out) + eol + eol + draw(bodies)


folders = st.sampled_from(list(Folder))
nows = st.one_of(
    st.just(NOW),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)


@FAST
@given(
    st.lists(st.tuples(raw_messages(), folders, st.booleans()), min_size=1, max_size=6),
    nows,
)
def test_engine_never_raises_on_header_soup(
    items: list[tuple[bytes, Folder, bool]], now: datetime
) -> None:
    messages = []
    for n, (raw, folder, with_body) in enumerate(items):
        key = f"{folder.value}/{n}"
        fallback = datetime(2026, 11, 1, tzinfo=UTC) if n % 2 else None
        read = parse.parse_message if with_body else parse.parse_headers
        message = read(raw, key, folder, fallback)
        assert message.key == key
        assert message.date is None or message.date.utcoffset() == timedelta(0)
        found = classify(message)
        assert found.kind in ("human", "out_of_office", "auto_ack", "bounce")
        messages.append(message)
    plan = run_engine(messages, now)
    check_invariants(plan, now)


@FAST
@given(raw_messages())
def test_classify_never_raises_on_header_soup(raw: bytes) -> None:
    headers_only = parse.parse_headers(raw, "k", Folder.INBOX)
    full = parse.parse_message(raw, "k", Folder.INBOX)
    assert full.content is not None
    for message in (headers_only, full):
        found = classify(message)
        assert found.return_date is None or found.kind == "out_of_office"
        assert not found.failed_recipients or found.kind == "bounce"


# --- 2. a realistic mailbox -------------------------------------------------------------

BASE = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
CONTACTS = [
    "Kathy Lopez <kathy@contoso.example>",
    "Lee Chen <lee@contoso.example>",
    "Raj Patel <raj@tailspin.example>",
    "Pat <pat@gmail.com>",
]
ORG_COLLEAGUE = {"contoso.example": "Dana <dana@contoso.example>"}
SUBJECTS = ["Proposal", "Pricing", "Demo next week", "Proposal"]  # repeats on purpose
PREFIXES = ["Re: ", "RE: ", "AW: ", "SV: ", "Réf : ", "Fwd: ", ""]
KINDS = [
    "followup",
    "reply",
    "reply",
    "org_reply",
    "junk_reply",
    "ooo",
    "ooo_no_date",
    "ack",
    "colleague",
    "bounce",
    "stranger_junk",
    "new_thread",
]


@dataclass(frozen=True)
class Mail:
    """One generated message: where it goes and its bytes (Message-ID fixed)."""

    folder: str  # Maildir folder name: INBOX, Sent, Junk
    ident: str
    date: datetime
    raw: bytes


def _email(mailbox: str) -> str:
    return mailbox.rpartition("<")[2].rstrip(">") if "<" in mailbox else mailbox


def _render(headers: dict[str, str], body: str) -> bytes:
    head = "".join(f"{k}: {v}\n" for k, v in headers.items() if v)
    return (head + "\n" + body).encode("utf-8")


@st.composite
def conversations(
    draw: st.DrawFn, index: int, shared_subjects: bool = True, coarse: bool = False
) -> list[Mail]:
    """One conversation: my first message, then 0-5 events. `coarse` writes Dates to the
    hour, so equal Dates (within and across conversations) are common."""
    subject = draw(st.sampled_from(SUBJECTS))
    if not shared_subjects:
        subject = f"{subject} #{index}"
    to = draw(st.lists(st.sampled_from(CONTACTS), min_size=1, max_size=2, unique=True))
    cc = draw(st.sampled_from(["", "Sam <sam@ghostwatch.example>"]))
    zone = draw(st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=2))]))
    mails: list[Mail] = []
    when = BASE + timedelta(minutes=draw(st.integers(0, 40_000)), seconds=index)
    last_id = ""
    last_mine = ""

    def add(folder: str, sender: str, recipients: str, subj: str, body: str, **extra: str) -> None:
        nonlocal last_id
        written = when.replace(minute=0, second=0) if coarse else when
        ident = f"<c{index}e{len(mails)}@gen.example>"
        headers = {
            "From": sender,
            "To": recipients,
            "Subject": subj,
            "Date": format_datetime(written.astimezone(zone)),
            "Message-ID": ident,
            **extra,
        }
        mails.append(Mail(folder, ident, written, _render(headers, body)))
        last_id = ident

    # Only Sent makes a message mine (docs/rules.md "Mine"): every conversation starts there.
    add("Sent", f"Alex <{ME}>", ", ".join(to), subject, "Hi,\n\nHere it is.\n", Cc=cc)
    last_mine = last_id
    contact = _email(to[0])
    for kind in draw(st.lists(st.sampled_from(KINDS), max_size=5)):
        when += timedelta(minutes=draw(st.integers(1, 12_000)))
        threaded = draw(st.booleans())
        refs = {"In-Reply-To": last_id, "References": last_id} if threaded else {}
        prefix = draw(st.sampled_from(PREFIXES))
        if kind == "followup":
            add("Sent", f"Alex <{ME}>", ", ".join(to), f"Re: {subject}", "Any news?\n", **refs)
            last_mine = last_id
        elif kind in ("reply", "junk_reply"):
            folder = "Junk" if kind == "junk_reply" else "INBOX"
            add(folder, to[0], ME, f"{prefix}{subject}", "Thanks, let's talk.\n", **refs)
        elif kind == "org_reply":
            sender = ORG_COLLEAGUE.get(contact.rpartition("@")[2], "Eve <eve@gmail.com>")
            add("INBOX", sender, ME, f"{prefix}{subject}", "Answering for my colleague.\n", **refs)
        elif kind in ("ooo", "ooo_no_date"):
            back = (when + timedelta(days=draw(st.integers(1, 30)))).strftime("%d.%m.%Y")
            text = f"I am out of the office until {back}.\n" if kind == "ooo" else "I'm away.\n"
            add(
                "INBOX",
                to[0],
                ME,
                f"Automatic reply: {subject}",
                text,
                **{"Auto-Submitted": "auto-replied", "In-Reply-To": last_mine},
            )
        elif kind == "ack":
            add(
                "INBOX",
                f"Support <support@{contact.rpartition('@')[2]}>",
                ME,
                f"[Ticket #{index}] {subject}",
                "We received your message.\n",
                **{"Auto-Submitted": "auto-replied"},
            )
        elif kind == "colleague":
            add(
                "INBOX", "Sam <sam@ghostwatch.example>", ME, f"Re: {subject}", "Any luck?\n", **refs
            )
        elif kind == "bounce":
            add(
                "INBOX",
                "Mail Delivery System <MAILER-DAEMON@mx.example>",
                ME,
                "Undelivered Mail Returned to Sender",
                "--BB\nContent-Type: text/plain\n\nDelivery failed.\n"
                "--BB\nContent-Type: message/delivery-status\n\n"
                "Reporting-MTA: dns; mx.example\n\n"
                f"Final-Recipient: rfc822; {contact}\nAction: failed\nStatus: 5.1.1\n\n"
                f"--BB\nContent-Type: text/rfc822-headers\n\nMessage-ID: {last_mine}\n"
                f"To: {contact}\n\n--BB--\n",
                **{
                    "MIME-Version": "1.0",
                    "Content-Type": 'multipart/report; report-type=delivery-status; boundary="BB"',
                },
            )
        elif kind == "stranger_junk":
            add("Junk", "Stranger <stranger@gmail.com>", ME, f"Re: {subject}", "Buy pills.\n")
        elif kind == "new_thread":
            add("INBOX", to[0], ME, f"Question {index}", "Separate question.\n")
    return mails


@st.composite
def mailboxes(draw: st.DrawFn, shared_subjects: bool = True) -> list[Mail]:
    count = draw(st.integers(1, 5))
    coarse = draw(st.booleans())
    mails = [m for i in range(count) for m in draw(conversations(i, shared_subjects, coarse))]
    if draw(st.booleans()):  # the same message copied to INBOX (cc to myself)
        first = mails[0]
        mails.append(Mail("INBOX", first.ident, first.date, first.raw))
    return mails


def _to_messages(mails: Sequence[Mail], keys: Sequence[str] = ()) -> list[Message]:
    roles = {"INBOX": Folder.INBOX, "Sent": Folder.SENT, "Junk": Folder.JUNK}
    return [
        parse.parse_message(m.raw, keys[n] if keys else f"{m.folder}/{n:04d}", roles[m.folder])
        for n, m in enumerate(mails)
    ]


def _json(plan: Plan) -> str:
    return json.dumps(plan_json(plan, UTC, include_untracked=True), sort_keys=True)


plan_nows = st.sampled_from(
    [NOW, datetime(2026, 10, 20, 9, 0, tzinfo=UTC), datetime(2027, 1, 15, 12, 0, tzinfo=UTC)]
)


@FAST
@given(
    mailboxes().flatmap(lambda ms: st.tuples(st.just(ms), st.permutations(_to_messages(ms)))),
    plan_nows,
)
def test_decisions_do_not_depend_on_message_order(
    generated: tuple[list[Mail], list[Message]], now: datetime
) -> None:
    mails, shuffled = generated
    in_order = run_engine(_to_messages(mails), now)
    check_invariants(in_order, now)
    again = run_engine(shuffled, now)
    assert _json(again) == _json(in_order)
    assert again.skipped == in_order.skipped
    # The engine-only fields agree too (drafts and the digest read them).
    assert [(c.recipients, c.bounced, c.after_absence) for c in again.conversations] == [
        (c.recipients, c.bounced, c.after_absence) for c in in_order.conversations
    ]


@FAST
@given(mailboxes(), plan_nows)
def test_state_invariants_hold_for_realistic_mailboxes(mails: list[Mail], now: datetime) -> None:
    messages = _to_messages(mails)
    plan = run_engine(messages, now)
    check_invariants(plan, now)
    tracked = [c for c in plan.conversations if c.state != State.NOT_TRACKED]
    assert tracked, "every generated conversation starts with my mail to a contact"
    # Muting is absolute, whatever else happened.
    muted = run_engine(
        messages,
        now,
        Rules(me=RULES.me, muted=frozenset({tracked[0].id}), look_back=RULES.look_back),
    )
    first = next(c for c in muted.conversations if c.id == tracked[0].id)
    assert (first.state, first.action) == (State.MUTED, Action.NONE)


# --- 3. a Maildir written in different ways ---------------------------------------------

maildir_names = st.fixed_dictionaries(
    {
        "stamp": st.integers(1_000_000_000, 1_999_999_999),
        "host": st.sampled_from(["host", "mx1.example", "laptop"]),
        "sub": st.sampled_from(["cur", "new"]),
        "flags": st.sampled_from([":2,S", ":2,RS", ":2,", "", ":2,FS"]),
    }
)


@st.composite
def layouts(draw: st.DrawFn, count: int) -> tuple[list[dict[str, Any]], list[int]]:
    names = draw(st.lists(maildir_names, min_size=count, max_size=count))
    order = draw(st.permutations(range(count)))
    return names, order


def _unique(n: int, name: dict[str, Any]) -> str:
    return f"{name['stamp']}.M{n}P{n * 7 + 1}.{name['host']}"


def _write_maildir(
    root: Path, mails: Sequence[Mail], names: Sequence[dict[str, Any]], order: Sequence[int]
) -> None:
    for dot_name in ("", ".Sent", ".Junk"):
        for sub in ("cur", "new", "tmp"):
            (root / dot_name / sub).mkdir(parents=True, exist_ok=True)
    for n in order:
        mail, name = mails[n], names[n]
        folder = root if mail.folder == "INBOX" else root / f".{mail.folder}"
        flags = name["flags"] if name["sub"] == "cur" else ""
        (folder / name["sub"] / f"{_unique(n, name)}{flags}").write_bytes(mail.raw)
    # An incomplete delivery in tmp/ is never read (Maildir spec).
    (root / "tmp" / "1700000000.partial.host").write_bytes(b"From: kathy@contoso.example\n")


@settings(
    max_examples=max(EXAMPLES // 2, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    mailboxes().flatmap(lambda ms: st.tuples(st.just(ms), layouts(len(ms)), layouts(len(ms)))),
    plan_nows,
)
def test_decisions_do_not_depend_on_maildir_file_names_or_order(
    generated: tuple[list[Mail], Any, Any], now: datetime
) -> None:
    mails, (names_a, order_a), (names_b, order_b) = generated
    with tempfile.TemporaryDirectory() as tmp:
        plans = []
        for label, names, order in (("a", names_a, order_a), ("b", names_b, order_b)):
            root = Path(tmp) / label
            _write_maildir(root, mails, names, order)
            plan, stats = scan_maildir(MaildirMailbox(root), RULES, now)
            assert stats.messages == len(mails)
            check_invariants(plan, now)
            plans.append(plan)
    assert _json(plans[0]) == _json(plans[1])
    # ... and the Maildir reading agrees with the engine fed the same messages directly.
    # ... and reading bodies only where `content_wanted` asks decides exactly as reading
    # every body does (the engine fed the same messages, same keys, all bodies parsed).
    keys = [f"{m.folder}/{_unique(n, names_a[n])}" for n, m in enumerate(mails)]
    assert _json(plans[0]) == _json(run_engine(_to_messages(mails, keys), now))


# --- regressions: bugs these properties found ----------------------------------------


def _dated(date_header: str, folder: Folder = Folder.SENT) -> Message:
    raw = (
        f"From: {ME}\nTo: raj@tailspin.example\nSubject: Far\nMessage-ID: <far@x>\n"
        f"Date: {date_header}\n\nhi\n"
    ).encode()
    return parse.parse_message(raw, "Sent/far", folder)


@pytest.mark.parametrize(
    "date_header", ["Fri, 31 Dec 9999 10:00:00 +0000", "Thu, 30 Dec 9999 10:00:00 +0000"]
)
def test_a_sent_message_dated_at_the_end_of_time_does_not_crash_decide(date_header: str) -> None:
    """Business-day arithmetic from 30 Dec 9999 overflowed `date`; such a Date now counts
    as missing, and an undated message is listed as skipped, never tracked."""
    message = _dated(date_header)
    assert message.date is None
    plan = run_engine([message])
    check_invariants(plan, NOW)
    assert plan.skipped == ("Sent/far",)
    assert all(c.state == State.NOT_TRACKED for c in plan.conversations)


def test_an_absurd_date_reaching_the_engine_is_ignored() -> None:
    """Another provider may hand the engine such a date directly: the engine drops it too."""
    message = replace(
        _dated("Mon, 02 Nov 2026 10:00:00 +0000"), date=datetime.max.replace(tzinfo=UTC)
    )
    plan = run_engine([message])
    check_invariants(plan, NOW)
    assert plan.skipped == ("Sent/far",)


_SAME_SUBJECT = [
    ("Sent", "Thu, 01 Oct 2026 10:00:00 +0000", "<a@x>", "Proposal"),
    ("Sent", "Fri, 02 Oct 2026 10:00:00 +0000", "<b@x>", "Proposal"),
    # My follow-up, sent by a client that dropped In-Reply-To/References:
    ("Sent", "Mon, 05 Oct 2026 10:00:00 +0000", "<c@x>", "Re: Proposal"),
]


def _same_subject_mails() -> list[Mail]:
    return [
        Mail(
            folder,
            ident,
            parse.parse_date(date)[0] or NOW,
            _render(
                {
                    "From": ME,
                    "To": "kathy@contoso.example",
                    "Subject": subject,
                    "Date": date,
                    "Message-ID": ident,
                },
                "hi\n",
            ),
        )
        for folder, date, ident, subject in _SAME_SUBJECT
    ]


def test_subject_fallback_does_not_depend_on_message_keys() -> None:
    mails = _same_subject_mails()
    one = run_engine(_to_messages(mails, ["Sent/1", "Sent/2", "Sent/3"]))
    two = run_engine(_to_messages(mails, ["Sent/2", "Sent/1", "Sent/3"]))
    assert _json(one) == _json(two)
    # The follow-up joins the most recently active conversation (2 Oct), so the 1 Oct
    # one is due 3 business days after 1 Oct and the other counts one follow-up.
    states = sorted((c.state, c.attempt, c.due_at) for c in one.conversations)
    assert states[0][:2] == (State.DUE, 0)
    assert states[0][2] == datetime(2026, 10, 6, 10, tzinfo=UTC)
    assert states[1][:2] == (State.WAITING, 1)


def test_subject_fallback_does_not_depend_on_file_names(tmp_path: Path) -> None:
    mails = _same_subject_mails()
    plans = []
    for label, stamps in (("a", [1, 2, 3]), ("b", [2, 1, 3])):
        names = [
            {"stamp": 1_700_000_000 + s, "host": "host", "sub": "cur", "flags": ":2,S"}
            for s in stamps
        ]
        _write_maildir(tmp_path / label, mails, names, range(len(mails)))
        plans.append(_json(scan_maildir(MaildirMailbox(tmp_path / label), RULES, NOW)[0]))
    assert plans[0] == plans[1]
