"""The topmost Authentication-Results, read (docs/rules.md "Authenticity")."""

from __future__ import annotations

import email
import email.policy

import authres
import authres.dmarc
import pytest

from ghostwatch.engine.classify import authenticity
from ghostwatch.model.mail import Address, Folder, Message
from tests.support.paths import CORPORA


def _message(*verdicts: str) -> Message:
    headers = tuple(("authentication-results", v) for v in verdicts)
    return Message("k", Folder.INBOX, Address("kathy@contoso.example"), headers=headers)


@pytest.mark.parametrize(
    ("header", "summary"),
    [
        ("mx.google.com; spf=pass smtp.mailfrom=x; dkim=pass; dmarc=fail (p=NONE)", "dmarc=fail"),
        ("mx.example; spf=fail smtp.mailfrom=x; dkim=fail header.d=x", "spf=fail, dkim=fail"),
        (  # Exchange Online: no authserv-id, which authres rejects
            "spf=fail (sender IP is 192.0.2.7) smtp.mailfrom=x.example; dkim=none (message not"
            " signed) header.d=none;dmarc=fail action=oreject header.from=x.example;compauth=fail",
            "dmarc=fail",
        ),
    ],
)
def test_a_failing_topmost_verdict_is_unauthenticated(header: str, summary: str) -> None:
    found = authenticity.unauthenticated(_message(header, "mx.x; dmarc=pass"))
    assert found is not None
    assert found.summary == summary


@pytest.mark.parametrize(
    "header",
    [
        "mx.example; spf=fail smtp.mailfrom=x; dkim=pass header.d=x",  # one passes
        "mx.example; spf=fail smtp.mailfrom=x; dkim=none",  # no signature is no failure
        "mx.example; dmarc=pass; spf=fail; dkim=fail",  # DMARC decides when it is there
        "mx.example; none",
        "garbage (((",
    ],
)
def test_anything_else_is_authenticated_or_no_verdict(header: str) -> None:
    assert authenticity.unauthenticated(_message(header)) is None


def test_only_the_topmost_counts() -> None:
    forged_below = _message("mx.me; dmarc=pass", "mx.them; dmarc=fail")
    assert authenticity.unauthenticated(forged_below) is None
    assert authenticity.unauthenticated(_message()) is None  # no header: judged as before


def test_the_tolerant_reading_agrees_with_authres_on_every_corpus_header() -> None:
    if not CORPORA.is_dir():
        pytest.skip(f"{CORPORA} is absent")
    both = 0
    for path in sorted(p for p in CORPORA.rglob("*") if p.is_file()):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        for value in parsed.get_all("Authentication-Results", []):
            text = " ".join(str(value).split())
            strict = by_authres(text)
            if strict is None:
                continue
            both += 1
            keep = ("dmarc", "spf", "dkim")
            loose = [(m, r) for m, r in authenticity.results_of(text) if m in keep]
            assert [(m, r) for m, r in strict if m in keep] == loose, text
    assert both >= 100


def by_authres(value: str) -> list[tuple[str, str]] | None:
    """What authres (the oracle; dev dependency) reads, or None when it rejects it."""
    context = authres.FeatureContext(authres.dmarc)
    try:
        header = context.parse_value(value)
    except (authres.AuthResError, ValueError, IndexError):  # what authres raises on garbage
        return None
    return [(str(r.method).lower(), str(r.result).lower()) for r in header.results]
