"""Real bounces whose failed recipient ghostwatch once named wrongly, or not at all.

Each row is one message of the Sisimai corpus, what it shows (read by a person, and
the same address Sisimai names unless the row says why not), and the rule that reads it
(docs/rules.md, "Failed recipients"). The corpus is read in place; these skip when it is
absent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ghostwatch.engine.classify.verdict import classify
from ghostwatch.mail.parse import parse_message
from ghostwatch.model.decisions import Classification, InboundClass
from ghostwatch.model.mail import Folder
from tests.support.paths import CORPORA

pytestmark = pytest.mark.corpus

SISIMAI = CORPORA / "sisimai"
BOUNCE, AUTO_ACK = InboundClass.BOUNCE, InboundClass.AUTO_ACK


def classified(name: str) -> Classification:
    path: Path = SISIMAI / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} is absent")
    return classify(parse_message(path.read_bytes(), path.name, Folder.INBOX))


FAILED = {
    # a bounce forwarded as an attachment: its own report is inside the message/rfc822
    "bounces/lhost-x5-01.eml": ("kijitora@neko.example.org",),
    # `Final-Recipient: RFC822; @mx.example.org` is no address; the text names the recipient
    "bounces/lhost-sendmail-15.eml": ("kijitora@example.org",),
    # `kijitora@example.com <neko@example.net>: malformed address`: the angle-addr
    "bounces/lhost-exim-52.eml": ("neko@example.net",),
    # fml refused a non-member; `neko-nyaan-ctl@` is the list's control address
    "bounces/lhost-fml-02.eml": ("neko-nyaan@example.org",),
    # the user really wrote to postmaster@ (the returned original's To)
    "bounces/lhost-biglobe-01.eml": ("postmaster@mxr.biglobe.ne.jp",),
    "bounces/lhost-dragonfly-04.eml": ("postmaster@cx.libsisimai.org",),
    # Sendmail V5 pastes the original below "----- Unsent message follows -----", no Message-ID
    "bounces/lhost-v5sendmail-01.eml": ("kijitora@example.com",),
    # the failed recipient is the bounce's own To: cron mail to self, anonymised copies
    "bounces/lhost-qmail-08.eml": ("shironeko@example.ad.jp",),
    "bounces/lhost-sendmail-54.eml": ("kijitora@neko.example.jp",),
    "bounces/lhost-einsundeins-03.eml": ("xxxx@xxxx.fr",),
    "bounces/rhost-franceptt-04.eml": ("xxxx@xxxx.fr",),
    # AOL runs both recipients' DSN fields together without a blank line
    "bounces/rhost-aol-03.eml": ("sabineko@example.jp", "mikeneko@example.jp"),
    # PMDF writes Action before the recipient; the envelope id and the header To are not it
    "bounces/lhost-messagingserver-03.eml": ("sabineko@example.org", "mikeneko@example.org"),
    # a Postfix SMTP transcript: MAIL FROM is the sender, RCPT TO the recipient
    "bounces/lhost-postfix-75.eml": ("kijitora@libsisimai.net",),
    # ORCPT without the quotes its local part needs; the user wrote `"neko....nyaan...."@`
    "bounces/lhost-postfix-32.eml": ('"neko....nyaan...."@libsisimai.org',),
    # DSN fields pasted into text: the Original-Recipient, as from a DSN part
    "bounces/lhost-postfix-49.eml": ("toraneko@neko.example.co.jp",),
}


@pytest.mark.parametrize(("name", "failed"), FAILED.items(), ids=list(FAILED))
def test_the_failed_recipient_is_the_one_the_report_names(
    name: str, failed: tuple[str, ...]
) -> None:
    found = classified(name)
    assert (found.kind, found.failed_recipients) == (BOUNCE, failed), found.signals


# Delay warnings: still being retried, so `auto_ack` and never a bounce; the recipient
# they name is reported as delayed (Sisimai 4 calls the first five failures).
DELAYED = {
    "bounces/lhost-exim-38.eml": "kijitora@example.co.jp",
    "bounces/lhost-exim-41.eml": "kijitora@example.net",
    "bounces/lhost-gmail-06.eml": "kijitora@example.jp",
    "bounces/lhost-opensmtpd-04.eml": "kijitora@neko.example.jp",
    "bounces/lhost-x1-04.eml": "kijitora-neko@neko.example.go.jp",
    "bounces/lhost-gmail-08.eml": "kijitora@example.com",
    "bounces/lhost-zoho-04.eml": "kijitora@6kaku.example.co.jp",
    "delays/lhost-messagingserver-07.eml": "kijitora@2jo.example.jp",
    "delays/lhost-opensmtpd-12.eml": "neko@nyaan.jp",
    "delays/rfc3464-09.eml": "kijitora-nyaaaaaan@example.co.jp",  # its Original-Recipient
}


@pytest.mark.parametrize(("name", "delayed"), DELAYED.items(), ids=list(DELAYED))
def test_a_delay_warning_names_its_recipient_as_delayed(name: str, delayed: str) -> None:
    found = classified(name)
    assert (found.kind, found.failed_recipients) == (AUTO_ACK, ())
    assert found.delayed_recipients == (delayed,)


def test_every_delay_notice_names_a_delayed_recipient_and_no_failed_one() -> None:
    folder = SISIMAI / "delays"
    if not folder.is_dir():
        pytest.skip(f"corpus folder {folder} is absent")
    for path in sorted(folder.glob("*.eml")):
        found = classify(parse_message(path.read_bytes(), path.name, Folder.INBOX))
        assert found.kind is AUTO_ACK, path.name
        assert (found.failed_recipients, len(found.delayed_recipients)) == ((), 1), path.name


def test_a_mailing_list_loop_alert_names_nobody() -> None:
    # fml's "Loop Alert: Duplicated Message-ID": nothing failed (Sisimai names the list).
    found = classified("bounces/lhost-fml-03.eml")
    assert (found.kind, found.failed_recipients, found.delayed_recipients) == (AUTO_ACK, (), ())


def test_an_icloud_vacation_reply_returns_the_day_after_its_end_date() -> None:
    # X-Apple-Criteria: {kind=VACATION,...,endDate=2020-01-10T14:59:59Z}: the last second
    # of 10 January in Japan, so back on the 11th.
    found = classified("auto-replies/rfc3834-03.eml")
    assert (found.kind, found.return_date) == (InboundClass.OUT_OF_OFFICE, date(2020, 1, 11))
