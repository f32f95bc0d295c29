"""Write the example mailbox: Alex Morgan's Maildir++ tree and calendar, as of a fixed instant.

    .venv/bin/python examples/make_mailbox.py            # rewrites examples/mailbox/

The instant is now = 2026-11-20T15:00:00+00:00 (a Friday; Europe/London is on GMT, so local
time equals UTC). Every conversation is built to land in one known state under the rules of
docs/rules.md; `examples/README.md` explains each one and `examples/expected.json` lists them.

Output is deterministic: Message-IDs, file names and MIME boundaries derive from the message
dates and a running index, so regenerating gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

ROOT = Path(__file__).resolve().parent / "mailbox"
FOLDERS = ("", ".Sent", ".Junk", ".Drafts")
PID = 4242  # fixed "process id" in Maildir file names, for byte-identical output
HOST = "ghostwatch"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    tz: str
    signature: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def header(self) -> Address:
        local, _, domain = self.email.partition("@")
        return Address(self.name, local, domain)


ALEX = Person(
    "Alex Morgan",
    "alex@ghostwatch.example",
    "Europe/London",
    "Alex Morgan\nAccount Executive, Ghostwatch\n+44 20 7946 0321 | ghostwatch.example",
)
SAM = Person("Sam Okafor", "sam@ghostwatch.example", "Europe/London", "Sam\nSolutions Engineer")
KATHY = Person(
    "Kathy Lopez",
    "kathy.lopez@contoso.example",
    "America/New_York",
    "Kathy Lopez\nVP Sales Operations | Contoso\n(212) 555-0147",
)
MARCO = Person(
    "Marco Rossi", "marco.rossi@fourthcoffee.example", "Europe/Rome", "Marco Rossi\nFourth Coffee"
)
HELEN = Person(
    "Helen Park",
    "helen.park@wideworldimporters.example",
    "Europe/London",
    "Helen Park\nHead of Revenue Operations\nWide World Importers",
)
TOM = Person(
    "Tom Baker",
    "tom.baker@proseware.example",
    "America/Chicago",
    "Tom Baker\nProcurement, Proseware",
)
AISHA = Person(
    "Aisha Khan",
    "aisha.khan@relecloud.example",
    "America/New_York",
    "Aisha Khan\nIT Security Lead | Relecloud",
)
RAJ = Person(
    "Raj Patel", "raj.patel@tailspin.example", "Asia/Kolkata", "Raj Patel\nCRM Architect, Tailspin"
)
JUERGEN = Person(
    "Jürgen Weiß",
    "juergen.weiss@fabrikam.example",
    "Europe/Berlin",
    "Jürgen Weiß\nLeiter Vertrieb | Fabrikam GmbH",
)
LEE = Person("Lee Chen", "lee.chen@northwind.example", "America/Los_Angeles")
MIA = Person(
    "Mia Jones",
    "mia.jones@alpineskihouse.example",
    "America/Denver",
    "Mia Jones\nSales Manager, Alpine Ski House",
)
PRIYA = Person(
    "Priya Nair",
    "priya.nair@adatum.example",
    "Asia/Kolkata",
    "Priya Nair\nDirector, Inside Sales | Adatum",
)
DANA = Person(
    "Dana White",
    "dana.white@litware.example",
    "America/New_York",
    "Dana White\nCOO, Litware Inc.",
)
OMAR = Person(
    "Omar Haddad",
    "omar.haddad@woodgrovebank.example",
    "America/New_York",
    "Omar Haddad\nDigital Channels | Woodgrove Bank",
)
NINA = Person(
    "Nina Alvarez",
    "nina.alvarez@tailwindtraders.example",
    "America/New_York",
    "Nina Alvarez\nTailwind Traders",
)
CARLOS = Person("Carlos Mendes", "carlos.mendes@adventure-works.example", "Europe/Lisbon")
SPAMMER = Person("Growth Deals Team", "deals@leadgen-blast.example", "UTC")
PHARMA = Person("Account Security", "security@verify-acct.example", "UTC")
NEWSLETTER = Person("SaaS Sales Weekly", "newsletter@saassalesweekly.example", "UTC")
CRM = Person("PipeTrack", "no-reply@pipetrack.example", "UTC")


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]'."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


@dataclass
class Mail:
    """One message of the example mailbox, before it becomes bytes."""

    sender: Person
    to: list[Person]
    subject: str
    when: datetime
    body: str
    folder: str = ""
    cc: list[Person] = field(default_factory=list)
    parent: Mail | None = None
    extra: dict[str, str] = field(default_factory=dict)
    unread: bool = False
    quote: bool = True
    signed: bool = True
    message_id: str = ""
    references: list[str] = field(default_factory=list)


def reply(
    parent: Mail,
    sender: Person,
    when: str,
    body: str,
    *,
    to: list[Person] | None = None,
    folder: str | None = None,
    extra: dict[str, str] | None = None,
    unread: bool = False,
    quote: bool = True,
) -> Mail:
    """A reply to `parent`: Re: subject, threading headers and Gmail-style quoted text."""
    if to is None:
        to = [parent.sender if parent.sender != sender else parent.to[0]]
    if folder is None:
        folder = ".Sent" if sender == ALEX else ""
    subject = (
        parent.subject if parent.subject.lower().startswith("re:") else "Re: " + parent.subject
    )
    return Mail(
        sender,
        to,
        subject,
        at(when),
        body,
        folder,
        parent=parent,
        extra=extra or {},
        unread=unread,
        quote=quote,
    )


def local_time(person: Person, when: datetime) -> datetime:
    return when.astimezone(ZoneInfo(person.tz))


def attribution(mail: Mail, reader: Person) -> str:
    when = local_time(reader, mail.when)
    stamp = when.strftime("%a, %b %-d, %Y at %-I:%M %p")
    return f"On {stamp} {mail.sender.name} <{mail.sender.email}> wrote:"


def full_text(mail: Mail) -> str:
    """Body + signature + the quoted parent (recursively), as the client would write it."""
    text = textwrap.dedent(mail.body).strip() + "\n"
    if mail.sender.signature and mail.signed:
        text += "\n-- \n" + mail.sender.signature + "\n"
    if mail.parent is not None and mail.quote:
        quoted = "\n".join(("> " + line).rstrip() for line in full_text(mail.parent).splitlines())
        text += "\n" + attribution(mail.parent, mail.sender) + "\n" + quoted + "\n"
    return text


def message_id(mail: Mail, index: int) -> str:
    digest = hashlib.sha1(f"{index}|{mail.subject}|{mail.when}".encode()).hexdigest()[:12]
    return f"<{mail.when:%Y%m%d%H%M%S}.{digest.upper()}@mail.{mail.sender.domain}>"


def received(mail: Mail, index: int) -> str:
    """An inbound Received: line, as our MX would add it (TEST-NET addresses)."""
    queue = hashlib.sha1(f"q{index}".encode()).hexdigest()[:10].upper()
    stamp = format_datetime(mail.when + timedelta(seconds=2))
    return (
        f"from mail.{mail.sender.domain} (mail.{mail.sender.domain} [203.0.113.{10 + index}]) "
        f"by mx1.ghostwatch.example (Postfix) with ESMTPS id {queue} "
        f"for <alex@ghostwatch.example>; {stamp}"
    )


def to_email(mail: Mail, index: int) -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    if mail.folder not in (".Sent", ".Drafts"):
        msg["Return-Path"] = f"<{mail.sender.email}>"
        msg["Received"] = received(mail, index)
    msg["Date"] = format_datetime(local_time(mail.sender, mail.when))
    msg["From"] = mail.sender.header()
    msg["To"] = [p.header() for p in mail.to]
    if mail.cc:
        msg["Cc"] = [p.header() for p in mail.cc]
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    if mail.parent is not None:
        msg["In-Reply-To"] = mail.parent.message_id
        msg["References"] = " ".join(mail.references)
    msg.set_content(full_text(mail), charset="utf-8")
    for name, value in mail.extra.items():  # after set_content, which resets Content-*
        msg[name] = value
    return msg


# --- the conversations (see examples/README.md for the state each one must land in) ---


def contoso() -> list[Mail]:
    """due / nudge / attempt 0 — proposal sent Mon 16 Nov 10:00, due Thu 19 Nov 10:00."""
    first = Mail(
        ALEX,
        [KATHY],
        "Proposal: Ghostwatch for Contoso",
        at("2026-11-13 16:45"),
        """
        Hi Kathy,

        Thanks again for your time on today's demo. As promised, here is a short recap:

        - Your reps lose track of ~30% of open threads after the first proposal.
        - Ghostwatch drafts the follow-up in their own mailbox; nothing is sent without them.
        - Rollout for 40 seats takes about two weeks, Outlook and Gmail both supported.

        I'll send the full proposal with pricing early next week.

        Best,
        """,
        ".Sent",
    )
    kathy = reply(
        first,
        KATHY,
        "2026-11-13 17:30",
        """
        Alex, great session. Please include pricing for 40 seats with annual billing,
        and a line on data residency (we need EU hosting for the London team).

        Thanks!
        """,
    )
    proposal = reply(
        kathy,
        ALEX,
        "2026-11-16 10:00",
        """
        Hi Kathy,

        Attached is the proposal for 40 seats on annual billing (EUR 18,240 / year), with
        EU hosting in Frankfurt for the whole account at no extra cost.

        If it looks right, I can hold this price until the end of the quarter. Happy to
        walk your finance team through it on a 20-minute call.

        Best,
        """,
    )
    return [first, kathy, proposal]


def contoso_spam() -> list[Mail]:
    """A stranger's spam in Junk that shares Contoso's subject: not a reply."""
    return [
        Mail(
            SPAMMER,
            [ALEX],
            "Re: Proposal: Ghostwatch for Contoso",
            at("2026-11-18 03:12"),
            """
            Hello Sir/Madam,

            Close MORE deals this quarter!! We sell 10,000 verified B2B leads for only $99.
            Reply YES to receive the sample list today. Limited offer.

            Unsubscribe: reply STOP
            """,
            ".Junk",
            extra={"X-Spam-Flag": "YES", "X-Spam-Score": "9.7"},
        )
    ]


def fourth_coffee() -> list[Mail]:
    """due / nudge / attempt 1 — first nudge Tue 10 Nov 11:42, second due Thu 19 Nov 11:42."""
    ask = Mail(
        MARCO,
        [ALEX],
        "Pricing for 25 seats",
        at("2026-11-04 08:20"),
        """
        Hello Alex,

        We are evaluating tools for our 25-person sales team in Milan and Turin.
        Could you send me your pricing, and whether you offer monthly billing?

        Grazie,
        """,
    )
    answer = reply(
        ask,
        ALEX,
        "2026-11-05 11:30",
        """
        Hi Marco,

        Thanks for reaching out. For 25 seats:

        - Monthly: EUR 42 per seat
        - Annual: EUR 38 per seat (two months free)

        Both include Outlook and Gmail support and onboarding. Would a 30-minute demo
        for your team leads next week be useful?

        Best,
        """,
    )
    nudge = reply(
        answer,
        ALEX,
        "2026-11-10 11:42",
        """
        Hi Marco,

        Just floating this back to the top of your inbox in case it got buried. Happy to
        put together a quote for monthly billing if that is easier to get approved.

        Best,
        """,
        to=[MARCO],
    )
    return [ask, answer, nudge]


def wide_world() -> list[Mail]:
    """due / breakup / attempt 2 — second nudge Fri 30 Oct 15:00, breakup due Thu 19 Nov 15:00."""
    ask = Mail(
        HELEN,
        [ALEX],
        "Onboarding timeline for Q1",
        at("2026-10-13 13:05"),
        """
        Hi Alex,

        If we signed in December, what would onboarding look like for 60 reps across
        three regions? We would want everyone live before our January kickoff.

        Helen
        """,
    )
    plan = reply(
        ask,
        ALEX,
        "2026-10-14 15:00",
        """
        Hi Helen,

        Very doable. A typical plan for 60 reps:

        Week 1: mailbox connection (admin consent), pilot with 5 reps
        Week 2: regional rollout, EMEA then Americas then APAC
        Week 3: cadence tuning and a 30-minute training per region

        So a mid-December signature gets everyone live by 8 January.

        Best,
        """,
    )
    nudge1 = reply(
        plan,
        ALEX,
        "2026-10-20 09:10",
        """
        Hi Helen,

        Checking in on the onboarding plan below. Would it help if I sent a draft
        project plan your team can edit?

        Best,
        """,
        to=[HELEN],
    )
    nudge2 = reply(
        nudge1,
        ALEX,
        "2026-10-30 15:00",
        """
        Hi Helen,

        I know Q4 is busy. To keep a January go-live realistic we would need to start
        admin consent by early December; shall I pencil in a slot for your IT team?

        Best,
        """,
        to=[HELEN],
    )
    return [ask, plan, nudge1, nudge2]


def proseware() -> list[Mail]:
    """waiting / attempt 0 — quote sent Thu 19 Nov 09:00, first nudge due Tue 24 Nov 09:00."""
    ask = Mail(
        TOM,
        [ALEX],
        "Quote for 2027 renewal",
        at("2026-11-18 15:40"),
        """
        Hi Alex,

        Our subscription renews on January 1. Can you send a quote for 2027 with
        12 seats (we are adding two)? Finance needs it before the end of the month.

        Thanks,
        Tom
        """,
    )
    quote = reply(
        ask,
        ALEX,
        "2026-11-19 09:00",
        """
        Hi Tom,

        Here is the 2027 renewal quote: 12 seats at EUR 38 per seat per month, billed
        annually, total EUR 5,472. Your current rate is locked in for the two new seats.

        Let me know if finance needs a different format.

        Best,
        """,
    )
    return [ask, quote]


def relecloud() -> list[Mail]:
    """replied — Aisha answered in the INBOX after my only message."""
    sent = Mail(
        ALEX,
        [AISHA],
        "Security questionnaire",
        at("2026-11-12 14:00"),
        """
        Hi Aisha,

        Please find our completed security questionnaire attached, along with the
        SOC 2 Type II report summary. Our DPA is available on request.

        Best,
        """,
        ".Sent",
    )
    answer = reply(
        sent,
        AISHA,
        "2026-11-17 15:12",
        """
        Hi Alex,

        Thanks, this is very complete. Our security team is reviewing it this week;
        I'll come back with any follow-up questions by Monday.

        Aisha
        """,
    )
    return [sent, answer]


def tailspin() -> list[Mail]:
    """replied, reply_in_junk — Raj's reply (In-Reply-To set) was filed in Junk."""
    sent = Mail(
        ALEX,
        [RAJ],
        "Integration plan: Tailspin",
        at("2026-11-10 16:00"),
        """
        Hi Raj,

        Here is the integration plan we discussed:

        1. Read-only connection to your Exchange Online tenant (Graph, Mail.Read).
        2. Drafts written to each rep's own Drafts folder; nothing is sent.
        3. Deal stage synced from your CRM nightly over its REST API.

        Could your team confirm step 3 is acceptable for your security policy?

        Best,
        """,
        ".Sent",
    )
    answer = reply(
        sent,
        RAJ,
        "2026-11-13 04:11",
        """
        Hi Alex,

        Step 3 is fine as long as the API user is read-only. I have shared the
        sandbox credentials with Sam via our portal. Let's target a test next week.

        Regards,
        Raj
        """,
        folder=".Junk",
        extra={"X-Spam-Flag": "YES", "X-Spam-Score": "5.3"},
    )
    return [sent, answer]


def fabrikam() -> list[Mail]:
    """snoozed until 30 Nov — a German out-of-office arrived right after my offer."""
    offer = Mail(
        ALEX,
        [JUERGEN],
        "Angebot: Ghostwatch für Fabrikam",
        at("2026-11-12 10:00"),
        """
        Hallo Herr Weiß,

        vielen Dank für das freundliche Gespräch. Anbei wie besprochen unser Angebot
        für 30 Lizenzen inklusive Hosting in Frankfurt und Onboarding.

        Ich freue mich auf Ihre Rückmeldung.

        Viele Grüße
        """,
        ".Sent",
    )
    ooo = reply(
        offer,
        JUERGEN,
        "2026-11-12 10:00:04",
        """
        Sehr geehrte Damen und Herren,

        vielen Dank für Ihre Nachricht. Ich bin bis zum 30.11.2026 nicht im Büro und
        habe keinen Zugriff auf meine E-Mails. Ihre Nachricht wird nicht weitergeleitet.

        In dringenden Fällen wenden Sie sich bitte an meine Kollegin Anna Schmidt
        (anna.schmidt@fabrikam.example).

        Mit freundlichen Grüßen
        Jürgen Weiß
        """,
        quote=False,
        extra={
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": "de-DE",
        },
    )
    ooo.subject = "Automatische Antwort: " + offer.subject
    ooo.signed = False
    return [offer, ooo]


def northwind() -> list[Mail]:
    """bounced — the only contact's address no longer exists (the DSN is written raw)."""
    return [
        Mail(
            ALEX,
            [LEE],
            "Introduction: Ghostwatch for Northwind",
            at("2026-11-16 09:15"),
            """
            Hi Lee,

            Your colleague mentioned at SaaStr Europe that Northwind's inside-sales team
            is growing fast. Ghostwatch makes sure no prospect conversation quietly dies:
            it notices silence and drafts the follow-up for the rep.

            Would 20 minutes next week be worth it to see whether it fits?

            Best,
            """,
            ".Sent",
        )
    ]


def alpine() -> list[Mail]:
    """let_go / attempt 3 — break-up sent Wed 4 Nov 10:00, let go from Wed 18 Nov 10:00."""
    ask = Mail(
        MIA,
        [ALEX],
        "Trial for the Alpine Ski House sales team",
        at("2026-09-24 16:30"),
        """
        Hi Alex,

        Do you offer a free trial? We'd like to test with 8 reps before the winter
        season starts.

        Mia
        """,
    )
    answer = reply(
        ask,
        ALEX,
        "2026-09-28 10:00",
        """
        Hi Mia,

        Yes: a 30-day trial for up to 10 reps, with onboarding included. I can set it
        up this week; who should receive the admin invitation?

        Best,
        """,
    )
    steps = [
        (
            "2026-10-01 10:00",
            "Hi Mia,\n\nJust checking whether you'd like me to start the trial this week.\n\nBest,",
        ),
        (
            "2026-10-12 10:00",
            "Hi Mia,\n\nThe season is close; the trial takes ten minutes to start. "
            "Shall I send the invite to you directly?\n\nBest,",
        ),
        (
            "2026-11-04 10:00",
            "Hi Mia,\n\nI haven't heard back, so I'll assume the timing isn't right - "
            "no problem at all.\nShould I close the file for now, or check back after "
            "the season?\n\nEither answer helps. All the best for the winter,",
        ),
    ]
    mails = [ask, answer]
    for when, body in steps:
        mails.append(reply(mails[-1], ALEX, when, body, to=[MIA]))
    return mails


def adatum() -> list[Mail]:
    """due / nudge / attempt 0 — only my colleague Sam answered (internally)."""
    sent = Mail(
        ALEX,
        [PRIYA],
        "Sandbox access for Adatum",
        at("2026-11-12 14:00"),
        """
        Hi Priya,

        Great to hear the team wants to try Ghostwatch on real threads. Sam (cc'd) can
        set up a sandbox tenant with your Gmail domain connected in read-only mode.

        Which three reps should get access first?

        Best,
        """,
        ".Sent",
        cc=[SAM],
    )
    sam = reply(
        sent,
        SAM,
        "2026-11-12 16:20",
        """
        Alex - happy to. I'll have the sandbox ready Monday. Do we know whether they
        use Google Workspace SSO or plain passwords?
        """,
        to=[ALEX],
    )
    return [sent, sam]


def litware() -> list[Mail]:
    """replied — Dana answered in a new thread with a different subject."""
    sent = Mail(
        ALEX,
        [DANA],
        "Pilot scope for Litware",
        at("2026-11-09 13:00"),
        """
        Hi Dana,

        Proposed pilot scope: 10 reps, 6 weeks, success measured as the share of
        silent threads that get a follow-up within 5 business days (today: ~40%).

        Does that match what you had in mind?

        Best,
        """,
        ".Sent",
    )
    new_thread = Mail(
        DANA,
        [ALEX],
        "Budget approval timeline",
        at("2026-11-16 16:20"),
        """
        Hi Alex,

        Quick update on our side: the pilot scope looks right. Our CFO approves
        new tools in the first week of December, so I'll put it on that agenda.
        Can you send a one-page summary I can attach?

        Dana
        """,
    )
    return [sent, new_thread]


def woodgrove() -> list[Mail]:
    """replied — Omar asked a question; my answer is still a draft (drafts never count)."""
    sent = Mail(
        ALEX,
        [OMAR],
        "Demo follow-up: Woodgrove Bank",
        at("2026-11-11 15:30"),
        """
        Hi Omar,

        Thanks for joining the demo. The recording and the slides are here:
        https://ghostwatch.example/share/woodgrove-demo

        Next step would be a short call with your IT team about the Outlook connection.

        Best,
        """,
        ".Sent",
    )
    question = reply(
        sent,
        OMAR,
        "2026-11-18 15:05",
        """
        Alex,

        Thanks. Before IT gets involved: do you support Entra ID SSO, and can the
        mailbox connection be limited to a security group?

        Omar
        """,
        unread=True,
    )
    draft = reply(
        question,
        ALEX,
        "2026-11-19 17:00",
        """
        Hi Omar,

        Yes to both: sign-in is via Entra ID, and an application access policy
        limits the connection to a mail-enabled security group.
        """,
        folder=".Drafts",
    )
    return [sent, question, draft]


def tailwind() -> list[Mail]:
    """replied — Nina agreed to the discovery call (the meeting itself was then missed)."""
    sent = Mail(
        ALEX,
        [NINA],
        "Discovery call next week",
        at("2026-11-10 12:00"),
        """
        Hi Nina,

        Would Tuesday 17 November at 11:00 ET work for a 30-minute discovery call?
        I'd like to understand how your reps follow up after trade shows.

        Best,
        """,
        ".Sent",
    )
    yes = reply(
        sent,
        NINA,
        "2026-11-11 14:15",
        """
        Tuesday at 11 works. Please send an invite.

        Nina
        """,
    )
    return [sent, yes]


def internal() -> list[Mail]:
    """not_tracked — me and Sam only."""
    first = Mail(
        ALEX,
        [SAM],
        "Q4 pipeline review",
        at("2026-11-17 09:00"),
        """
        Sam, can you join the pipeline review on Thursday? I'd like your read on
        Tailspin and Adatum before we commit the forecast.
        """,
        ".Sent",
    )
    answer = reply(first, SAM, "2026-11-17 10:30", "Sure, I'll bring the sandbox notes.")
    thanks = reply(answer, ALEX, "2026-11-17 11:00", "Perfect, thanks!")
    return [first, answer, thanks]


def noise() -> list[Mail]:
    """A newsletter, a robot notification and a phishing mail: none is a conversation I track."""
    return [
        Mail(
            NEWSLETTER,
            [ALEX],
            "5 follow-up templates that actually get replies",
            at("2026-11-20 07:00"),
            """
            This week: why "just checking in" fails, and what to write instead.

            Read online: https://saassalesweekly.example/issues/212
            You receive this because you subscribed at saassalesweekly.example.
            """,
            unread=True,
            extra={
                "List-Id": "SaaS Sales Weekly <weekly.saassalesweekly.example>",
                "List-Unsubscribe": "<https://saassalesweekly.example/u/alex>",
                "Precedence": "bulk",
            },
        ),
        Mail(
            CRM,
            [ALEX],
            "Your weekly pipeline report",
            at("2026-11-16 06:00"),
            """
            Open deals: 14 | Weighted pipeline: EUR 212,400
            View the report: https://app.pipetrack.example/reports/weekly
            """,
            extra={"Auto-Submitted": "auto-generated"},
        ),
        Mail(
            PHARMA,
            [ALEX],
            "Action required: verify your mailbox",
            at("2026-11-19 02:44"),
            """
            Your mailbox will be suspended in 24 hours. Verify now:
            http://verify-acct.example/login
            """,
            ".Junk",
            extra={"X-Spam-Flag": "YES", "X-Spam-Score": "14.2"},
        ),
    ]


SCENARIOS = (
    contoso,
    contoso_spam,
    fourth_coffee,
    wide_world,
    proseware,
    relecloud,
    tailspin,
    fabrikam,
    northwind,
    alpine,
    adatum,
    litware,
    woodgrove,
    tailwind,
    internal,
    noise,
)


def dsn_for(original: Mail, original_bytes: bytes) -> bytes:
    """A Postfix-style RFC 3464 delivery status notification for `original`."""
    when = original.when + timedelta(seconds=7)
    stamp = format_datetime(when)
    rcpt = original.to[0].email
    boundary = f"{when:%Y%m%d%H%M%S}.4Xk2Qm0s1bz9/mail.ghostwatch.example"
    headers = original_bytes.split(b"\n\n", 1)[0].decode("ascii")
    return f"""\
Return-Path: <>
Received: by mail.ghostwatch.example (Postfix) id 4Xk2Qm0s1bz9; {stamp} (GMT)
Date: {stamp} (GMT)
From: MAILER-DAEMON@mail.ghostwatch.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alex@ghostwatch.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <{when:%Y%m%d%H%M%S}.4Xk2Qm0s1bz9@mail.ghostwatch.example>

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.ghostwatch.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{rcpt}>: host mx.northwind.example[198.51.100.25] said: 550
    5.1.1 <{rcpt}>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.ghostwatch.example
X-Postfix-Queue-ID: 4Xk2Qm0s1bz9
X-Postfix-Sender: rfc822; alex@ghostwatch.example
Arrival-Date: {format_datetime(original.when)} (GMT)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.northwind.example
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User
    unknown in virtual mailbox table

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{headers}

--{boundary}--
""".encode("ascii")


def assign_ids(mails: list[Mail]) -> None:
    """Message-IDs and References chains, in definition order (parents come first)."""
    for index, mail in enumerate(mails):
        mail.message_id = message_id(mail, index)
        if mail.parent is not None:
            mail.references = [*mail.parent.references, mail.parent.message_id]


def file_name(when: datetime, index: int, *, unread: bool, draft: bool) -> tuple[str, str]:
    """(subdir, Maildir unique name) — deterministic: epoch + running index + fixed pid."""
    unique = f"{int(when.timestamp())}.M{index}P{PID}.{HOST}"
    if unread:
        return "new", unique
    return "cur", unique + (":2,DS" if draft else ":2,S")


def write_maildir(mails: list[Mail]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index, mail in enumerate(mails):
        raw = to_email(mail, index).as_bytes()
        sub, name = file_name(mail.when, index, unread=mail.unread, draft=mail.folder == ".Drafts")
        (ROOT / mail.folder / sub / name).write_bytes(raw)
        counts[mail.folder or "INBOX"] = counts.get(mail.folder or "INBOX", 0) + 1
        if mail.sender == ALEX and mail.to == [LEE]:
            bounce = dsn_for(mail, raw)
            sub, name = file_name(mail.when, 900 + index, unread=False, draft=False)
            (ROOT / sub / name).write_bytes(bounce)
            counts["INBOX"] = counts.get("INBOX", 0) + 1
    return counts


def prepare_tree() -> None:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            (ROOT / folder / sub).mkdir(parents=True)
    for folder in FOLDERS[1:]:  # Maildir++ marks each subfolder with an empty file
        (ROOT / folder / "maildirfolder").touch()


def keep_empty_dirs() -> None:
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            path = ROOT / folder / sub
            if not any(path.iterdir()):
                (path / ".gitkeep").touch()


# --- the calendar ---


def attendee(person: Person, partstat: str = "", *, role: str = "REQ-PARTICIPANT") -> vCalAddress:
    """An ATTENDEE (or, without a PARTSTAT, the ORGANIZER) property value."""
    addr = vCalAddress(f"mailto:{person.email}")
    addr.params["CN"] = vText(person.name)
    if partstat:
        addr.params["ROLE"] = vText(role)
        addr.params["PARTSTAT"] = vText(partstat)
        if role != "CHAIR":
            addr.params["RSVP"] = vText("TRUE")
    return addr


@dataclass(frozen=True)
class Meeting:
    uid: str
    summary: str
    start: str
    minutes: int
    guests: list[tuple[Person, str]]
    description: str = ""


MEETINGS = (
    # held: the external attendee accepted, and the meeting is over
    Meeting(
        "demo-contoso-20261113",
        "Platform demo — Contoso",
        "2026-11-13 15:00",
        60,
        [(KATHY, "ACCEPTED"), (SAM, "ACCEPTED")],
        "Live demo of Ghostwatch for the Contoso sales-ops team.",
    ),
    # missed: Nina never answered the invitation, nothing later with her, no mail since
    Meeting(
        "discovery-tailwind-20261117",
        "Discovery call — Tailwind Traders",
        "2026-11-17 16:00",
        30,
        [(NINA, "NEEDS-ACTION")],
        "How Tailwind's reps follow up after trade shows.",
    ),
    # rescheduled: Carlos declined, but a later event with him exists
    Meeting(
        "pricing-adventureworks-20261116",
        "Pricing walkthrough — Adventure Works",
        "2026-11-16 14:00",
        45,
        [(CARLOS, "DECLINED")],
    ),
    # upcoming: the new slot Carlos accepted
    Meeting(
        "pricing-adventureworks-20261125",
        "Pricing walkthrough — Adventure Works (new time)",
        "2026-11-25 14:00",
        45,
        [(CARLOS, "ACCEPTED")],
    ),
    # internal only: left out
    Meeting(
        "pipeline-sync-20261119",
        "Weekly pipeline sync",
        "2026-11-19 09:30",
        30,
        [(SAM, "ACCEPTED")],
    ),
)


def to_event(meeting: Meeting) -> Event:
    event = Event()
    start = at(meeting.start)
    event.add("uid", f"{meeting.uid}@ghostwatch.example")
    event.add("dtstamp", at("2026-11-01 09:00"))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=meeting.minutes))
    event.add("summary", meeting.summary)
    if meeting.description:
        event.add("description", meeting.description)
    event.add("status", "CONFIRMED")
    event.add("sequence", 0)
    event.add("location", "https://meet.ghostwatch.example/" + meeting.uid)
    event.add("organizer", attendee(ALEX))
    event.add("attendee", attendee(ALEX, "ACCEPTED", role="CHAIR"))
    for person, partstat in meeting.guests:
        event.add("attendee", attendee(person, partstat))
    return event


def write_calendar() -> None:
    cal = Calendar()
    cal.add("prodid", "-//Ghostwatch//example mailbox//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Alex Morgan")
    for meeting in MEETINGS:
        cal.add_component(to_event(meeting))
    (ROOT / "calendar.ics").write_bytes(cal.to_ical())


def main() -> None:
    mails = [mail for scenario in SCENARIOS for mail in scenario()]
    assign_ids(mails)
    prepare_tree()
    counts = write_maildir(mails)
    write_calendar()
    keep_empty_dirs()
    summary = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
    print(f"wrote {sum(counts.values())} messages to {ROOT} ({summary}) and calendar.ics")


if __name__ == "__main__":
    main()
