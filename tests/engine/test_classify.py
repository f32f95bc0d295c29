"""The inbound classifier, driven through the real parser: bytes → Message → Classification."""

from __future__ import annotations

import itertools
from datetime import date
from email.message import EmailMessage

import pytest

from ghostwatch.engine.classify.verdict import classify, may_be_automatic
from ghostwatch.mail.parse import parse_headers, parse_message
from ghostwatch.model.decisions import Classification, InboundClass
from ghostwatch.model.mail import Folder, Message

DATE = "Fri, 20 Nov 2026 09:30:00 +0000"
ME = "alex@northwind.example"


def mail(subject: str, body: str, sender: str = "kathy@contoso.example", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ME
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = "<reply-1@contoso.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def run(raw: bytes) -> Classification:
    return classify(parse_message(raw, "key", Folder.INBOX))


def headers_only(raw: bytes) -> Message:
    return parse_headers(raw, "key", Folder.INBOX)


# --- auto-replies -------------------------------------------------------------------------


def test_gmail_vacation_responder() -> None:
    raw = mail(
        "Re: Proposal",
        "Hi, I'm on vacation until December 1st with limited access to email.",
        Auto_Submitted="auto-replied",
        Precedence="bulk",
        X_Autoreply="yes",
    )
    result = run(raw)
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)
    assert "header Auto-Submitted: auto-replied" in result.signals
    assert may_be_automatic(headers_only(raw))


def test_exchange_automatic_reply_without_auto_submitted() -> None:
    raw = mail(
        "Automatic reply: Proposal",
        "I am out of the office until 12/01/2026.",
        X_Auto_Response_Suppress="All",
        X_MS_Exchange_Inbox_Rules_Loop="kathy@contoso.example",
    )
    result = run(raw)
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)  # US English: month first
    assert "subject phrase 'Automatic reply'" in result.signals
    assert may_be_automatic(headers_only(raw))


def test_icloud_vacation_reply_is_known_by_its_headers_and_returns_after_its_end() -> None:
    # No Auto-Submitted, no absence wording: iCloud says it only in its own headers.
    raw = mail(
        "Auto reply: Proposal",
        "I'm only sleeping.",
        X_Apple_Action="VACATION",
        X_Apple_Criteria="{kind=VACATION,startDate=2026-11-15T23:00:00Z,"
        "endDate=2026-11-30T22:59:59Z}",  # Berlin: away through 30 November
    )
    result = run(raw)
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)
    assert "header X-Apple-Action: VACATION" in result.signals
    assert may_be_automatic(headers_only(raw))


def test_plain_outlook_mail_with_suppress_header_is_human() -> None:
    raw = mail(
        "Re: Proposal",
        "Thanks Alex, I was out of the office last week. Let's talk Tuesday.",
        X_Auto_Response_Suppress="All",
    )
    result = run(raw)
    assert result.kind is InboundClass.HUMAN


def test_mailing_list_bulk_is_human() -> None:
    raw = mail(
        "Re: [dev] release plan",
        "Sounds good to me.",
        Precedence="bulk",
        List_Id="Developers <dev.lists.example>",
    )
    assert run(raw).kind is InboundClass.HUMAN
    assert not may_be_automatic(headers_only(raw))


def test_headers_only_classification() -> None:
    message = headers_only(mail("Automatic reply: Proposal", "x", Auto_Submitted="auto-replied"))
    assert message.content is None
    assert classify(message).kind is InboundClass.AUTO_ACK


OOO_WITH_DATE = [
    ("Out of Office: Proposal", "I am out of the office until Tuesday, December 1st.", None),
    ("Abwesenheitsnotiz: Angebot", "Ich bin bis zum 1. Dezember nicht im Büro.", None),
    ("Réponse automatique : Proposition", "Je suis absent jusqu'au 1er décembre.", None),
    ("Respuesta automática: Propuesta", "Estoy fuera de la oficina hasta el 1 de diciembre.", "es"),
    ("Risposta automatica: Proposta", "Sono fuori ufficio fino al 1° dicembre.", None),
    (
        "Automatisch antwoord: Voorstel",
        "Ik ben afwezig tot en met 30 november.",
        "nl-NL",
    ),  # last day
    ("Resposta automática: Proposta", "Estou ausente até 1 de dezembro de 2026.", None),
]


@pytest.mark.parametrize(("subject", "body", "language"), OOO_WITH_DATE)
def test_out_of_office_in_seven_languages(subject: str, body: str, language: str | None) -> None:
    extra = {"Content_Language": language} if language else {}
    result = run(mail(subject, body, Auto_Submitted="auto-replied", **extra))
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)


def test_out_of_office_by_subject_alone_without_date() -> None:
    result = run(mail("Out of Office", "I am currently away and will reply on my return."))
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date is None
    assert "subject phrase 'Out of Office'" in result.signals


def test_auto_ack_ticket_receipt() -> None:
    raw = mail(
        "We received your request [ticket #123]",
        "Thank you for contacting us. This is an automated response: ticket #123 was created.",
        sender="support@contoso.example",
    )
    result = run(raw)
    assert result.kind is InboundClass.AUTO_ACK
    assert any("automated response" in s for s in result.signals)


def test_human_reply_has_no_automatic_signals() -> None:
    raw = mail("Re: Proposal", "Hi Alex,\n\nLooks good — send the contract.\n\nKathy")
    result = run(raw)
    assert result == Classification(InboundClass.HUMAN)
    assert not may_be_automatic(headers_only(raw))


def test_human_reply_quoting_an_absence_notice_stays_human() -> None:
    body = "Sure, Monday works.\n\n> I am out of the office until 1 December.\n"
    assert run(mail("Re: Out of Office: Proposal", body)).kind is InboundClass.HUMAN


# --- bounces ------------------------------------------------------------------------------


def dsn(blocks: list[dict[str, str]], subject: str = "Delivery Status Notification") -> bytes:
    """An RFC 3464 report as an MTA writes it (RFC 6522 multipart/report)."""
    fields = "\n\n".join("\n".join(f"{k}: {v}" for k, v in b.items()) for b in blocks)
    return f"""From: Mail Delivery Subsystem <mailer-daemon@mx.northwind.example>
To: {ME}
Subject: {subject}
Date: {DATE}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="RB"

--RB
Content-Type: text/plain

This is an automatically generated Delivery Status Notification.

--RB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example

{fields}

--RB
Content-Type: text/rfc822-headers

From: {ME}
To: kathy@contoso.example
Message-ID: <out-7@northwind>

--RB--
""".encode()


def test_dsn_lists_only_failed_recipients() -> None:
    raw = dsn(
        [
            {"Final-Recipient": "rfc822; Kathy@Contoso.example", "Action": "failed",
             "Status": "5.1.1"},
            {"Final-Recipient": "rfc822; raj@tailspin.example", "Action": "delayed",
             "Status": "4.4.7"},
        ]
    )  # fmt: skip
    result = run(raw)
    assert result.kind is InboundClass.BOUNCE
    assert result.failed_recipients == ("kathy@contoso.example",)
    assert result.quoted_message_ids == ("out-7@northwind",)
    assert "DSN part: 1 failed recipient(s)" in result.signals
    assert may_be_automatic(headers_only(raw))


def test_delay_only_dsn_is_auto_ack() -> None:
    block = {"Final-Recipient": "rfc822; raj@tailspin.example", "Action": "delayed"}
    result = run(dsn([block], "Delivery Status Notification (Delay)"))
    assert result.kind is InboundClass.AUTO_ACK
    assert result.failed_recipients == ()


QMAIL = """Hi. This is the qmail-send program at mx.contoso.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<kathy@contoso.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <alex@northwind.example>
Message-ID: <out-7@northwind>
To: kathy@contoso.example
"""
EXIM = """This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  kathy@contoso.example
    SMTP error from remote mail server after RCPT TO:<kathy@contoso.example>:
    550 5.1.1 User unknown

------ This is a copy of the message, including all the headers. ------
"""
POSTFIX = """This is the mail system at host mx.contoso.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<kathy@contoso.example>: host mx.contoso.example said: 550 5.1.1 User unknown
"""
EXCHANGE = """Your message to kathy@contoso.example couldn't be delivered.
kathy wasn't found at contoso.example.
alex  Office 365  kathy
Action Required
"""


@pytest.mark.parametrize(
    ("subject", "body", "sender"),
    [
        ("failure notice", QMAIL, "MAILER-DAEMON@mx.contoso.example"),
        ("Mail delivery failed: returning message", EXIM, "Mail Delivery System <x@y.example>"),
        ("Undelivered Mail Returned to Sender", POSTFIX, "MAILER-DAEMON@mx.contoso.example"),
        ("Undeliverable: Proposal", EXCHANGE, "postmaster@contoso.example"),
    ],
)  # fmt: skip
def test_non_standard_bounces(subject: str, body: str, sender: str) -> None:
    result = run(mail(subject, body, sender=sender))
    assert result.kind is InboundClass.BOUNCE
    assert result.failed_recipients == ("kathy@contoso.example",)


def test_bounce_text_never_lists_me_or_the_daemon() -> None:
    body = "Delivery to alex@northwind.example failed? No: <kathy@contoso.example>... User unknown"
    result = run(mail("Returned mail: User unknown", body, sender="postmaster@contoso.example"))
    assert result.failed_recipients == ("kathy@contoso.example",)


def test_x_failed_recipients_header() -> None:
    raw = mail("Mail delivery failed", "see below", X_Failed_Recipients="Kathy@Contoso.example")
    result = run(raw)
    assert result.kind is InboundClass.BOUNCE
    assert result.failed_recipients == ("kathy@contoso.example",)


def test_inline_message_id_of_returned_original_is_quoted() -> None:
    result = run(mail("failure notice", QMAIL, sender="MAILER-DAEMON@mx.contoso.example"))
    assert result.quoted_message_ids == ("out-7@northwind",)


# --- damage -------------------------------------------------------------------------------

BROKEN = [
    b"",
    b"\xff\xfe\x00garbage\n\n\x00\x01",
    b"From: a@b.example\nContent-Type: text/plain; charset=no-such-charset\n\n\xe9t\xe9\n",
    b"From: a@b.example\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding:"
    b" base64\n\n!!!not base64***\n",
    b"From: a@b.example\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable"
    b"\n\n=ZZ=4\n",
    b"From: a@b.example\nContent-Type: multipart/mixed\n\nno boundary at all\n",
    b"From: a@b.example\nContent-Type: multipart/report; report-type=delivery-status;"
    b' boundary="x"\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: ;\n\n--x--\n',
    b"Subject: =?x-unknown?B?////?=\nFrom: =?utf-8?Q?=ZZ?= <a@b.example>\n\nhi\n",
    b"From: a@b.example\nContent-Type: text/html; charset=latin-1\n\n<p>caf\xe9<script>x</p",
    b"From: a@b.example\nContent-Type: message/rfc822\n\nnot really a message",
]


@pytest.mark.parametrize("raw", BROKEN)
def test_broken_input_never_raises(raw: bytes) -> None:
    message = parse_message(raw, "key", Folder.INBOX)
    assert classify(message).kind in set(InboundClass)
    assert isinstance(may_be_automatic(message), bool)


def test_deeply_nested_mime_is_bounded() -> None:
    depth = 200
    boundaries = [f"b{i}" for i in range(depth)]
    head = "".join(
        f'--{b}\nContent-Type: multipart/mixed; boundary="{n}"\n\n'
        for b, n in itertools.pairwise(boundaries)
    )
    raw = f'From: a@b.example\nContent-Type: multipart/mixed; boundary="b0"\n\n{head}'.encode()
    assert classify(parse_message(raw, "k", Folder.INBOX)).kind is InboundClass.HUMAN


def test_html_only_body_is_read() -> None:
    msg = EmailMessage()
    msg["From"] = "kathy@contoso.example"
    msg["Subject"] = "Automatic reply: Proposal"
    msg["Date"] = DATE
    msg.set_content(
        "<html><style>p{}</style><p>I am out of the office until 1 December.</p>", "html"
    )
    result = run(msg.as_bytes())
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)


def test_latin1_body_is_decoded() -> None:
    raw = (
        "From: jean@exemple.example\nSubject: Réponse automatique\nDate: "
        f"{DATE}\nContent-Type: text/plain; charset=iso-8859-1\n\n"
        "Je suis absent jusqu'au 1er décembre.\n"
    ).encode("latin-1")
    result = run(raw)
    assert result.kind is InboundClass.OUT_OF_OFFICE
    assert result.return_date == date(2026, 12, 1)
