"""Safety rails, against both sandboxes: drafts only, nothing of the user's touched.

Full cycles with junk rescue and the digest on. The sandboxes log every mutating call
(`.writes`, send attempts refused and flagged); the tests read those logs: nothing was
ever sent, the one delete is ghostwatch's own unedited draft once its prospect answered
(docs/rules.md, "Drafts stay true"), and every change hit something ghostwatch made
itself, or the junk reply it rescues (the one documented exception). A draft the user
edited is never deleted nor written again; `dry_run=True` writes nothing; the logs hold
no token, no body text and no address but the account's own.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import structlog

from ghostwatch import logs
from ghostwatch_sandbox.google.app import Write
from tests.support.builder import ME
from tests.support.provider_rigs import (
    FIRST,
    PROVIDERS,
    SECOND,
    GmailRig,
    OutlookRig,
    Rig,
    i_write_to_raj,
    kathy_answers,
    rig_for,
    sqlite_store,
    story_mailbox,
)

MIA = "Mia Chen <mia@northwind.example>"
BODIES = (
    "Here is the proposal we discussed",
    "Looks good, let us talk",
    "The plan, attached",
    "Renewal terms inside",
    "Signed and ready",
)
CREATES = {"drafts.create", "messages.insert", "messages.createReply", "messages.create"}
DELETES = {"drafts.delete", "messages.delete", "messages.trash", "messages.batchDelete"}
RESCUES = {"messages.modify", "messages.move"}
EDITED = "I rewrote this myself, Kathy: can we meet on Tuesday?"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fault matrix's story, plus Mia's answer to my renewal, filtered into Junk."""
    root = tmp_path_factory.mktemp("safety")
    box = story_mailbox(root)
    renewal = box.add("Sent", ME, MIA, "Renewal", "2026-11-04 09:00", body=BODIES[3] + "\n")
    box.add("Junk", MIA, ME, "RE: Renewal", "2026-11-05 10:00", reply_to=renewal,
            body=BODIES[4] + "\n")  # fmt: skip
    return root


@pytest.fixture(params=PROVIDERS)
def rig(request: pytest.FixtureRequest, seed: Path, tmp_path: Path) -> Iterator[Rig]:
    with (
        sqlite_store(tmp_path / "ghostwatch.db") as store,
        rig_for(request.param, seed, store) as r,
    ):
        yield r


def _week(rig: Rig, **options: Any) -> None:
    """Cycle one, new mail, cycle two, and one more: a week of the service."""
    rig.cycle(FIRST, **options)
    rig.deliver(kathy_answers())
    rig.deliver(i_write_to_raj(), sent=True)
    rig.cycle(SECOND, **options)
    rig.cycle(SECOND, **options)


def _junk_ids(rig: Rig) -> set[str]:
    if isinstance(rig, GmailRig):
        return {m.id for m in rig.sandbox.mailbox.messages.values() if "SPAM" in m.labels}
    assert isinstance(rig, OutlookRig)
    return {m.immutable_id for m in rig.graph.mailbox.in_folder("junkemail")}


def _foreign(writes: list[Write], junk: set[str]) -> list[Write]:
    """Changes to anything ghostwatch did not make, bar rescuing the junk reply."""
    made: set[str] = set()
    found = []
    for write in writes:
        if write.method in CREATES:
            made.update(write.ids)
        elif not (set(write.ids) <= made or (write.method in RESCUES and set(write.ids) <= junk)):
            found.append(write)
    return found


def test_full_cycles_send_nothing_and_delete_only_their_own_unedited_draft(rig: Rig) -> None:
    junk = _junk_ids(rig)
    assert junk
    rig.cycle(FIRST, junk_rescue=True, digest=True)
    [kathy_nudge] = rig.actions.existing_steps().values()
    _week(rig, junk_rescue=True, digest=True)
    writes = rig.mutations()
    assert any(w.method in RESCUES for w in writes)  # the rescue happened…
    assert any(w.method in CREATES for w in writes)  # …and drafts and the digest
    assert rig.sent() == []
    # Kathy answered: her nudge, as ghostwatch wrote it, is the one thing deleted.
    assert [w.ids for w in writes if w.method in DELETES] == [(kathy_nudge,)]
    assert _foreign(writes, junk) == []


def test_dry_run_makes_no_write_call(rig: Rig) -> None:
    _week(rig, junk_rescue=True, digest=True, dry_run=True)
    assert rig.mutations() == []
    assert rig.steps() == {}


def _edit_as_the_user(rig: Rig, keep_step: bool) -> str:
    """The user rewrites ghostwatch's draft in their mail client; the draft's id."""
    [(step, draft_id)] = rig.actions.existing_steps().items()
    if isinstance(rig, GmailRig):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = ME, "kathy@contoso.example", "Re: Proposal"
        if keep_step:
            mail["X-Ghostwatch-Step"] = step
        mail.set_content(EDITED)
        drafts = rig.service.users().drafts()
        raw = {"raw": base64.urlsafe_b64encode(bytes(mail)).decode()}
        drafts.update(userId="me", id=draft_id, body={"message": raw}).execute()
    else:
        assert isinstance(rig, OutlookRig)
        content = {"body": {"contentType": "text", "content": EDITED}}
        rig.actions.client.request("PATCH", f"/me/messages/{draft_id}", json=content)
    return str(draft_id)


@pytest.mark.parametrize("keep_step", [True, False], ids=["step-kept", "step-dropped"])
def test_a_draft_the_user_edited_is_never_written_again(rig: Rig, keep_step: bool) -> None:
    if isinstance(rig, OutlookRig) and not keep_step:
        pytest.skip("Graph keeps a message's internet headers once it is created")
    rig.cycle(FIRST, junk_rescue=True, digest=True)
    edited = _edit_as_the_user(rig, keep_step)
    before = len(rig.mutations())
    rig.cycle(FIRST, junk_rescue=True, digest=True)
    rig.restart()
    _week(rig, junk_rescue=True, digest=True)
    later = rig.mutations()[before:]
    assert [w for w in later if edited in w.ids] == []
    assert [w for w in later if w.method in DELETES] == []
    assert any(EDITED in body for body in _draft_texts(rig))
    assert all(n == 1 for n in rig.steps().values())
    kathy = [w for w in later if w.method in CREATES and _is_kathy_nudge(rig, w)]
    assert kathy == []  # never a second nudge for the step the user took over


def _draft_texts(rig: Rig) -> list[str]:
    if isinstance(rig, GmailRig):
        return [m.raw.decode("utf-8", "replace") for m in rig.sandbox.mailbox.messages.values()
                if "DRAFT" in m.labels]  # fmt: skip
    assert isinstance(rig, OutlookRig)
    return [m.body for m in rig.graph.mailbox.in_folder("drafts")]


def _is_kathy_nudge(rig: Rig, write: Write) -> bool:
    if isinstance(rig, GmailRig):
        made = [rig.sandbox.mailbox.draft(i) for i in write.ids if write.method == "drafts.create"]
        return any(b"Proposal" in m.raw and b"kathy@" in m.raw for m in made)
    assert isinstance(rig, OutlookRig)
    drafts = {m.immutable_id: m for m in rig.graph.mailbox.in_folder("drafts")}
    made_ = [drafts[i] for i in write.ids if i in drafts]
    return any("Proposal" in m.subject for m in made_)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def test_logs_hold_no_token_no_body_no_other_address(rig: Rig) -> None:
    saved, out = structlog.get_config(), io.StringIO()
    logs.configure("debug", stream=out)
    try:
        _week(rig, junk_rescue=True, digest=True)
    finally:
        structlog.configure(**saved)
    text = out.getvalue()
    assert "cycle_done" in text
    for secret in _secrets(rig):
        assert secret not in text
    for body in BODIES:
        assert body not in text
    assert {a.lower() for a in EMAIL.findall(text)} <= {ME}


def _secrets(rig: Rig) -> list[str]:
    if isinstance(rig, GmailRig):
        issued = list(rig.sandbox.tokens._access)
        assert issued
        return [rig.refresh_token, *issued]
    assert isinstance(rig, OutlookRig)
    return [rig.token]
