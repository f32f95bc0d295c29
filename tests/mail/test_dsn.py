"""Delivery-status fields as MTAs really write them: in a DSN part, run together, in text."""

from __future__ import annotations

import pytest

from ghostwatch.mail.dsn import mailbox_form, quoted_statuses, statuses
from ghostwatch.mail.mime import content_of
from ghostwatch.model.mail import DeliveryStatus


@pytest.mark.parametrize(
    ("written", "header_form"),
    [
        ("kathy@contoso.example", "kathy@contoso.example"),
        ('"kathy"@contoso.example', "kathy@contoso.example"),  # needless quotes
        ("neko....nyaan....@example.org", '"neko....nyaan...."@example.org'),  # needed ones
        ('"neko....nyaan...."@example.org', '"neko....nyaan...."@example.org'),
        ("a b@example.org", '"a b"@example.org'),
    ],
)
def test_an_address_is_spelled_as_a_header_spells_it(written: str, header_form: str) -> None:
    assert mailbox_form(written) == header_form


def test_original_recipient_is_preferred_to_the_alias_it_became() -> None:
    found = statuses(
        [
            ("Final-Recipient", "rfc822; kathy@mailhub.contoso.example"),
            ("Original-Recipient", "rfc822;Kathy@Contoso.example"),
            ("Action", "failed"),
            ("Status", "5.1.1"),
        ]
    )
    assert found == [DeliveryStatus("kathy@contoso.example", "failed", "5.1.1")]


@pytest.mark.parametrize("value", ["rfc822; @mx.example.org", "rfc822; <>", "rfc822; kathy@"])
def test_a_recipient_field_that_holds_no_address_is_skipped(value: str) -> None:
    # A malformed Final-Recipient must not become the failed "address"; the next field
    # (here X-Actual-Recipient) or, failing all, the bounce's own words decide.
    fields = [("Final-Recipient", value), ("Action", "failed")]
    assert statuses(fields) == []
    fallback = statuses([*fields, ("X-Actual-Recipient", "rfc822; kathy@contoso.example")])
    assert [s.recipient for s in fallback] == ["kathy@contoso.example"]


def test_recipients_run_together_without_a_blank_line_are_told_apart() -> None:
    # AOL writes every recipient's fields in one block (RFC 3464 §2.1 wants a blank line).
    found = statuses(
        [
            ("Final-Recipient", "rfc822; raj@tailspin.example"),
            ("Action", "failed"),
            ("Status", "5.2.2"),
            ("Final-Recipient", "rfc822; kathy@contoso.example"),
            ("Action", "failed"),
            ("Status", "5.1.1"),
        ]
    )
    assert [(s.recipient, s.status) for s in found] == [
        ("raj@tailspin.example", "5.2.2"),
        ("kathy@contoso.example", "5.1.1"),
    ]


PASTED = """Your message cannot be delivered to the following recipients:

  Recipient address: raj@tailspin.example
  Recipient address: kathy@contoso.example

Original-envelope-id: 0000000000@northwind.example
Reporting-MTA: dns; mx.contoso.example

Action: failed
Status: 5.0.0 (Remote SMTP server has rejected address)
Original-recipient: rfc822;raj@tailspin.example
Final-recipient: rfc822;raj@tailspin.example
Diagnostic-code: smtp; 550 5.7.1 User Unknown
Action: delayed
Status: 4.4.7
Final-recipient: rfc822;kathy@contoso.example
"""


def test_fields_pasted_into_text_are_read_in_the_order_the_mta_wrote_them() -> None:
    # PMDF writes Action before the recipient it belongs to.
    found = quoted_statuses(PASTED)
    assert [(s.recipient, s.action) for s in found] == [
        ("raj@tailspin.example", "failed"),
        ("kathy@contoso.example", "delayed"),
    ]
    assert found[0].diagnostic == "smtp; 550 5.7.1 User Unknown"


def test_text_without_recipient_fields_has_no_statuses() -> None:
    assert quoted_statuses("Action: failed\nStatus: 5.1.1\n") == []


def report(inner_to: str, failed: str, boundary: str = "IN") -> str:
    return f"""From: Mail Delivery Subsystem <mailer-daemon@mx.contoso.example>
To: {inner_to}
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain

Delivery failed.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.contoso.example

Final-Recipient: rfc822; {failed}
Action: failed
Status: 5.1.1

--{boundary}
Content-Type: message/rfc822

From: {inner_to}
To: {failed}
Message-ID: <out-7@northwind.example>

Hello
--{boundary}--
"""


def wrapped(inner: str) -> bytes:
    return f"""From: helpdesk@northwind.example
To: alex@northwind.example
Subject: Fwd: Undelivered Mail Returned to Sender
Content-Type: multipart/mixed; boundary="OUT"

--OUT
Content-Type: text/plain

See the bounce below.

--OUT
Content-Type: message/rfc822

{inner}
--OUT--
""".encode()


def test_a_bounce_inside_a_message_is_read_for_its_report() -> None:
    content = content_of(wrapped(report("alex@northwind.example", "kathy@contoso.example")))
    assert [s.recipient for s in content.delivery_status] == ["kathy@contoso.example"]
    assert "out-7@northwind.example" in content.returned_message_ids


def test_a_report_returned_by_a_report_is_a_double_bounce_not_my_recipient() -> None:
    # The outer report failed to deliver a bounce; the bounce it returns is about
    # someone else's message. Only the outer report's recipient counts.
    inner = report("mailer-daemon@mx.contoso.example", "kathy@contoso.example", "INNER")
    outer = report("alex@northwind.example", "bounces@northwind.example")
    outer = outer.replace("From: alex@northwind.example\nTo: bounces@northwind.example\n", "")
    outer = outer.replace("Message-ID: <out-7@northwind.example>\n\nHello\n", inner)
    content = content_of(outer.encode())
    assert [s.recipient for s in content.delivery_status] == ["bounces@northwind.example"]


def test_a_pasted_original_without_message_id_still_gives_its_recipients() -> None:
    raw = b"""From: MAILER-DAEMON@mx.northwind.example
Subject: Returned mail: Deferred: Connection timed out

   ----- Transcript of session follows -----
421 contoso.example (smtp)... Deferred: Connection timed out

   ----- Unsent message follows -----
Received: by mx.northwind.example; id 0000000
From: alex@northwind.example
To: kathy@contoso.example
Subject: Proposal
"""
    assert content_of(raw).returned_recipients == ("kathy@contoso.example",)


def test_to_lines_in_the_words_of_a_message_are_not_a_returned_original() -> None:
    raw = b"From: kathy@contoso.example\nSubject: hi\n\nTo: everyone@contoso.example\nhello\n"
    assert content_of(raw).returned_recipients == ()
