"""The shared retry policy, driven through the real Google client against the sandbox.

Sleeps are recorded, not slept: the waits asked for by the server (Retry-After) are read
back from the recorder, which is what "honours Retry-After" means in figures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from ghostwatch.errors import GhostwatchError
from ghostwatch.model.decisions import Action
from ghostwatch.model.outbox import Draft
from ghostwatch.providers.google.actions import GmailActions
from ghostwatch.providers.google.gmail import GmailError, GmailSource
from ghostwatch.providers.retry import RetryPolicy, TooLongToWait, retry_after
from ghostwatch_sandbox.google import GmailSandbox
from tests.support.builder import ME
from tests.support.sandbox_fixtures import client, sandbox, seed_dir

__all__ = ["sandbox", "seed_dir"]  # fixtures, imported for pytest

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=4, base=0.01, cap=0.05, sleep=sleeps, now=lambda: NOW)


@pytest.fixture
def source(sandbox: GmailSandbox, policy: RetryPolicy) -> GmailSource:
    return GmailSource(client(sandbox), batch_uri=sandbox.batch_uri, retry=policy)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7", lambda: NOW) == 7.0
    assert retry_after("Fri, 20 Nov 2026 15:00:30 GMT", lambda: NOW) == 30.0
    assert retry_after("Fri, 20 Nov 2026 14:00:00 GMT", lambda: NOW) == 0.0  # past
    assert retry_after("soon", lambda: NOW) == 0.0
    assert retry_after(None, lambda: NOW) == 0.0


@pytest.mark.parametrize("kind", ["429", "403"])
def test_rate_limits_wait_at_least_what_retry_after_says(
    kind: str,
    source: GmailSource,
    sandbox: GmailSandbox,
    sleeps: Sleeps,
) -> None:
    sandbox.faults.add(kind, count=2, method="messages.list", retry_after=7)
    assert source.read_headers()
    assert len(sleeps) == 2
    assert all(wait >= 7 for wait in sleeps)


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "truncate", "malformed"])
def test_reads_recover_from_transient_failures(
    kind: str,
    source: GmailSource,
    sandbox: GmailSandbox,
    sleeps: Sleeps,
) -> None:
    expected = {m.key for m in source.read_headers()}
    sandbox.faults.add(kind, count=2, method="messages.list")
    fresh = GmailSource(source.service, batch_uri=sandbox.batch_uri, retry=source.retry)
    assert {m.key for m in fresh.read_headers()} == expected
    assert sleeps
    assert all(wait <= 0.05 for wait in sleeps)  # jittered backoff, capped


def test_giving_up_is_a_named_error(
    source: GmailSource,
    sandbox: GmailSandbox,
    sleeps: Sleeps,
) -> None:
    sandbox.faults.add("503", count=10, method="messages.list")
    with pytest.raises(GmailError, match="503"):
        source.read_headers()
    assert len(sleeps) == 3  # four attempts


def test_rate_limit_answers_never_use_up_the_attempts(
    source: GmailSource, sandbox: GmailSandbox, sleeps: Sleeps
) -> None:
    sandbox.faults.add("429", count=9, method="messages.list", retry_after=2)  # > attempts
    assert source.read_headers()
    assert len(sleeps) == 9


def test_waiting_out_rate_limits_ends_when_patience_is_spent(
    sandbox: GmailSandbox, sleeps: Sleeps
) -> None:
    impatient = RetryPolicy(attempts=4, patience=5.0, sleep=sleeps, now=lambda: NOW)
    source = GmailSource(client(sandbox), batch_uri=sandbox.batch_uri, retry=impatient)
    sandbox.faults.add("429", count=9, method="messages.list", retry_after=2)
    with pytest.raises(TooLongToWait):
        source.read_headers()
    assert sum(sleeps) <= 5.0


def test_a_wait_longer_than_the_policy_allows_ends_the_call(
    source: GmailSource,
    sandbox: GmailSandbox,
    sleeps: Sleeps,
) -> None:
    sandbox.faults.add("429", method="messages.list", retry_after=3600)
    with pytest.raises(TooLongToWait) as raised:
        source.read_headers()
    assert isinstance(raised.value, GhostwatchError)
    assert sleeps == []


def _draft(sandbox: GmailSandbox, policy: RetryPolicy) -> tuple[GmailActions, Any]:
    actions = GmailActions(client(sandbox), batch_uri=sandbox.batch_uri, retry=policy)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ME, "kathy@contoso.example", "Hi"
    message["X-Ghostwatch-Step"] = "c0ffee/nudge/1/abcd"
    message.set_content("Hello")
    draft = Draft("c0ffee", Action.NUDGE, (), "Hi", None, (), "Hello", "", "c0ffee/nudge/1/abcd")
    return actions, (draft, message)


def test_a_rate_limited_draft_create_is_retried_once_made(
    sandbox: GmailSandbox,
    policy: RetryPolicy,
    sleeps: Sleeps,
) -> None:
    actions, (draft, message) = _draft(sandbox, policy)
    sandbox.faults.add("429", method="drafts.create", retry_after=2)
    actions.create_draft(draft, message, None)
    assert sleeps
    assert sleeps[0] >= 2
    assert list(actions.existing_steps()) == ["c0ffee/nudge/1/abcd"]


@pytest.mark.parametrize("kind", ["500", "drop"])
def test_a_draft_create_that_may_have_happened_is_not_retried(
    kind: str,
    sandbox: GmailSandbox,
    policy: RetryPolicy,
    sleeps: Sleeps,
) -> None:
    actions, (draft, message) = _draft(sandbox, policy)
    sandbox.faults.add(kind, count=2, method="drafts.create")
    with pytest.raises(GmailError):
        actions.create_draft(draft, message, None)
    assert sleeps == []  # the cycle's ledger asks the mailbox before trying again


@pytest.mark.parametrize("kind", ["malformed", "429", "503"])
def test_a_batch_part_that_fails_alone_is_sent_again(
    kind: str, source: GmailSource, sandbox: GmailSandbox, sleeps: Sleeps
) -> None:
    expected = {m.key for m in source.read_headers()}
    sandbox.faults.add(kind, count=1, method="threads.get")  # one part of a batch
    fresh = GmailSource(source.service, batch_uri=sandbox.batch_uri, retry=source.retry)
    assert {m.key for m in fresh.read_headers()} == expected
    assert "threads.get" in {method for _, method in sandbox.faults.fired}
    assert len(sleeps) == 1
