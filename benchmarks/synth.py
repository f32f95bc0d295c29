"""Synthetic Maildir++ mailboxes for benchmarks: realistic mix and sizes, fast, deterministic.

    make_maildir(Path("/tmp/box"), messages=100_000, seed=1)

The mailbox belongs to `ME` and ends just before `NOW`. Of the messages, about:

* 26% newsletters and notifications in the INBOX (List-Id, no-reply senders, HTML parts),
* 10% sent by me (`.Sent`), most of them in threads with external contacts; half of the
  external threads that end on my message get 1-3 nudges on roughly the default cadence,
* 1% out-of-office auto-replies (Auto-Submitted, several languages, a return date),
* 0.5% bounces (RFC 3464 multipart/report from MAILER-DAEMON),
* 3% junk (`.Junk`): spam, spam reusing a real thread's subject, and a few real replies,
* 0.2% drafts (`.Drafts`), the rest human mail in the INBOX (external and internal threads).

Each prospect organization is active during one deal window (20-150 days) somewhere in the
two years before NOW. Thread sizes are mostly 1-4 messages with a long tail to 30. Header
blocks are 2-4 KB (Received chains, ARC, DKIM) and bodies 1-20 KB (log-uniform). Messages are
written as raw bytes from string templates and slices of pre-built random pools (about 200 µs
of Python per message) by a pool of writer threads, since creating files dominates: 100,000
messages take under a minute. The same (messages, seed) always gives byte-identical files.
"""

from __future__ import annotations

import base64
import email.header
import email.utils
import math
import random
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

VERSION = 3
"""Bump whenever output changes, so cached benchmark mailboxes are regenerated."""
ME_NAME = "Jordan Reyes"
ME = "jordan.reyes@quotaworks.example"
ME_DOMAIN = "quotaworks.example"
NOW = "2026-11-20T15:00:00+00:00"
NOW_TS = int(datetime.fromisoformat(NOW).timestamp())
SPAN_SECONDS = 730 * 86_400
FOLDERS = ("", ".Sent", ".Junk", ".Drafts")

SHARE_NEWSLETTER = 0.26
SHARE_JUNK = 0.03
SHARE_DRAFTS = 0.002
P_ME_FIRST_EXTERNAL = 0.27
P_ME_FIRST_INTERNAL = 0.3
P_ME_LATER = 0.035
P_OOO_AFTER_SENT = 0.15
P_BOUNCE_AFTER_SENT = 0.085
P_EXTERNAL_THREAD = 0.7
P_CHASE = 0.5
"""When an external thread ends on my message: the chance that I send follow-ups."""
CHASE_GAPS_DAYS = (5, 10, 20)
"""Roughly the default cadence (3, 7, 14 business days) in calendar days."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIRST = _words(
    "Kathy Marco Helen Tom Aisha Raj Lee Mia Priya Dana Omar Nina Carlos Sofia Liam Emma Noah "
    "Olivia Lucas Ava Ethan Chloe Mateo Zoe Hiro Yuki Wei Fatima Ahmed Elena Ivan Anya Pedro "
    "Lucia Tariq Grace Owen Ruth Felix Ines"
)
_FIRST_UTF8 = ("Jürgen", "José", "Søren", "François", "Zoë", "Łukasz", "Åsa", "Renée")
_LAST = _words(
    "Lopez Rossi Park Baker Khan Patel Chen Jones Nair White Haddad Alvarez Mendes Garcia "
    "Smith Müller Schmidt Dubois Martin Kowalski Tanaka Sato Wang Novak Silva Costa Berg "
    "Jensen Okafor Mensah Murphy Walsh Fischer Weber Moreau Ricci Kim Singh"
)
_ORG_A = _words(
    "north south blue red iron cedar maple summit harbor river stone bright clear swift "
    "prime alpine coastal urban metro pioneer"
)
_ORG_B = _words(
    "works labs systems logistics foods retail health capital energy media partners "
    "industries analytics freight design bank insurance motors"
)
_SUBJECTS = (
    "Proposal for {org}",
    "Pricing for {n} seats",
    "Demo follow-up: {org}",
    "Integration plan: {org}",
    "Renewal quote {year}",
    "Security questionnaire - {org}",
    "Pilot scope for {org}",
    "Contract redlines ({org})",
    "Intro: {org} x Quotaworks",
    "Onboarding timeline",
    "Next steps after our call",
    "Question about SSO",
    "Invoice {n} and PO number",
    "Reference customers in {industry}",
    "Data processing agreement",
    "Angebot für {org}",
    "Proposition commerciale - {org}",
)
_INTERNAL_SUBJECTS = (
    "Pipeline review",
    "Forecast call notes",
    "Discount approval for {org}",
    "Deal desk: {org}",
    "Team offsite",
    "Q{q} targets",
    "Help with {org} security review",
)
_WORDS = _words(
    "the a to of and for in on with we our your team proposal pricing seats contract pilot "
    "integration rollout timeline security review renewal discount quarter budget approval "
    "demo call meeting next steps follow up question please thanks regards data mailbox "
    "draft reply customers onboarding support training license annual monthly invoice "
    "procurement legal signature deadline week Monday Tuesday Thursday Friday forecast "
    "pipeline opportunity stakeholder champion decision scope success metrics adoption"
)
_OOO = (
    (
        "Automatic reply: ",
        "en",
        "Thank you for your email. I am out of the office until {long} with limited access\n"
        "to email. For urgent matters please contact our office.\n",
    ),
    (
        "Abwesenheitsnotiz: ",
        "de",
        "Vielen Dank für Ihre Nachricht. Ich bin bis zum {dmy} nicht im Büro.\n"
        "In dringenden Fällen wenden Sie sich bitte an das Sekretariat.\n",
    ),
    (
        "Réponse automatique : ",
        "fr",
        "Merci pour votre message. Je suis absent du bureau jusqu'au {dmy} inclus.\n"
        "Pour toute urgence, merci de contacter le standard.\n",
    ),
    (
        "Respuesta automática: ",
        "es",
        "Gracias por su mensaje. Estaré fuera de la oficina hasta el {dmy}.\n",
    ),
    (
        "Out of Office: ",
        "en",
        "I'm currently away and will be back on {us}. I'll reply when I return.\n",
    ),
)


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    header: str
    """The encoded From/To value, e.g. `Kathy Lopez <kathy@x.example>` (RFC 2047 if needed)."""
    offset: int
    """UTC offset in minutes, used for the Date header."""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Org:
    """A prospect company, active (writing, being written to) during one deal window."""

    name: str
    people: list[Person]
    start: int
    length: int


@dataclass(slots=True)
class Thread:
    subject: str
    """Encoded subject of the first message."""
    contact: Person
    ids: list[str] = field(default_factory=list)
    last_ts: int = 0
    mine: bool = False
    last_mine: bool = False


def rfc_date(ts: int, offset: int) -> str:
    t = time.gmtime(ts + offset * 60)
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{hours:02d}{minutes:02d}"
    )


def encode_subject(text: str) -> str:
    return text if text.isascii() else email.header.Header(text, "utf-8").encode()


def _size_weights() -> tuple[list[int], list[float]]:
    """Thread sizes 1-30: 90% in 1-4, a power-law tail to 30."""
    sizes = list(range(1, 31))
    head = [0.45, 0.25, 0.13, 0.07]
    tail = [k**-1.6 for k in range(5, 31)]
    scale = 0.10 / sum(tail)
    weights = head + [w * scale for w in tail]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return sizes, cumulative


class Pools:
    """Pre-built random text, HTML and base64 lines; messages take slices of them."""

    def __init__(self, rng: random.Random) -> None:
        self.text = [self._line(rng) for _ in range(20_000)]
        self.quoted = ["> " + line for line in self.text]
        self.html = [f'<p style=3D"margin:0 0 12px">{line}</p>' for line in self.text]
        raw = base64.b64encode(rng.randbytes(72 * 3 // 4 * 4096)).decode()
        self.b64 = [raw[i : i + 72] for i in range(0, len(raw) - 72, 72)]

    @staticmethod
    def _line(rng: random.Random) -> str:
        words = rng.choices(_WORDS, k=rng.randint(9, 13))
        return " ".join(words).capitalize() + "."


class Writer:
    """Writes files from a thread pool: creating a file is latency-bound on many disks (about
    1 ms each on a VM), so overlapping creations is what keeps generation fast."""

    def __init__(self, workers: int = 24, backlog: int = 4096) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth-write")
        self.pending: deque[Future[int]] = deque()
        self.backlog = backlog

    def put(self, path: Path, data: bytes) -> None:
        self.pending.append(self.pool.submit(path.write_bytes, data))
        while len(self.pending) > self.backlog:
            self.pending.popleft().result()

    def close(self) -> None:
        while self.pending:
            self.pending.popleft().result()
        self.pool.shutdown()


class Synth:
    """Writes one mailbox; every random choice comes from one seeded generator."""

    def __init__(self, root: Path, seed: int, writer: Writer, orgs: int) -> None:
        self.root = root
        self.writer = writer
        self.rng = random.Random(seed)
        self.pools = Pools(self.rng)
        self.sizes, self.cum = _size_weights()
        self.index = 0
        self.counts = dict.fromkeys(FOLDERS, 0)
        self.me = Person(ME, f"{ME_NAME} <{ME}>", 0)
        self.colleagues = [self._person(ME_DOMAIN, 0) for _ in range(40)]
        self.orgs = [self._org(number) for number in range(orgs)]
        self.threads: list[Thread] = []
        self.strangers = [self._stranger() for _ in range(200)]

    # --- people -------------------------------------------------------------------------

    def _person(self, domain: str, offset: int) -> Person:
        rng = self.rng
        first = rng.choice(_FIRST_UTF8) if rng.random() < 0.08 else rng.choice(_FIRST)
        last = rng.choice(_LAST)
        local = f"{first}.{last}".lower().encode("ascii", "ignore").decode()
        address = f"{local}@{domain}"
        return Person(
            address, email.utils.formataddr((f"{first} {last}", address), "utf-8"), offset
        )

    def _org(self, number: int) -> Org:
        rng = self.rng
        name = f"{rng.choice(_ORG_A)}{rng.choice(_ORG_B)}{number}"
        offset = rng.choice((-480, -420, -360, -300, -300, 0, 0, 60, 60, 60, 120, 330, 540))
        people = [self._person(f"{name}.example", offset) for _ in range(rng.randint(1, 4))]
        length = rng.randint(20, 150) * 86_400
        return Org(name, people, NOW_TS - rng.randrange(SPAN_SECONDS), length)

    def _stranger(self) -> Person:
        rng = self.rng
        domain = f"{rng.choice(_ORG_A)}-{rng.choice(('leads', 'deals', 'promo', 'win'))}.example"
        address = f"{rng.choice(('sales', 'info', 'offers', 'team'))}{rng.randint(1, 999)}@{domain}"
        return Person(address, f"{rng.choice(_FIRST)} <{address}>", 0)

    # --- writing ------------------------------------------------------------------------

    def write(self, folder: str, ts: int, raw: bytes, *, draft: bool = False) -> None:
        unread = folder == "" and ts > NOW_TS - 3 * 86_400
        unique = f"{ts}.M{self.index}P7000.synth"
        sub, name = ("new", unique) if unread else ("cur", unique + (":2,DS" if draft else ":2,S"))
        self.writer.put(self.root / folder / sub / name, raw)
        self.index += 1
        self.counts[folder] += 1

    def message_id(self, ts: int, domain: str) -> str:
        if domain == ME_DOMAIN or self.rng.random() < 0.5:
            return f"<{ts:x}.{self.index:06x}.{self.rng.getrandbits(32):08x}@mail.{domain}>"
        return f"<CA+{self.b64_token(32)}{self.index:07x}@mail.gmail.com>"  # unique by index

    def b64_token(self, n: int) -> str:
        line = self.rng.choice(self.pools.b64)
        return line[:n].replace("/", "_").replace("+", "-")

    def b64_block(self, lines: int) -> str:
        start = self.rng.randrange(len(self.pools.b64) - lines)
        return "\n\t".join(self.pools.b64[start : start + lines])

    def body_size(self) -> int:
        """Log-uniform between 1 and 20 KB."""
        return int(math.exp(self.rng.uniform(math.log(1_000), math.log(20_000))))

    def body_lines(self, size: int, quoted: bool = False) -> str:
        pool = self.pools.quoted if quoted else self.pools.text
        count = max(1, size // 72)
        start = self.rng.randrange(len(pool) - count)
        return "\n".join(pool[start : start + count])

    # --- header blocks ------------------------------------------------------------------

    def transport_headers(self, sender: Person, ts: int) -> str:
        """Return-Path, a Received chain, ARC and DKIM: what an MX adds (about 2-3 KB)."""
        rng = self.rng
        hops = [
            f"Received: from mail-{rng.choice(('sor', 'ej1', 'pf1'))}-f{rng.randint(10, 99)}."
            f"{sender.domain} (mail.{sender.domain} [198.51.100.{rng.randint(1, 254)}])\n"
            f"\tby mx{rng.randint(1, 4)}.{ME_DOMAIN} with ESMTPS id {self.b64_token(12)}\n"
            f"\tfor <{ME}>; {rfc_date(ts + 2 + i, 0)}"
            for i in range(rng.randint(2, 4))
        ]
        return (
            f"Return-Path: <{sender.email}>\n"
            f"Delivered-To: {ME}\n"
            + "\n".join(hops)
            + f"\nARC-Seal: i=1; a=rsa-sha256; t={ts}; cv=none; d={ME_DOMAIN}; s=arc-2024;\n"
            f"\tb={self.b64_block(5)}\n"
            f"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d={ME_DOMAIN};\n"
            f"\ts=arc-2024; h=to:subject:message-id:date:from:mime-version:dkim-signature;\n"
            f"\tbh={self.b64_token(43)}=;\n\tb={self.b64_block(5)}\n"
            f"ARC-Authentication-Results: i=1; mx1.{ME_DOMAIN};\n"
            f"\tdkim=pass header.i=@{sender.domain} header.s=selector1;\n"
            f"\tspf=pass smtp.mailfrom={sender.email};\n"
            f"\tdmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from={sender.domain}\n"
            f"Authentication-Results: mx1.{ME_DOMAIN}; dkim=pass header.d={sender.domain};\n"
            f"\tspf=pass smtp.mailfrom={sender.domain}; dmarc=pass header.from={sender.domain}\n"
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender.domain};\n"
            f"\ts=selector1; t={ts}; h=from:to:subject:date:message-id:mime-version;\n"
            f"\tbh={self.b64_token(43)}=;\n\tb={self.b64_block(5)}\n"
            f"X-MS-Exchange-Organization-SCL: {rng.randint(-1, 1)}\n"
            f"X-Forefront-Antispam-Report: CIP:198.51.100.{rng.randint(1, 254)};CTRY:;"
            f"LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:mail.{sender.domain};PTR:;CAT:NONE;\n"
        )

    def envelope(
        self,
        sender: Person,
        to: list[Person],
        subject: str,
        ts: int,
        msgid: str,
        refs: list[str],
        cc: list[Person] | None = None,
    ) -> str:
        lines = [
            f"From: {sender.header}",
            "To: " + ", ".join(p.header for p in to),
        ]
        if cc:
            lines.append("Cc: " + ", ".join(p.header for p in cc))
        lines += [f"Subject: {subject}", f"Date: {rfc_date(ts, sender.offset)}"]
        lines.append(f"Message-ID: {msgid}")
        if refs:
            lines.append(f"In-Reply-To: {refs[-1]}")
            kept = refs if len(refs) <= 12 else refs[:1] + refs[-11:]  # keep the root
            lines.append("References: " + "\n ".join(kept))
        lines.append("MIME-Version: 1.0")
        return "\n".join(lines) + "\n"

    # --- message kinds ------------------------------------------------------------------

    def human_message(
        self,
        thread: Thread,
        sender: Person,
        to: list[Person],
        ts: int,
        cc: list[Person] | None = None,
    ) -> None:
        mine = sender is self.me
        msgid = self.message_id(ts, sender.domain)
        subject = thread.subject if not thread.ids else "Re: " + thread.subject
        head = "" if mine else self.transport_headers(sender, ts)
        head += self.envelope(sender, to, subject, ts, msgid, thread.ids, cc)
        if mine:
            head += "User-Agent: Mozilla Thunderbird\n"
        size = self.body_size()
        if thread.ids:  # a reply: a short new part over the quoted conversation
            own = int(size * self.rng.uniform(0.1, 0.5))
            body = self.body_lines(own)
            body += f"\n\nOn {rfc_date(thread.last_ts, 0)}, someone wrote:\n"
            body += self.body_lines(size - own, quoted=True)
        else:
            body = self.body_lines(size)
        raw = (
            head + 'Content-Type: text/plain; charset="UTF-8"\n'
            "Content-Transfer-Encoding: 8bit\n\n" + body + "\n-- \nSent from my laptop\n"
        )
        self.write(".Sent" if mine else "", ts, raw.encode())
        thread.ids.append(msgid)
        thread.last_ts = ts
        thread.mine = thread.mine or mine
        thread.last_mine = mine

    def out_of_office(self, thread: Thread, ts: int) -> None:
        prefix, lang, text = self.rng.choice(_OOO)
        back = time.gmtime(ts + self.rng.randint(3, 20) * 86_400)
        words = {
            "long": time.strftime("%A, %B %d, %Y", back),
            "dmy": f"{back.tm_mday:02d}.{back.tm_mon:02d}.{back.tm_year}",
            "us": f"{back.tm_mon}/{back.tm_mday}/{back.tm_year}",
        }
        sender = thread.contact
        msgid = self.message_id(ts, sender.domain)
        head = self.transport_headers(sender, ts) + self.envelope(
            sender, [self.me], encode_subject(prefix) + thread.subject, ts, msgid, thread.ids
        )
        raw = (
            head + "Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n"
            f"Content-Language: {lang}\n"
            'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: 8bit\n\n'
            + text.format(**words)
        )
        self.write("", ts, raw.encode())

    def bounce(self, thread: Thread, ts: int, original_id: str) -> None:
        rcpt = thread.contact.email
        boundary = f"{ts}.{self.index}/mx1.{ME_DOMAIN}"
        stamp = rfc_date(ts, 0)
        raw = (
            f"Return-Path: <>\nReceived: by mx1.{ME_DOMAIN} (Postfix) id {self.b64_token(10)};"
            f" {stamp}\nDate: {stamp}\nFrom: MAILER-DAEMON@mx1.{ME_DOMAIN} (Mail Delivery System)"
            f"\nSubject: Undelivered Mail Returned to Sender\nTo: {ME}\n"
            "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"'
            f"\nMessage-Id: <{ts}.{self.index}@mx1.{ME_DOMAIN}>\n\n"
            f"This is a MIME-encapsulated message.\n\n--{boundary}\n"
            "Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
            f"This is the mail system at host mx1.{ME_DOMAIN}.\n\nI'm sorry to have to inform you"
            " that your message could not\nbe delivered to one or more recipients.\n\n"
            f"<{rcpt}>: host mx.{thread.contact.domain}[203.0.113.9] said: 550 5.1.1\n"
            "    User unknown (in reply to RCPT TO command)\n\n"
            f"--{boundary}\nContent-Description: Delivery report\n"
            f"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx1.{ME_DOMAIN}\n"
            f"Arrival-Date: {stamp}\n\nFinal-Recipient: rfc822; {rcpt}\n"
            f"Original-Recipient: rfc822;{rcpt}\nAction: failed\nStatus: 5.1.1\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: User unknown\n\n"
            f"--{boundary}\nContent-Description: Undelivered Message Headers\n"
            f"Content-Type: text/rfc822-headers\n\nFrom: {self.me.header}\nTo: {rcpt}\n"
            f"Subject: Re: {thread.subject}\nMessage-ID: {original_id}\n\n--{boundary}--\n"
        )
        self.write("", ts, raw.encode())

    def newsletter(self) -> None:
        rng = self.rng
        org = rng.choice(self.orgs).name
        ts = NOW_TS - rng.randrange(SPAN_SECONDS)
        local = rng.choice(("no-reply", "newsletter", "notifications", "noreply", "updates"))
        sender = Person(f"{local}@{org}.example", f"{org.title()} <{local}@{org}.example>", 0)
        boundary = f"=_{ts:x}{self.index:x}"
        head = self.transport_headers(sender, ts) + self.envelope(
            sender,
            [self.me],
            f"{org.title()} {rng.choice(('weekly digest', 'product update', 'invoice'))}",
            ts,
            self.message_id(ts, sender.domain),
            [],
        )
        start = rng.randrange(len(self.pools.html) - 120)
        html = "\n".join(self.pools.html[start : start + rng.randint(10, 120)])
        raw = (
            head + f"List-Id: {org} news <news.{org}.example>\n"
            f"List-Unsubscribe: <https://{org}.example/u/{self.b64_token(16)}>\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\nPrecedence: bulk\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
            f'--{boundary}\nContent-Type: text/plain; charset="UTF-8"\n\n'
            f"{self.body_lines(self.body_size())}\n"
            f'--{boundary}\nContent-Type: text/html; charset="UTF-8"\n'
            "Content-Transfer-Encoding: quoted-printable\n\n"
            f"<html><body>\n{html}\n</body></html>\n--{boundary}--\n"
        )
        self.write("", ts, raw.encode())

    def junk(self) -> None:
        rng = self.rng
        roll = rng.random()
        mine = [t for t in self.threads[-2000:] if t.mine] or self.threads
        if roll < 0.08 and mine:  # a real reply that the filter misjudged
            thread = rng.choice(mine)
            ts = min(NOW_TS - 60, thread.last_ts + rng.randint(3_600, 5 * 86_400))
            self.junk_message(thread.contact, "Re: " + thread.subject, ts, thread.ids)
            return
        stranger = rng.choice(self.strangers)
        ts = NOW_TS - rng.randrange(SPAN_SECONDS)
        if roll < 0.35 and self.threads:  # spam reusing a real thread's subject
            subject = "Re: " + rng.choice(self.threads).subject
        else:
            subject = rng.choice(("You won!", "Verify your account", "Cheap B2B leads", "Hi"))
        self.junk_message(stranger, subject, ts, [])

    def junk_message(self, sender: Person, subject: str, ts: int, refs: list[str]) -> None:
        head = self.transport_headers(sender, ts) + self.envelope(
            sender, [self.me], subject, ts, self.message_id(ts, sender.domain), refs
        )
        raw = (
            head + "X-Spam-Flag: YES\nX-Spam-Score: 7.9\n"
            'Content-Type: text/plain; charset="UTF-8"\n\n'
            + self.body_lines(self.body_size())
            + "\n"
        )
        self.write(".Junk", ts, raw.encode())

    def draft(self) -> None:
        if not self.threads:
            return
        thread = self.rng.choice(self.threads)
        ts = min(NOW_TS - 60, thread.last_ts + self.rng.randint(600, 86_400))
        head = self.envelope(
            self.me,
            [thread.contact],
            "Re: " + thread.subject,
            ts,
            self.message_id(ts, ME_DOMAIN),
            thread.ids,
        )
        raw = (
            head
            + 'Content-Type: text/plain; charset="UTF-8"\n\n'
            + self.body_lines(self.body_size())
            + "\n"
        )
        self.write(".Drafts", ts, raw.encode(), draft=True)

    # --- threads ------------------------------------------------------------------------

    def new_thread(self) -> tuple[Thread, list[Person], bool, int]:
        """A thread, its Cc, whether it is external, and its start time."""
        rng = self.rng
        external = rng.random() < P_EXTERNAL_THREAD
        org = rng.choice(self.orgs)
        if external:
            people = rng.sample(org.people, len(org.people))
            contact, others = people[0], people[1:]
            template = rng.choice(_SUBJECTS)
            start = min(NOW_TS - 60, org.start + rng.randrange(org.length))
        else:
            contact, others = rng.choice(self.colleagues), []
            template = rng.choice(_INTERNAL_SUBJECTS)
            start = NOW_TS - rng.randrange(SPAN_SECONDS)
        name = org.name.title()
        subject = template.format(
            org=name, n=rng.randint(5, 200), year=2026, q=rng.randint(1, 4), industry=name
        )
        thread = Thread(encode_subject(subject), contact)
        return thread, others[: rng.randint(0, 1)], external, start

    def human_thread(self, budget: int) -> int:
        """One conversation of up to `budget` messages; returns how many were written."""
        rng = self.rng
        thread, cc, external, ts = self.new_thread()
        size = rng.choices(self.sizes, cum_weights=self.cum)[0]
        p_first = P_ME_FIRST_EXTERNAL if external else P_ME_FIRST_INTERNAL
        written = 0
        for position in range(size):
            if written >= budget or ts >= NOW_TS:
                break
            mine = rng.random() < (p_first if position == 0 else P_ME_LATER)
            sender, to = (self.me, thread.contact) if mine else (thread.contact, self.me)
            self.human_message(thread, sender, [to], ts, cc)
            written += 1
            if mine and external and written < budget:
                written += self.auto_answer(thread, ts)
            ts += int(rng.expovariate(1 / 90_000)) + 300
        if external and thread.last_mine and rng.random() < P_CHASE:
            written += self.chase(thread, budget - written)
        if thread.ids:
            self.threads.append(thread)
        return written

    def chase(self, thread: Thread, budget: int) -> int:
        """Nudges on my own unanswered message, roughly on the default cadence."""
        written = 0
        ts = thread.last_ts
        for gap in CHASE_GAPS_DAYS[: self.rng.randint(1, len(CHASE_GAPS_DAYS))]:
            ts += gap * 86_400 + self.rng.randint(-7_200, 7_200)
            if written >= budget or ts >= NOW_TS:
                break
            self.human_message(thread, self.me, [thread.contact], ts)
            written += 1
        return written

    def auto_answer(self, thread: Thread, ts: int) -> int:
        roll = self.rng.random()
        if roll < P_OOO_AFTER_SENT:
            self.out_of_office(thread, ts + self.rng.randint(2, 90))
            return 1
        if roll < P_OOO_AFTER_SENT + P_BOUNCE_AFTER_SENT:
            self.bounce(thread, ts + self.rng.randint(2, 30), thread.ids[-1])
            return 1
        return 0


def _prepare(root: Path) -> None:
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)


def make_maildir(root: Path, messages: int, seed: int = 1) -> dict[str, int]:
    """Write a synthetic Maildir++ of `messages` messages under `root`; counts per folder."""
    _prepare(root)
    writer = Writer()
    try:
        synth = Synth(root, seed, writer, orgs=max(20, messages // 20))
        _generate(synth, messages)
    finally:
        writer.close()
    return {name or "INBOX": count for name, count in synth.counts.items()}


def _generate(synth: Synth, messages: int) -> None:
    newsletters = round(messages * SHARE_NEWSLETTER)
    junk = round(messages * SHARE_JUNK)
    drafts = round(messages * SHARE_DRAFTS)
    human = messages - newsletters - junk - drafts
    while human > 0:
        human -= synth.human_thread(human)
    for _ in range(newsletters):
        synth.newsletter()
    for _ in range(junk):
        synth.junk()
    for _ in range(drafts):
        synth.draft()


def cached_maildir(name: str, messages: int) -> Path:
    """/tmp/<name>-<messages>, generated once: a sibling `.complete` file marks a finished
    mailbox, so an interrupted generation is redone rather than measured."""
    root = Path(tempfile.gettempdir()) / f"{name}-{messages}"
    done = root.with_name(root.name + ".complete")
    if not done.exists():
        print(f"[synth] generating {messages:,} messages in {root}", file=sys.stderr, flush=True)
        make_maildir(root, messages)
        done.write_text("ok")
    return root
