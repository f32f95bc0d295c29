"""Fixtures for driving the Gmail sandbox with the real google-api-python-client.

Import them into a test module: `from tests.support.sandbox_fixtures import gmail, sandbox, seeded`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.discovery import build

from ghostwatch.providers.google.api import google_http
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME, Mailbox

KATHY = "Kathy Lee <kathy@contoso.example>"
RAJ = "raj@tailspin.example"


def seed_mailbox(root: Path) -> Mailbox:
    """A small mailbox: a tracked thread with a reply, junk, a user folder, a draft."""
    box = Mailbox(root)
    first = box.add("Sent", ME, KATHY, "Proposal", "2026-11-10 09:00", body="Here it is.\n")
    box.add("INBOX", KATHY, ME, "Re: Proposal", "2026-11-11 10:00", reply_to=first)
    box.add("INBOX", RAJ, ME, "Integration plan", "2026-11-12 08:30", body="Plan <v2> & more\n")
    box.add("Junk", RAJ, ME, "RE: Integration plan", "2026-11-13 07:00")
    box.add("Trash", "old@fabrikam.example", ME, "Old news", "2026-11-01 12:00")
    box.add("Clients", "lee@fabrikam.example", ME, "Demo", "2026-11-14 16:00")
    box.add("Drafts", ME, KATHY, "Re: Proposal", "2026-11-15 11:00", reply_to=first)
    raw = b"From: sam@northwind.example\nTo: alex@ghostwatch.example\nSubject: New lead\n"
    box.add_bytes("INBOX", raw + b"Date: Mon, 16 Nov 2026 09:00:00 +0000\n\nHi!\n", sub="new")
    return box


def client(sandbox: GmailSandbox, credentials: Any = None, http: Any = None) -> Any:
    """The real Gmail client over ghostwatch's transport, pointed at the sandbox
    (docs/providers.md: api_endpoint)."""
    return build(
        "gmail",
        "v1",
        http=http or google_http(credentials or sandbox.credentials()),
        static_discovery=True,
        client_options={"api_endpoint": sandbox.url},
        cache_discovery=False,
    )


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seed")
    seed_mailbox(root)
    return root


@pytest.fixture
def sandbox(seed_dir: Path) -> Iterator[GmailSandbox]:
    with GmailSandbox.serve(seed=seed_dir, user=ME) as running:
        yield running


@pytest.fixture
def gmail(sandbox: GmailSandbox) -> Any:
    return client(sandbox)
