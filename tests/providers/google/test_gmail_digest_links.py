"""A digest you can act on, through Gmail: each draft the digest lists links to where it
opens in Gmail on the web (`GmailActions.draft_links`), in the text and the HTML part."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from tests.contracts.contract_cycle import NOW, opened
from tests.support.builder import ME
from tests.support.provider_rigs import DIGEST_ID, STEP, GmailRig


def _parts(raw: bytes) -> tuple[str, str]:
    tree = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(tree, EmailMessage)
    text, page = tree.get_body(("plain",)), tree.get_body(("html",))
    assert text is not None
    assert page is not None
    return str(text.get_content()), str(page.get_content())


def test_each_draft_in_the_digest_opens_in_gmail(tmp_path: Path) -> None:
    with opened("gmail", tmp_path) as rig:
        assert isinstance(rig, GmailRig)
        rig.cycle(NOW)
        rig.cycle(NOW, digest=True)
        box = rig.sandbox.mailbox
        ours = [m for m in box.drafts.values() if box.get(m).header(STEP)]
        [digest] = [
            m for m in box.messages.values() if m.header("Message-ID").startswith(DIGEST_ID)
        ]
        text, page = _parts(digest.raw)
    assert len(ours) == 5
    for message_id in ours:
        # Gmail on the web, in the mailbox's own account (not the browser's first).
        link = f"https://mail.google.com/mail/u/{ME}/#drafts?compose={message_id}"
        assert link in text
        assert f'href="{html.escape(link)}"' in page
