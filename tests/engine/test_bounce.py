"""Who a bounce says failed, and who a delay notice says is still waiting (docs/rules.md,
"What an inbound message is" and "Failed recipients"): bytes → Message → Classification,
and, where it decides a conversation, through `scan`."""

from __future__ import annotations

from email.utils import format_datetime
from pathlib import Path

import pytest

from ghostwatch.engine.classify.verdict import classify
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.decisions import Classification, InboundClass
from ghostwatch.model.mail import Folder
from tests.support.builder import ME, Mailbox, only, scan, when

DAEMON = "Mail Delivery System <MAILER-DAEMON@mx.contoso.example>"


def bounce(body: str, to: str = ME, subject: str = "Mail delivery failed", **headers: str) -> bytes:
    extra = "".join(f"{name.replace('_', '-')}: {value}\n" for name, value in headers.items())
    return (
        f"From: {DAEMON}\nTo: {to}\nSubject: {subject}\n"
        f"Date: Mon, 02 Nov 2026 10:02:00 +0000\nMessage-ID: <b-1@mx.contoso.example>\n"
        f"{extra}\n{body}"
    ).encode()


def run(raw: bytes) -> Classification:
    return classify(parse_message(raw, "key", Folder.INBOX))


# --- which address on the line ----------------------------------------------------------


def test_display_text_that_looks_like_an_address_is_not_the_address() -> None:
    # RFC 5322 name-addr: in `a@b <c@d>` the address is the angle-addr (Exim's report of
    # a malformed recipient writes it so).
    body = (
        "A message that you sent contained one or more recipient addresses that were\n"
        "incorrectly constructed:\n\n"
        "  kathy@contoso.example <raj@tailspin.example>: malformed address\n"
    )
    assert run(bounce(body)).failed_recipients == ("raj@tailspin.example",)


def test_a_list_control_address_is_not_the_list_that_refused() -> None:
    # fml: the list refused a non-member and points to its -ctl address for the guide.
    body = (
        "You are not a member of this mailing list <sales-team@contoso.example>.\n\n"
        "If you know the general guide of this list, please send mail with\n"
        "the mail body\n\n\tguide\n\nto the address\n\n\tsales-team-ctl@contoso.example\n"
    )
    result = run(bounce(body, subject="Returned mail"))
    assert result.failed_recipients == ("sales-team@contoso.example",)


def test_the_envelope_sender_of_an_smtp_transcript_never_failed() -> None:
    body = (
        "Transcript of session follows.\n\n"
        " In:  MAIL\n     FROM:<alex+verp=northwind@bounce.northwind.example>\n"
        " Out: 250 2.1.0 Ok\n"
        " In:  RCPT TO:<kathy@contoso.example>\n Out: 250 2.1.5 Ok\n"
        " Out: 451 4.3.0 Error: queue file write error\n"
    )
    assert run(bounce(body)).failed_recipients == ("kathy@contoso.example",)


# --- the bounce's own To ------------------------------------------------------------------

CRON_TO_SELF = """This message was created automatically by mail delivery software.

Hi. This is the qmail-send program at mx.northwind.example.
I'm afraid I wasn't able to deliver your message to the following addresses.

<ops@northwind.example>:
Sorry, no mailbox here by that name. (#5.1.1)
"""


def test_an_address_the_report_lists_counts_even_when_it_is_the_reports_own_to() -> None:
    # Cron and scripts mail their own owner: the failed recipient is the bounce's To.
    result = run(bounce(CRON_TO_SELF, to="ops@northwind.example"))
    assert result.failed_recipients == ("ops@northwind.example",)


def test_dsn_fields_in_text_count_for_the_reports_own_to() -> None:
    body = (
        "The original message was received from localhost.\n\n"
        "Final-Recipient: RFC822; ops@northwind.example\nAction: failed\nStatus: 4.4.7\n"
    )
    result = run(bounce(body, to="ops@northwind.example"))
    assert result.failed_recipients == ("ops@northwind.example",)


def test_a_loose_mention_of_the_reports_own_to_is_still_not_a_failure() -> None:
    body = "Your message from ops@northwind.example could not be delivered to kathy@contoso.example"
    result = run(bounce(body, to="ops@northwind.example"))
    assert result.failed_recipients == ("kathy@contoso.example",)


# --- role addresses -----------------------------------------------------------------------

BIGLOBE = """   ----- The following addresses had delivery problems -----
postmaster@contoso.example

   ----- Non-delivered information -----
The number of messages in recipient's mailbox exceeded the local limit.
"""


def test_postmaster_counts_when_my_message_was_addressed_to_it() -> None:
    returned = "\n   ----- Original message -----\nTo: <postmaster@contoso.example>\nSubject: Hi\n"
    result = run(bounce(BIGLOBE + returned))
    assert result.failed_recipients == ("postmaster@contoso.example",)


def test_postmaster_is_the_reporting_system_when_my_message_went_elsewhere() -> None:
    returned = "\n   ----- Original message -----\nTo: <kathy@contoso.example>\nSubject: Hi\n"
    result = run(bounce(BIGLOBE + returned))
    assert result.failed_recipients == ("kathy@contoso.example",)


# --- delays -------------------------------------------------------------------------------

DSN = """MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery report.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example

{blocks}
--B--
"""


def dsn(*blocks: tuple[str, str, str]) -> bytes:
    text = "\n".join(
        f"Final-Recipient: rfc822; {rcpt}\nAction: {action}\nStatus: {status}\n"
        for rcpt, action, status in blocks
    )
    head = f"From: {DAEMON}\nTo: {ME}\nSubject: Delivery Status Notification\n"
    return (head + DSN.format(blocks=text)).encode()


def test_a_delay_notice_names_who_is_still_waiting_and_is_no_bounce() -> None:
    result = run(dsn(("kathy@contoso.example", "delayed", "4.4.7")))
    assert result.kind is InboundClass.AUTO_ACK
    assert result.failed_recipients == ()
    assert result.delayed_recipients == ("kathy@contoso.example",)


def test_a_report_with_both_names_each_in_its_place() -> None:
    kathy = ("kathy@contoso.example", "failed", "5.1.1")
    raj = ("raj@tailspin.example", "delayed", "4.4.1")
    result = run(dsn(kathy, raj))
    assert result.kind is InboundClass.BOUNCE
    assert result.failed_recipients == ("kathy@contoso.example",)
    assert result.delayed_recipients == ("raj@tailspin.example",)


EXIM_WARNING = """This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.northwind.example.

The address to which the message has not yet been delivered is:

  kathy@contoso.example
    Delay reason: SMTP error from remote mail server after MAIL FROM:<alex@northwind.example>:
    450 try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered.
"""


def test_a_text_delay_warning_names_the_address_it_lists_as_delayed() -> None:
    raw = bounce(EXIM_WARNING, subject="Warning: message 1abc-0002 delayed 24 hours")
    result = run(raw)
    assert result.kind is InboundClass.AUTO_ACK
    assert (result.failed_recipients, result.delayed_recipients) == ((), ("kathy@contoso.example",))


@pytest.fixture
def box(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


def test_a_delay_notice_never_marks_a_conversation_bounced(box: Mailbox) -> None:
    box.add("Sent", f"Alex <{ME}>", "Kathy <kathy@contoso.example>", "Proposal", "2026-11-02 10:00")
    head = f"Date: {format_datetime(when('2026-11-03 10:00'))}\nMessage-ID: <d-1@mx.example>\n"
    box.add_bytes("INBOX", head.encode() + dsn(("kathy@contoso.example", "delayed", "4.4.7")))
    assert (only(scan(box, "2026-11-20 10:00"))["state"]) == "due"


def test_a_contact_whose_address_needs_quotes_is_bounced_by_its_unquoted_orcpt(
    box: Mailbox,
) -> None:
    # Postfix writes the Original-Recipient without the quotes the local part needs.
    contact = '"kathy..lopez"@contoso.example'
    first = box.add("Sent", f"Alex <{ME}>", contact, "Proposal", "2026-11-02 10:00")
    report = dsn(("kathy@mailhub.contoso.example", "failed", "5.1.1")).replace(
        b"Final-Recipient: rfc822; kathy@mailhub.contoso.example\n",
        b"Final-Recipient: rfc822; kathy@mailhub.contoso.example\n"
        b"Original-Recipient: rfc822;kathy..lopez@contoso.example\n",
    )
    head = f"Date: {format_datetime(when('2026-11-02 10:01'))}\nReferences: {first}\n"
    box.add_bytes("INBOX", head.encode() + report)
    found = only(scan(box, "2026-11-20 10:00"))
    assert found["contacts"] == [contact]
    assert found["state"] == "bounced"
