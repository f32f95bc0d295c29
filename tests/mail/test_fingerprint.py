"""The digest of a draft (`mail/fingerprint.py`): what a person reads counts, what a
server does to the bytes does not."""

from __future__ import annotations

from email.message import EmailMessage

from ghostwatch.mail.fingerprint import fingerprint, fingerprint_mime

TEXT = "Hi Kathy,\n\nI'm bringing my note back to the top of your inbox.\n\nBest,\nAlex\n"
HTML = "<p>Hi Kathy,</p><p>I'm bringing my note back to the top of your inbox.</p>"


def _draft(text: str = TEXT, html: str = HTML, cte: str | None = None, **fields: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Alex <alex@ghostwatch.example>"
    mail["To"] = fields.get("to", "Kathy Lee <kathy@contoso.example>")
    mail["Subject"] = fields.get("subject", "Re: Proposal")
    mail.set_content(text, cte=cte) if cte else mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return bytes(mail)


def test_the_same_draft_in_other_bytes_has_the_same_digest() -> None:
    """Re-encoded (quoted-printable vs base64), CRLF line ends, a folded header, the
    recipients' names or order: none of it is an edit."""
    written = fingerprint_mime(_draft())
    assert fingerprint_mime(_draft(cte="base64")) == written
    assert fingerprint_mime(_draft().replace(b"\n", b"\r\n")) == written
    assert fingerprint_mime(_draft(to="KATHY@contoso.example")) == written
    folded = _draft().replace(b"Subject: Re: Proposal", b"Subject: Re:\n Proposal")
    assert fingerprint_mime(folded) == written


def test_html_a_server_rewraps_keeps_its_digest() -> None:
    """Exchange wraps a body in its own <html><head> with styles and meta tags."""
    wrapped = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p{margin:0}</style></head><body>" + HTML + "</body></html>"
    )
    assert fingerprint("S", ["a@b.example"], [("text/html", HTML)]) == fingerprint(
        "S", ["a@b.example"], [("text/html", wrapped)]
    )


def test_every_edit_a_person_can_see_changes_the_digest() -> None:
    written = fingerprint_mime(_draft())
    assert fingerprint_mime(_draft(text=TEXT.replace("Kathy", "Kate"))) != written
    assert fingerprint_mime(_draft(html=HTML.replace("top", "front"))) != written
    assert fingerprint_mime(_draft(subject="Re: Proposal (v2)")) != written
    assert fingerprint_mime(_draft(to="kathy@contoso.example, raj@tailspin.example")) != written
