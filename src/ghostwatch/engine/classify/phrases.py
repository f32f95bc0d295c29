r"""The words automatic mail uses about itself, in the languages ghostwatch reads.

Kept apart from the rules in `classify` so that adding a language is a table edit.
Every table is compiled once at import. Tables are written in lower case and matched
against lower-cased text: `re.IGNORECASE` and a `(?<!\w)` look-behind make Python's
matcher 5-20x slower on these long alternations, and `classify` runs on every
message whose body is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ANCHOR = r"^\W*(?:\[[^\]]*\]\s*)?"
"""A subject's start: leading punctuation and one "[tag]" (list and ticket tags)."""


def _alternation(phrases: Iterable[str]) -> str:
    return "|".join(p.replace(" ", r"\s+") for p in phrases)


def compile_phrases(phrases: Iterable[str], *, anchored: bool = False) -> re.Pattern[str]:
    """One regex for a phrase table (lower-case regex fragments; a space is any blank).

    Match it against `text.lower()`.
    """
    prefix = _ANCHOR if anchored else r"\b"
    return re.compile(rf"{prefix}(?:{_alternation(phrases)})(?!\w)")


# Subject prefixes of generic auto-replies (RFC 3834 §3.1.5 suggests "Auto:"; every
# client invents its own). Anchored at the subject's start: "Re: Automatic reply"
# is a person answering one.
AUTO_SUBJECT = (
    "auto(?:matic|mated)?[ -]?(?:reply|response|respons|answer)",
    "autoreply",
    "autorespon(?:se|der)",
    "auto:",
    "automatische antwort",
    "automatische rückantwort",
    "r[ée]ponse automatique",
    "respuesta autom[áa]tica",
    "risposta automatica",
    "automatisch antwoord",
    "automatisch bericht",
    "resposta autom[áa]tica",
    "mensagem autom[áa]tica",
)

# Absence, in a subject or in the first lines of a body.
ABSENCE = (
    "out of (?:the )?office",
    "out-of-office",
    "away from (?:the |my )?(?:office|desk|e-?mail)",
    "(?:i am|i'm|i will be|i'll be) (?:currently )?(?:away|out|on (?:vacation|holiday|leave|pto))",
    "(?:on|annual|parental|maternity|paternity|sick) leave",
    "on (?:vacation|holiday)",
    "(?:limited|intermittent|no) access to (?:my )?(?:e-?mail|phone)",
    "(?:i am|i'm|i will be|i'll be) (?:currently )?travel?ling",
    "abwesenheits?(?:notiz|nachricht|meldung)?",
    "abwesend",
    "nicht im (?:büro|hause|haus)",
    "au[ßs]er (?:haus|hause|dienst)",
    "im urlaub",
    "absen(?:t|te|ce)",
    "en cong[ée]s?",
    "en vacances",
    "hors du bureau",
    "fuera de (?:la )?oficina",
    "ausente",
    "de vacaciones",
    "fuori (?:ufficio|sede)",
    "assente",
    "in ferie",
    "afwezig",
    "niet (?:aanwezig|op kantoor)",
    "met vakantie",
    "fora do escrit[óo]rio",
    "de f[ée]rias",
    "em f[ée]rias",
)

# A body that says, in so many words, that no person wrote it.
AUTOMATION_BODY = (
    "this is an? automat(?:ic|ed)(?:ally generated)? (?:reply|response|message|e-?mail|notice)",
    "this (?:message|e-?mail) (?:was|has been|is) (?:sent |generated |created )?automatically",
    "(?:was )?(?:automatically|auto-) ?generated",
    "automated (?:response|reply|message)",
    "please do not reply to this (?:message|e-?mail)",
    "do not reply to this (?:message|e-?mail)",
    "diese (?:nachricht|e-?mail) wurde automatisch",
    "automatisch (?:generiert|erstellt|versendet)",
    "(?:message|r[ée]ponse) (?:g[ée]n[ée]r[ée]e )?automatique",
    "mensaje autom[áa]tico",
    "messaggio (?:generato )?automatico",
    "automatisch (?:gegenereerd|verzonden) bericht",
    "mensagem (?:gerada )?automaticamente",
)

# Receipts: "we have your message", tickets.
ACK = (
    "we(?: have|'ve)? received your (?:message|request|e-?mail|enquiry|inquiry)",
    "thank you for contacting",
    "your (?:request|ticket|case) (?:has been|was) (?:received|created|logged|opened)",
    "ticket (?:#|number|id|no)",
    "request received",
    "wir haben ihre (?:nachricht|anfrage|e-?mail) erhalten",
    "nous avons (?:bien )?re[çc]u votre",
    "hemos recibido su",
    "abbiamo ricevuto la (?:sua|tua)",
    "wij hebben uw (?:bericht|aanvraag) ontvangen",
    "recebemos (?:a sua|sua)",
)

# Delivery failure in subjects (non-standard bounces carry no DSN part).
BOUNCE_SUBJECT = (
    "undeliver(?:able|ed)",
    "undelivered mail",
    "delivery status notification \\(failure\\)",
    "delivery (?:status )?(?:notification|notice|report)(?:: (?:error|failed|failure))?",
    "delivery (?:has )?fail(?:ed|ure)",
    "(?:permanent )?delivery failure",
    "failed delivery",
    "failure (?:notice|delivery)",
    "mail delivery (?:failed|failure|system)",
    "message delivery (?:has )?failed",
    "returned (?:mail|message)",
    "mail system error",
    "could not (?:be delivered|send)",
    "not (?:be )?delivered",
    "delivery problem",
    "postmaster notify",
    "nondeliverable",
    "non[- ]delivery",
    "unzustellbar",
    "nicht zustellbar",
    "non remis",
    "non distribuable",
    "non recapitabile",
    "mancata consegna",
    "no entregado",
    "no se puede entregar",
    "onbestelbaar",
    "niet bezorgd",
    "n[ãa]o (?:pode ser )?entregue",
)

# Delivery failure in the body of a non-standard bounce (qmail, Exim, Sendmail, ...).
BOUNCE_BODY = (
    "(?:could|can)(?:n't| ?not) be delivered",
    "couldn't be delivered",
    "wasn't able to deliver",
    "was not delivered",
    "wasn't delivered",
    "(?:delivery|deliver) to the following (?:recipients?|addresses?) (?:failed|was unsuccessful)",
    "following (?:address|recipient)(?:\\(es\\)|\\(s\\)|es|s)?"
    " (?:failed|had permanent fatal errors)",
    "permanent (?:fatal )?errors?",
    "undeliverable",
    "delivery (?:has )?failed",
    "user unknown",
    "unknown user",
    "no such (?:user|mailbox|recipient)",
    "mailbox (?:unavailable|not found|full|is full)",
    "address not found",
    "recipient address rejected",
    "message (?:could not|was not|wasn't) (?:be )?(?:delivered|sent)",
    "returned to sender",
    "notificationtype\\W{1,6}bounce",
    "(?:you are )?not a member of",
    "(?:message|mail|recipient|sender) (?:was )?(?:rejected|refused|blocked)",
    "nicht zugestellt",
    "n'a pas pu [êe]tre (?:remis|distribu[ée])",
    "no (?:se )?(?:ha )?podido (?:ser )?entregar",
    "non [èe] stato (?:possibile )?(?:consegna|recapita)",
    "kan niet worden bezorgd",
    "n[ãa]o (?:p[ôo]de|foi poss[íi]vel) (?:ser )?entreg",
)

# "Still trying": a transient delay notice is not a failure (RFC 3464 Action: delayed).
DELAY = (
    "delivery status notification \\(delay\\)",
    "delay(?:ed)? (?:mail|message|delivery)",
    "(?:delivery|message) (?:has been |is )?delayed",
    "warning[:-]+\\s*(?:could not send|message .* delayed)",
    "will (?:continue to )?(?:be )?retr(?:y|ied)",
    "still (?:trying|retrying)",
    "has not yet been delivered",
    "not been delivered for .* (?:hours|days)",
    "zustellung verz[öo]gert",
    "remise diff[ée]r[ée]e",
    "entrega retrasada",
    "consegna ritardata",
    "vertraagd",
)

# ARF (RFC 5965) and read receipts (RFC 8098) are reports, not replies.
REPORT_SUBJECT = (
    "abuse report",
    "complaint about message",
    "feedback report",
    "read:",
    "read receipt",
    "gelesen:",
    "lu :",
    "le[íi]do:",
)

AUTO_SUBJECT_RE = compile_phrases(AUTO_SUBJECT, anchored=True)
ABSENCE_RE = compile_phrases(ABSENCE)
_ABSENCE_SUBJECT_ONLY = ("ooo", "urlaub", "vacaciones", "ferie", "vakantie")
ABSENCE_SUBJECT_RE = compile_phrases((*ABSENCE, *_ABSENCE_SUBJECT_ONLY))
AUTOMATION_BODY_RE = compile_phrases(AUTOMATION_BODY)
ACK_RE = compile_phrases(ACK)
BOUNCE_SUBJECT_RE = compile_phrases(BOUNCE_SUBJECT)
BOUNCE_BODY_RE = compile_phrases(BOUNCE_BODY)
DELAY_RE = compile_phrases(DELAY)
REPORT_SUBJECT_RE = compile_phrases(REPORT_SUBJECT, anchored=True)

# A subject that answers: phrases after it are quoted, not the writer's own.
REPLY_PREFIX_RE = re.compile(_ANCHOR + r"(?:re|aw|sv|vs|antw|odp|rif|r|ynt)\s*(?:\[\d+\])?\s*:")
# A subject that forwards: what follows is someone else's subject, passed on.
FORWARD_PREFIX_RE = re.compile(_ANCHOR + r"(?:fw|fwd|wg|tr|rv|enc|doorst|i)\s*(?:\[\d+\])?\s*:\s*")

# Any hint at all, for the cheap header-only pre-filter (`classify.may_be_automatic`).
ANY_SUBJECT_HINT_RE = re.compile(
    rf"{_ANCHOR}(?:{_alternation((*AUTO_SUBJECT, *REPORT_SUBJECT))})"
    rf"|\b(?:{_alternation((*ABSENCE, *_ABSENCE_SUBJECT_ONLY, *BOUNCE_SUBJECT, *DELAY))})(?!\w)"
)
