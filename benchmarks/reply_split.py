"""Which reply splitter finds a reply's own words best, measured on the 355 human replies.

    .venv/bin/python benchmarks/reply_split.py [--corpora DIR] [--show NAME]

An intent ("please remove me", "get back to me in January") counts only in the words the
person wrote in *this* reply: never in the quoted original below (or between) their lines,
never in a signature or a mailing list's footer (those say "unsubscribe"). This script
measures each candidate splitter on the corpora's human replies
(`spamassassin/human-replies` and `spamassassin/human-list-replies`) against a reference
reading of each message's lines, made by rules that leave nothing to judgement:

* quoted: a line whose first non-blank character is `>` or `|` (RFC 3676 §4.5 quoting and
  its common variant), the attribution line just above a quoted block ("... wrote:",
  "... said:", "... writes:"), and everything from a top-posted original on
  ("-----Original Message-----", "----- Forwarded message", an Outlook "From:/Sent:"
  block);
* signature: everything from the RFC 3676 §4.3 delimiter `-- ` (or a bare `--`), a
  mailing list footer (a rule of underscores), or a PGP signature block on;
* author: every other non-blank line.

Per splitter: how many replies keep *all* their author lines (a lost line can hide an
opt-out), and how many let *any* quoted or signature line through (a kept line can invent
one). Candidates that are not installed are reported as such; install them with
`.venv/bin/pip install mail-parser-reply email-reply-parser quotequail talon` to compare.
The last stdout line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ghostwatch.engine.classify.verdict import own_text  # noqa: E402
from ghostwatch.mail.parse import parse_message  # noqa: E402
from ghostwatch.mail.reply import reply_text  # noqa: E402
from ghostwatch.model.mail import Folder  # noqa: E402

FOLDERS = ("spamassassin/human-replies", "spamassassin/human-list-replies")

_QUOTED = re.compile(r"^\s*(?:>|\|)")
_ATTRIBUTION = re.compile(r"(?:wrote|writes|said|schrieb|a écrit|escribió)\s*:?\s*$", re.I)
_ORIGINAL = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Forwarded message|Ursprüngliche Nachricht)"
    r"|From:\s.*\n\s*(?:Sent|Date):)",
    re.I | re.M,
)
_SIGNATURE = re.compile(
    r"^(?:--\s?|_{20,}|-----BEGIN PGP SIGNATURE-----)$",
    re.M,
)
_ARMOR = re.compile(r"^(?:-----BEGIN PGP SIGNED MESSAGE-----|Hash: \w+)$")


@dataclass(frozen=True, slots=True)
class Reference:
    author: tuple[str, ...]
    quoted: tuple[str, ...]
    signature: tuple[str, ...]


def _norm(line: str) -> str:
    return " ".join(line.split())


def reference(text: str) -> Reference:
    """The reference reading of a reply's lines (the module docstring's rules)."""
    text = text.replace("\r\n", "\n")
    cut = len(text)
    quoted_tail = ""
    if found := _ORIGINAL.search(text):
        cut, quoted_tail = found.start(), text[found.start() :]
    body = text[:cut]
    signature_tail = ""
    if found := _SIGNATURE.search(body):
        body, signature_tail = body[: found.start()], body[found.start() :]
    lines = body.split("\n")
    author: list[str] = []
    quoted = [_norm(x) for x in quoted_tail.split("\n") if x.strip()]
    for index, line in enumerate(lines):
        if not line.strip() or _ARMOR.match(line.strip()):
            continue
        if _QUOTED.match(line):
            quoted.append(_norm(line))
            continue
        after = next((x for x in lines[index + 1 :] if x.strip()), "")
        if _ATTRIBUTION.search(line) and _QUOTED.match(after):
            continue  # the attribution of the quote below: neither author nor quote text
        author.append(_norm(line))
    signature = [_norm(x) for x in signature_tail.split("\n") if x.strip()]
    return Reference(tuple(author), tuple(quoted), tuple(signature))


Splitter = Callable[[str], str]


def _ours(text: str) -> str:
    return own_text(text)


def _email_reply_parser() -> Splitter:
    module: Any = importlib.import_module("email_reply_parser")
    return lambda text: str(module.EmailReplyParser.parse_reply(text) or "")


def _mail_parser_reply() -> Splitter:
    module: Any = importlib.import_module("mailparser_reply")
    parser = module.EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])
    return lambda text: str(parser.parse_reply(text) or "")


def _quotequail() -> Splitter:
    module: Any = importlib.import_module("quotequail")

    def split(text: str) -> str:
        parts = module.quote(text)
        return "\n".join(part for expanded, part in parts if expanded)

    return split


def _talon() -> Splitter:
    quotations: Any = importlib.import_module("talon.quotations")
    bruteforce: Any = importlib.import_module("talon.signature.bruteforce")

    def split(text: str) -> str:
        reply = quotations.extract_from_plain(text)
        body, _signature = bruteforce.extract_signature(reply)
        return str(body)

    return split


_QUOTE_LINE = re.compile(r"^[ \t]*>.*$\n?", re.M)
_SIG_DELIMITER = re.compile(r"^-- ?$", re.M)


def _unquoted(make: Callable[[], Splitter]) -> Callable[[], Splitter]:
    """A splitter, then the `>` lines it kept dropped and a `-- ` signature cut off."""

    def build() -> Splitter:
        split = make()

        def run(text: str) -> str:
            kept = _QUOTE_LINE.sub("", split(text))
            found = _SIG_DELIMITER.search(kept)
            return kept[: found.start()] if found else kept

        return run

    return build


def _quotes_first(make: Callable[[], Splitter]) -> Callable[[], Splitter]:
    """`>` lines dropped first, then the splitter (it then sees top-posted originals only)."""

    def build() -> Splitter:
        split = _unquoted(make)()
        return lambda text: split(_QUOTE_LINE.sub("", text))

    return build


CANDIDATES: dict[str, Callable[[], Splitter]] = {
    "ghostwatch own_text (classifier)": lambda: _ours,
    "ghostwatch reply_text (chosen)": lambda: reply_text,
    "email-reply-parser": _email_reply_parser,
    "mail-parser-reply": _mail_parser_reply,
    "quotequail": _quotequail,
    "talon": _talon,
    "email-reply-parser, > dropped": _unquoted(_email_reply_parser),
    "mail-parser-reply, > dropped": _unquoted(_mail_parser_reply),
    "talon, > dropped": _unquoted(_talon),
    "> dropped, then email-reply-parser": _quotes_first(_email_reply_parser),
    "> dropped, then mail-parser-reply": _quotes_first(_mail_parser_reply),
    "> dropped, then talon": _quotes_first(_talon),
}


@dataclass(slots=True)
class Score:
    replies: int = 0
    lost_author: int = 0
    """Replies with at least one author line missing from the splitter's output."""
    author_lines: int = 0
    author_kept: int = 0
    leaked_quote: int = 0
    """Replies with at least one quoted line in the output."""
    leaked_signature: int = 0
    """Replies with at least one signature/footer line in the output."""


def measure(split: Splitter, texts: dict[str, str]) -> tuple[Score, list[str]]:
    score, lost = Score(), []
    for name, text in texts.items():
        ref = reference(text)
        kept = {_norm(x) for x in split(text).replace("\r\n", "\n").split("\n")}
        author_set = set(ref.author)
        score.replies += 1
        score.author_lines += len(ref.author)
        score.author_kept += sum(line in kept for line in ref.author)
        if any(line not in kept for line in ref.author):
            score.lost_author += 1
            lost.append(name)
        if any(line in kept and line not in author_set for line in ref.quoted):
            score.leaked_quote += 1
        if any(line in kept and line not in author_set for line in ref.signature):
            score.leaked_signature += 1
    return score, lost


# Top-posted replies as today's clients write them, one per language ghostwatch reads: the
# answer, then the client's header line (or Outlook's header block) and the original,
# unquoted. The corpora are from 2002 mailing lists; these are how prospects answer now.
_ANSWER = "Please take me off your list."
_OLD_TEXT = "Attached is the proposal for 40 seats; unsubscribe is not the point here."
_HEADERS = {
    "en": (
        "On Mon, 16 Nov 2026 at 10:00, Alex Morgan <alex@example.com> wrote:",
        "From: Alex Morgan <alex@example.com>\nSent: Monday, November 16, 2026 10:00\n"
        "To: Kathy\nSubject: Proposal",
    ),
    "de": (
        "Am Mo., 16. Nov. 2026 um 10:00 Uhr schrieb Alex Morgan <alex@example.com>:",
        "Von: Alex Morgan <alex@example.com>\nGesendet: Montag, 16. November 2026 10:00\n"
        "An: Kathy\nBetreff: Angebot",
    ),
    "fr": (
        "Le lun. 16 nov. 2026 à 10:00, Alex Morgan <alex@example.com> a écrit :",
        "De : Alex Morgan <alex@example.com>\nEnvoyé : lundi 16 novembre 2026 10:00\n"
        "À : Kathy\nObjet : Proposition",
    ),
    "es": (
        "El lun, 16 nov 2026 a las 10:00, Alex Morgan (<alex@example.com>) escribió:",
        "De: Alex Morgan <alex@example.com>\nEnviado: lunes, 16 de noviembre de 2026 10:00\n"
        "Para: Kathy\nAsunto: Propuesta",
    ),
    "it": (
        "Il giorno lun 16 nov 2026 alle ore 10:00 Alex Morgan <alex@example.com> ha scritto:",
        "Da: Alex Morgan <alex@example.com>\nInviato: lunedì 16 novembre 2026 10:00\n"
        "A: Kathy\nOggetto: Proposta",
    ),
    "nl": (
        "Op ma 16 nov 2026 om 10:00 schreef Alex Morgan <alex@example.com>:",
        "Van: Alex Morgan <alex@example.com>\nVerzonden: maandag 16 november 2026 10:00\n"
        "Aan: Kathy\nOnderwerp: Voorstel",
    ),
    "pt": (
        "Em seg., 16 de nov. de 2026 às 10:00, Alex Morgan <alex@example.com> escreveu:",
        "De: Alex Morgan <alex@example.com>\nEnviada em: segunda-feira, 16 de novembro de "
        "2026 10:00\nPara: Kathy\nAssunto: Proposta",
    ),
}


def top_posted() -> dict[str, str]:
    texts = {}
    for language, (wrote, block) in _HEADERS.items():
        for style, header in (("header line", wrote), ("header block", block)):
            texts[f"{language} {style}"] = f"Hi Alex,\n\n{_ANSWER}\n\n{header}\n\n{_OLD_TEXT}\n"
    return texts


def measure_top_posted(split: Splitter) -> tuple[int, int, list[str]]:
    """(answers kept, originals let through, the cases that failed) over `top_posted()`."""
    kept = leaked = 0
    failed = []
    for name, text in top_posted().items():
        out = split(text)
        kept += _ANSWER in out
        leaked += _OLD_TEXT in out
        if _ANSWER not in out or _OLD_TEXT in out:
            failed.append(name)
    return kept, leaked, failed


def load(corpora: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for folder in FOLDERS:
        for eml in sorted((corpora / folder).glob("*.eml")):
            message = parse_message(eml.read_bytes(), eml.name, Folder.INBOX)
            texts[f"{folder}/{eml.name}"] = message.content.text if message.content else ""
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--show", help="print one reply's reference reading and outputs")
    args = parser.parse_args(argv)
    texts = load(args.corpora)
    if not texts:
        print(f"no replies under {args.corpora}: nothing measured", file=sys.stderr)
        return 2
    if args.show:
        _show(args.show, texts)
        return 0
    print(f"{len(texts)} human replies")
    figures: dict[str, Any] = {"replies": len(texts)}
    for label, make in CANDIDATES.items():
        try:
            split = make()
        except ImportError as error:
            print(f"{label:36} not installed ({error.name})")
            figures[label] = None
            continue
        score, _lost = measure(split, texts)
        share = score.author_kept / max(score.author_lines, 1)
        kept, leaked, failed = measure_top_posted(split)
        print(
            f"{label:36} lose author text in {score.lost_author:3}/{score.replies}"
            f"  author lines kept {share:6.1%}"
            f"  quoted text kept in {score.leaked_quote:3}"
            f"  signature/footer kept in {score.leaked_signature:3}"
            f"  | top-posted, 7 languages x 2: answer kept {kept:2}/14,"
            f" original kept {leaked:2}/14"
        )
        figures[label] = {
            "lost_author": score.lost_author,
            "author_lines_kept": round(share, 4),
            "leaked_quote": score.leaked_quote,
            "leaked_signature": score.leaked_signature,
            "top_posted_answer_kept": kept,
            "top_posted_original_kept": leaked,
            "top_posted_failed": failed,
        }
    print(json.dumps(figures))
    return 0


def _show(name: str, texts: dict[str, str]) -> None:
    text = next(t for n, t in texts.items() if n.endswith(name))
    ref = reference(text)
    print("AUTHOR:", *ref.author, sep="\n  ")
    print("SIGNATURE:", *ref.signature[:5], sep="\n  ")
    for label, make in CANDIDATES.items():
        try:
            print(f"--- {label}\n{make()(text)[:1500]}")
        except ImportError:
            continue


if __name__ == "__main__":
    sys.exit(main())
