"""Fuzzing what a stranger controls, through the parsers and the one header writer.

Text is drawn from a hostile alphabet (control characters, NUL, ESC, C1, U+2028/2029,
U+0085, bidi overrides, CR/LF, quotes, angle brackets, "@", non-ASCII) and put in every
header ghostwatch reads, in bodies and MIME structure, and in calendar fields; then:

* reading never raises: parse.parse_message (headers and body), mime.content_of under
  any body limit, ics.read_calendar (events or a ValueError, nothing else);
* writing is always one clean line: whatever reaches outgoing.put / put_addresses /
  put_ids / step_token, RFC 2047 encoded words of hostile text included, leaves a
  message whose bytes parse back to the same header fields, each one printable line, no
  field added (a Bcc smuggled in a name never becomes a header), the recipient the one
  written and the step key as it was, or is refused as UnsafeItem.

Examples per property: GHOSTWATCH_FUZZ_EXAMPLES (default 200, what `make test` runs; the
counts quoted in the README were run with more).
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghostwatch.errors import UnsafeItem
from ghostwatch.mail import ics, mime, outgoing, parse
from ghostwatch.model.mail import Address, Folder

EXAMPLES = int(os.environ.get("GHOSTWATCH_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1c\x1d\x1e\x7f\x85\x9b\u2028\u2029\u202e\u2066"
    "\ufeff\u00a0 \"'<>@,;:\\()[]=?.é中🙂Bcc: "
)
plain = st.text(
    alphabet=st.sampled_from(HOSTILE) | st.characters(exclude_categories=["Cs"]), max_size=80
)
# RFC 2047 encoded words of hostile text: the library decodes one in what it is given to
# write, so each must come out as the text it looks like, never as what it encodes.
encoded = st.builds(
    lambda word, form: (
        f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?="
        if form == "b"
        else "=?utf-8?q?" + "".join(f"={b:02X}" for b in word.encode()) + "?="
    ),
    plain,
    st.sampled_from("bq"),
)
text = plain | encoded | st.builds(lambda a, b, c: a + b + c, plain, encoded, plain)
HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To",
           "References", "Date", "Auto-Submitted", "Content-Type", "Authentication-Results",
           "X-Autoreply", "Precedence")  # fmt: skip


def _raw(values: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in values.items())
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


@FUZZ
@given(
    values=st.fixed_dictionaries({}, optional=dict.fromkeys(HEADERS, text)),
    body=st.binary(max_size=400),
)
def test_reading_any_header_or_body_never_raises(values: dict[str, str], body: bytes) -> None:
    message = parse.parse_message(_raw(values, body), "INBOX/fuzz", Folder.INBOX)
    assert message.key == "INBOX/fuzz"


@FUZZ
@given(
    boundaries=st.lists(text, min_size=1, max_size=30),
    leaf=st.binary(max_size=300),
    limit=st.integers(min_value=0, max_value=2000),
)
def test_any_mime_structure_under_any_body_limit_never_raises(
    boundaries: list[str], leaf: bytes, limit: int
) -> None:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n--{b}\r\n' for b in boundaries
    )
    raw = opening.encode("utf-8", "surrogateescape") + leaf
    content = mime.content_of(raw, limit)
    assert len(content.text) <= mime.MAX_TEXT


@FUZZ
@given(summary=text, name=text, uid=text, rule=text, start=text)
def test_any_calendar_field_gives_events_or_a_value_error(
    summary: str, name: str, uid: str, rule: str, start: str
) -> None:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN", "BEGIN:VEVENT",
        f"UID:{uid}", f"SUMMARY:{summary}", f"DTSTART:{start or '20261118T150000Z'}",
        f'ATTENDEE;CN="{name}":mailto:eve@stranger.example', f"RRULE:{rule}",
        "END:VEVENT", "END:VCALENDAR",
    ]  # fmt: skip
    data = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    try:
        found = ics.read_calendar(
            data, datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
        )
    except ValueError:
        return
    assert len(found) <= ics.MAX_INSTANCES


@FUZZ
@given(subject=text, name=text, local=text, ids=st.lists(text, max_size=5), uid=text)
def test_every_header_written_is_one_clean_line_and_adds_no_field(
    subject: str, name: str, local: str, ids: list[str], uid: str
) -> None:
    message = outgoing.new_message()
    outgoing.put(message, "Subject", subject)
    to = f"{local}@stranger.example"
    try:
        outgoing.put_addresses(message, "To", [Address(to, name)])
    except UnsafeItem:
        to = "eve@stranger.example"
        outgoing.put_addresses(message, "To", [Address(to, name)])
    outgoing.put_ids(message, "References", ids)
    step = f"{outgoing.step_token(uid)}/meeting_followup/0"
    outgoing.put(message, "X-Ghostwatch-Step", step)
    message.set_content("Hello.\n")
    raw = message.as_bytes(policy=outgoing.POLICY)
    read = BytesParser(policy=default).parsebytes(raw)
    names = [n.lower() for n in read]
    assert sorted(set(names)) == sorted(n.lower() for n in message)
    assert "bcc" not in names
    # The recipient is the one written, and the step key reads back exactly.
    assert [a.addr_spec for a in read["To"].addresses] == [to]
    assert str(read["X-Ghostwatch-Step"]) == step
    for field in ("Subject", "To"):
        value = str(read[field])
        assert value.isprintable(), (field, value)
        assert "\n" not in value
