"""Brief and blame-free by construction (docs/rules.md): every built-in draft template,
rendered over a matrix of conversations, stays short, kind, complete and valid MIME.

The matrix crosses who is written to (named, unnamed, a role address, several people),
what my last message said (a question, an offer, nothing quotable, a long sentence,
only quoted text, no body at all), a user's note or none, every step, an absence or
none, and several "now"s and ages of my last message.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import itertools
import re
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.compose import drafts as drafts_module
from ghostwatch.compose.drafts import (
    DRAFT_TEMPLATES,
    conversation_draft,
    draft_message,
    meeting_draft,
    template_name,
)
from ghostwatch.compose.tone import MAX_WORDS, PRESSURE_PHRASES, pressure_phrases, word_count
from ghostwatch.engine.people import Identity
from ghostwatch.engine.rules import Rules
from ghostwatch.model.decisions import (
    Action,
    ConversationDecision,
    MeetingDecision,
    MeetingState,
    State,
)
from ghostwatch.model.mail import Address, Content, Folder, Message
from ghostwatch.model.outbox import Draft, Sender
from ghostwatch.providers.maildir.source import MaildirMailbox
from ghostwatch.service.pipeline import run_scan
from tests.support.builder import ME, when
from tests.support.paths import REPO

LONDON = ZoneInfo("Europe/London")
SENDERS = (
    Sender("Alex Morgan", ME, "Alex Morgan\nAccount Executive, Ghostwatch\n+44 20 7946 0321"),
    Sender("Alex Morgan", ME),  # no signature configured: signed with the name
)
PEOPLE: tuple[tuple[Address, ...], ...] = (
    (Address("kathy.lopez@contoso.example", "Kathy Lopez"),),
    (Address("kathy.lopez@contoso.example", "LOPEZ, KATHY"),),
    (Address("k.lopez@contoso.example", ""),),
    (Address("sales@contoso.example", "Contoso Sales"),),
    (Address("kathy.lopez@contoso.example", "kathy.lopez@contoso.example"),),
    (Address("juergen@fabrikam.example", "Jürgen Weiß"), Address("tom@fabrikam.example", "Tom")),
)
LONG = " ".join(["We"] + ["could"] * 40) + " help."
BODIES: tuple[str | None, ...] = (
    "Hi Kathy,\n\nWhich three reps should get access first?\n\nBest,\nAlex\n",
    "Hi Kathy,\n\nAttached is the proposal for 40 seats on annual billing (EUR 18,240 / year), "
    "with EU hosting in Frankfurt for the whole account at no extra cost.\n\nBest,\nAlex\n",
    "Hi Kathy,\n\nThanks again!\n\nBest,\nAlex\n",
    # A long sentence is skipped; the question after it is exactly as long as allowed.
    f"Hi,\n\n{LONG}\n\n"
    "Would it help if I put together a one-page summary of the pilot results, the pricing "
    "options and the rollout plan for your team leads before the board meets?\n",
    "Hi,\n\n> Could you send pricing?\n> Thanks\n",
    None,
)
NOTES = (None, "You mentioned EU hosting is what the London team needs before signing.")
STEPS: tuple[tuple[Action, int, bool | str], ...] = (
    (Action.NUDGE, 0, False),
    (Action.NUDGE, 1, False),
    (Action.NUDGE, 2, False),
    (Action.NUDGE, 0, True),
    (Action.NUDGE, 1, True),
    (Action.BREAKUP, 2, False),
    (Action.BREAKUP, 2, True),
    (Action.NUDGE, 0, "deferral"),  # they asked to be contacted again about now
)
NOWS = (
    "2026-11-16 08:00",  # Monday morning
    "2026-11-19 12:00",  # Thursday
    "2026-11-20 17:30",  # Friday evening
    "2026-11-22 21:00",  # Sunday night
)
AGES = tuple(
    timedelta(days=d, hours=h)
    for d, h in ((0, 2), (1, 0), (4, 0), (10, 0), (19, 0), (45, 0), (400, 0))
)
# Every "now" with every age of my last message: each time phrase, on every weekday.
WHENS = tuple(itertools.product(NOWS, AGES))
UNFILLED = ("{{", "}}", "{%", "%}", "{#", "None", "[", "]", "TODO", "undefined")


def _conversation(
    people: tuple[Address, ...],
    body: str | None,
    sent: datetime,
    step: tuple[Action, int, bool | str],
) -> tuple[ConversationDecision, list[Message]]:
    action, attempt, away = step
    emails = tuple(p.email for p in people)
    mine = Message(
        "Sent/1", Folder.SENT, Address(ME, "Alex Morgan"), to=people,
        cc=(Address("sam@ghostwatch.example", "Sam Okafor"),), subject="AW: Re: Pilot scope",
        date=sent, message_id="mine@ghostwatch.example", references=("root@contoso.example",),
        content=Content(text=body) if body is not None else None,
    )  # fmt: skip
    decision = ConversationDecision(
        id="c0ffee", subject="Pilot scope", contacts=emails, state=State.DUE, action=action,
        attempt=attempt, last_outbound_key="Sent/1", last_message_key="Sent/1",
        recipients=emails, after_absence=away is True,
        deferred_by="later@contoso.example" if away == "deferral" else None,
    )  # fmt: skip
    return decision, [mine]


def _readable(markup: str) -> str:
    """The HTML part as a reader sees it, for the phrase check."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", markup))


def tone_problems(draft: Draft, sender: Sender, *, mime: bool = True) -> list[str]:
    """Everything wrong with a draft's tone and form (empty: it may ship)."""
    problems = []
    signature = sender.signature.strip("\n") or sender.name
    body = draft.text[: draft.text.rindex(signature)]
    if word_count(body) > MAX_WORDS:
        problems.append(f"{word_count(body)} words")
    for part, text in (("text", draft.text), ("html", _readable(draft.html))):
        problems += [f"{part}: pressure {p!r}" for p in pressure_phrases(text)]
        problems += [f"{part}: unfilled {u!r}" for u in UNFILLED if u in text]
    if not draft.text.endswith(f"{signature}\n"):
        problems.append("text does not end with the signature")
    # Building and parsing MIME costs ~100x a render: checked on a fixed share of cases.
    return problems + (_mime_problems(draft, sender) if mime else [])


def _mime_problems(draft: Draft, sender: Sender) -> list[str]:
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(draft_message(draft, sender)))
    assert isinstance(parsed, EmailMessage)
    if parsed.defects or parsed.get_content_type() != "multipart/alternative":
        return [f"MIME: {parsed.get_content_type()} {parsed.defects}"]
    parts = list(parsed.iter_parts())
    if [p.get_content_type() for p in parts] != ["text/plain", "text/html"]:
        return [f"MIME parts: {[p.get_content_type() for p in parts]}"]
    problems = []
    for part, expected in zip(parts, (draft.text, draft.html), strict=True):
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if payload.decode("utf-8").replace("\r\n", "\n") != expected:
            problems.append(f"MIME: {part.get_content_type()} does not decode to the draft")
    if parsed["X-Ghostwatch-Step"] != draft.step_key:
        problems.append("MIME: X-Ghostwatch-Step")
    return problems


@pytest.mark.parametrize("template", [n for n in DRAFT_TEMPLATES if n != "meeting_followup"])
def test_every_conversation_template_keeps_the_tone(template: str) -> None:
    failures, rendered = [], 0
    cases = itertools.product(PEOPLE, BODIES, NOTES, STEPS, SENDERS)
    for index, (people, body, note, step, sender) in enumerate(cases):
        now, age = WHENS[index % len(WHENS)]  # the times cycle through the whole matrix
        decision, messages = _conversation(people, body, when(now) - age, step)
        if template_name(decision) != template:
            continue
        draft = conversation_draft(decision, messages, sender, when(now), LONDON, note=note)
        assert draft is not None
        rendered += 1
        if problems := tone_problems(draft, sender, mime=index % 3 == 0):
            failures.append((problems, draft.text))
    assert rendered >= 100
    assert not failures, failures[:3]


@pytest.mark.parametrize(("now", "age"), WHENS)
def test_every_time_phrase_keeps_the_tone(now: str, age: timedelta) -> None:
    """The longest texts (two names, the longest quotable line) at every time."""
    for step in STEPS:
        decision, messages = _conversation(PEOPLE[-1], BODIES[3], when(now) - age, step)
        draft = conversation_draft(decision, messages, SENDERS[0], when(now), LONDON)
        assert draft is not None
        assert not tone_problems(draft, SENDERS[0], mime=False), draft.text


SUMMARIES = (
    "Discovery call — Tailwind Traders",
    "Pricing <walkthrough> & Q&A",
    "Call",
    "Quarterly business review with the regional sales leadership team of Contoso EMEA",
)


def test_every_meeting_follow_up_keeps_the_tone() -> None:
    nows = [
        when("2026-11-16 08:00") + timedelta(days=d, hours=h) for d in range(7) for h in (0, 13)
    ]
    agos = (timedelta(hours=3), timedelta(days=1), timedelta(days=5), timedelta(days=12))
    rendered = 0
    cases = itertools.product(PEOPLE, SUMMARIES, SENDERS, nows)
    for index, (people, summary, sender, now) in enumerate(cases):
        ago = agos[index % len(agos)]
        meeting = MeetingDecision(
            uid="m1@ghostwatch.example", summary=summary, start=now - ago,
            contacts=tuple(p.email for p in people), state=MeetingState.MISSED,
            action=Action.MEETING_FOLLOWUP, contact_names=tuple((p.email, p.name) for p in people),
        )  # fmt: skip
        draft = meeting_draft(meeting, sender, now, LONDON)
        assert draft is not None
        rendered += 1
        assert not tone_problems(draft, sender, mime=index % 10 == 0), draft.text
    assert rendered > 500


def test_every_built_in_draft_template_is_in_the_matrix() -> None:
    """A template added to the package but not to DRAFT_TEMPLATES would go unchecked."""
    folder = Path(drafts_module.__file__).parent / "templates"
    shipped = {p.stem for p in folder.iterdir() if p.suffix in (".txt", ".html")}
    assert shipped - {"digest"} == set(DRAFT_TEMPLATES)


def test_phrase_list_is_maintained_and_matches_loosely() -> None:
    assert len(PRESSURE_PHRASES) >= 25
    assert len(set(PRESSURE_PHRASES)) == len(PRESSURE_PHRASES)
    assert pressure_phrases("As per my last email, ...") == [
        "as per my last email",
        "per my last email",
    ]
    assert pressure_phrases("You haven’t  responded") == ["you haven't responded"]
    assert pressure_phrases("JUST FOLLOWING UP AGAIN") == [
        "just following up again",
        "following up again",
    ]
    assert pressure_phrases("This is urgently needed") == ["urgent"]
    assert pressure_phrases("I hope your time away went well.") == []


def test_word_count_counts_words_not_punctuation() -> None:
    assert word_count("Hi Kathy — it's a 20-minute call, e.g. on Thursday.") == 9


def test_the_example_mailboxs_drafts_keep_the_tone() -> None:
    """Real mail, real engine: the bodies quoted from are the example's own messages."""
    root = REPO / "examples" / "mailbox"
    mailbox = MaildirMailbox(root)
    now = when("2026-11-20T15:00:00+00:00")
    done = run_scan(mailbox, Rules(Identity.of([ME])), now)
    made = []
    for decision in done.plan.conversations:
        keys = [decision.last_outbound_key] if decision.last_outbound_key else []
        bodies = mailbox.load_content(keys)
        messages = [
            dataclasses.replace(m, content=bodies.get(m.key, m.content))
            for m in done.threads.conversations[decision.id]
        ]
        made.append(conversation_draft(decision, messages, SENDERS[0], now, LONDON))
    made += [meeting_draft(m, SENDERS[0], now, LONDON) for m in done.plan.meetings]
    drafts = [d for d in made if d is not None]
    # conversation/step/attempt[/which silence]: compare the step and attempt.
    assert sorted("/".join(d.step_key.split("/")[1:3]) for d in drafts) == [
        "breakup/2",
        "meeting_followup/0",
        "nudge/0",
        "nudge/0",
        "nudge/1",
    ]
    for draft in drafts:
        assert not tone_problems(draft, SENDERS[0]), draft.text
        # Every conversation draft found its ask or value line in the real mail.
        assert "“" in draft.text
