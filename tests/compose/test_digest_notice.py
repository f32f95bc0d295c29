"""The digest's notice: cycles that failed since the last digest, first in both parts."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ghostwatch.compose.digest import build_digest
from ghostwatch.config import AccountConfig
from ghostwatch.errors import UserError
from ghostwatch.model.decisions import Plan
from ghostwatch.model.sync import Trouble
from ghostwatch.providers.google.gmail import GmailError
from ghostwatch.service.wiring import no_google_credentials
from tests.compose.test_digest import ALEX, HTML_IDS, LONDON, NOW, TEXT_HEADINGS, example_digest

TOKYO = ZoneInfo("Asia/Tokyo")
SINCE = datetime.fromisoformat("2026-11-18T02:10:00+00:00")  # Wed 18 Nov, 11:10 in Tokyo
LAST = datetime.fromisoformat("2026-11-20T06:40:00+00:00")  # Fri 20 Nov, 15:40 in Tokyo


def not_signed_in() -> UserError:
    """The error the daemon records for a Gmail account without a sign-in."""
    account = AccountConfig(name="alex", provider="gmail", address=ALEX.address)
    with pytest.raises(UserError) as caught:
        no_google_credentials(account)
    return caught.value


def trouble(error: Exception, failures: int = 7, *, message: str | None = None) -> Trouble:
    return Trouble(
        since=SINCE,
        failures=failures,
        last_at=LAST,
        kind=type(error).__name__,
        message=str(error) if message is None else message,
        needs_you=isinstance(error, UserError),
    )


def test_a_sign_in_problem_comes_first_with_its_fix_in_both_parts() -> None:
    error = not_signed_in()
    digest = example_digest(trouble=trouble(error))
    headline = "ghostwatch could not check your mailbox 7 times since Wed 18 Nov, 02:10."
    text_at = digest.text.index(headline)
    assert digest.text.index("your digest for") < text_at  # under the title
    assert text_at < min(digest.text.index(f"\n{h}\n") for h in TEXT_HEADINGS)
    assert f"Last error (Fri 20 Nov, 06:40): {error}." in digest.text
    assert "tries again by itself" not in digest.text  # the message says what to do
    html_at = digest.html.index('id="trouble"')
    assert html_at < min(digest.html.index(f'id="{a}"') for a in HTML_IDS)
    assert headline in digest.html
    command = re.search(r'<span style="font-family:Menlo[^"]*">([^<]*)</span>', digest.html)
    assert command is not None
    assert command.group(1) == "ghostwatch auth google --account alex"
    assert "`" not in digest.html[html_at : html_at + 2000]
    assert "#dc2626" in digest.html[html_at - 1500 : html_at]  # red: the user must act


def test_times_are_the_accounts_local_times() -> None:
    plan = Plan(now=LAST)
    digest = build_digest(plan, [], ALEX, TOKYO, trouble=trouble(not_signed_in()))
    assert "7 times since Wed 18 Nov, 11:10." in digest.text
    assert "Last error (Fri 20 Nov, 15:40):" in digest.text


def test_a_provider_outage_says_ghostwatch_keeps_trying() -> None:
    outage = GmailError("Google answered 503: The service is currently unavailable.", 503)
    digest = build_digest(Plan(now=NOW), [], ALEX, LONDON, trouble=trouble(outage, 1))
    assert "ghostwatch could not check your mailbox on Wed 18 Nov, 02:10." in digest.text
    assert f"Error: {outage}" in digest.text
    assert "ghostwatch tries again by itself" in digest.text
    assert "ghostwatch tries again by itself" in digest.html
    notice = digest.html[: digest.html.index('id="trouble"')]
    assert "#d97706" in notice[-1500:]  # amber: nothing to do yet
    assert "#dc2626" not in notice[-1500:]


def test_an_unexpected_error_is_named_by_its_kind_only() -> None:
    crash = RuntimeError("provider said <b>secret payload</b>")
    digest = build_digest(Plan(now=NOW), [], ALEX, LONDON, trouble=trouble(crash, message=""))
    assert "Last error (Fri 20 Nov, 06:40): an unexpected error (RuntimeError)." in digest.text
    assert "secret payload" not in digest.text + digest.html


def test_a_message_is_escaped_in_html_and_kept_in_text() -> None:
    odd = UserError("folder <Sent & 'Old'> is unreadable: run `chmod -R u+r <folder>`")
    digest = build_digest(Plan(now=NOW), [], ALEX, LONDON, trouble=trouble(odd))
    assert "folder <Sent & 'Old'> is unreadable" in digest.text
    assert "folder &lt;Sent &amp; &#39;Old&#39;&gt; is unreadable" in digest.html
    assert ">chmod -R u+r &lt;folder&gt;</span>" in digest.html


@pytest.mark.parametrize("given", [None, "zero"])
def test_no_trouble_no_notice(given: str | None) -> None:
    quiet = None if given is None else trouble(not_signed_in(), failures=0)
    digest = example_digest(trouble=quiet)
    assert digest == example_digest()
    assert "could not check" not in digest.text
    assert 'id="trouble"' not in digest.html
