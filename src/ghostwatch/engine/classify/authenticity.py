"""Did the user's own mail provider authenticate a message? (docs/rules.md "Authenticity")

The receiving server records what it checked in an `Authentication-Results` header (RFC
8601) *above* everything the sender wrote (§5: a receiver adds its own at the top), so the
topmost one is the user's provider's verdict and anything below it may be a sender's
forgery. A message is *unauthenticated* when that verdict says `dmarc=fail`, or, without a
DMARC result, both SPF and DKIM fail (and none of them passes). No header, or one that
names none of the three, is no verdict: the message is judged as before (an old archive, a
Maildir without that header).

Why not the `authres` library (PyPI), measured on the shared corpora
(`benchmarks/authres_corpora.py`): of 161 real headers it parses 125 and rejects 36 —
Microsoft 365 / Outlook.com's (13: no authserv-id, a stray `;outlook.com;` between results)
and Yahoo's pre-RFC ones (22) — and Outlook is one of our providers, so a tolerant reading
is needed anyway; that reading (comments removed, each `;`-separated part that starts with
`method=result` kept) agrees with authres on all 125 it parses. authres's last release is
1.2.0 (2019), as a source archive only, which the image's hash-checked wheel install
cannot take as locked. So authres stays the oracle the tests hold this reading to
(`tests/engine/test_authenticity.py`), as Sisimai is for bounces.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ghostwatch.model.mail import Message

_METHODS = ("dmarc", "spf", "dkim")
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\s*([A-Za-z][\w-]*)\s*=\s*([A-Za-z]+)\b")


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """The topmost verdict's results for DMARC, SPF and DKIM, in the header's order."""

    results: tuple[tuple[str, str], ...]

    def of(self, method: str) -> tuple[str, ...]:
        return tuple(result for name, result in self.results if name == method)

    @property
    def unauthenticated(self) -> bool:
        dmarc = self.of("dmarc")
        if dmarc:
            return "fail" in dmarc and "pass" not in dmarc
        spf, dkim = self.of("spf"), self.of("dkim")
        return _failed(spf) and _failed(dkim)

    @property
    def summary(self) -> str:
        """What the user is shown: 'dmarc=fail', or 'spf=fail, dkim=fail'."""
        shown = ("dmarc",) if self.of("dmarc") else ("spf", "dkim")
        return ", ".join(f"{m}={r}" for m, r in self.results if m in shown)


def _failed(results: tuple[str, ...]) -> bool:
    return "fail" in results and "pass" not in results


def verdict(message: Message) -> AuthVerdict | None:
    """The topmost Authentication-Results' verdict, or None when there is none."""
    header = message.header("authentication-results")
    return read(header) if header is not None else None


@functools.lru_cache(maxsize=1 << 12)
def read(value: str) -> AuthVerdict | None:
    """One header value → its DMARC/SPF/DKIM results; None when it names none of them."""
    results = results_of(" ".join(value.split()))
    kept = tuple((m, r) for m, r in results if m in _METHODS)
    return AuthVerdict(kept) if kept else None


def results_of(value: str) -> tuple[tuple[str, str], ...]:
    """`method=result` at the start of each `;`-separated part, comments removed."""
    text, previous = value, None
    while previous != text:  # nested comments, innermost first
        previous, text = text, _COMMENT.sub(" ", text)
    found = (_RESULT.match(part) for part in text.split(";"))
    return tuple((m[1].lower(), m[2].lower()) for m in found if m)


def unauthenticated(message: Message) -> AuthVerdict | None:
    """The verdict when it makes the message unauthenticated, else None. A header that
    says no "fail" anywhere cannot fail a message: it is not read further (most mail
    passes)."""
    header = message.header("authentication-results")
    if header is None or "fail" not in header.lower():
        return None
    found = read(header)
    return found if found is not None and found.unauthenticated else None
