"""Shared pieces for the auth tests: a vault, a Google OAuth client file, a consenting browser.

Import the fixtures into a test module: `from tests.support.auth_fixtures import vault, ...`.
"""

from __future__ import annotations

import io
import json
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ghostwatch import logs
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import TokenVault
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET

BROWSER = "ghostwatch-sandbox-consent"


@pytest.fixture
def secret_key() -> str:
    return new_key()


@pytest.fixture
def vault(tmp_path: Path, secret_key: str) -> TokenVault:
    return TokenVault(tmp_path / "data" / "tokens", resolve_key(secret_key, None))


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[GmailSandbox]:
    # oauthlib insists on https for the token URL; the sandbox is plain http on loopback.
    # Only the tests' process sets this: production talks to https://oauth2.googleapis.com.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with GmailSandbox.serve(user="alex@ghostwatch.example") as sandbox:
        yield sandbox


def client_secrets(directory: Path, sandbox: GmailSandbox) -> Path:
    """The file Google Cloud console hands out for a Desktop app, pointed at the sandbox."""
    path = directory / "client_secret.json"
    installed = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "auth_uri": sandbox.auth_uri,
        "token_uri": sandbox.token_uri,
        "redirect_uris": ["http://localhost"],
    }
    path.write_text(json.dumps({"installed": installed}))
    return path


def consent(url: str) -> str:
    """What a person's browser does with the sign-in address: where it is sent back to."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


class ConsentingBrowser(webbrowser.BaseBrowser):
    """A `webbrowser` controller: consents and follows the redirect to the local server."""

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        def visit() -> None:
            requests.get(url, timeout=10)  # follows the 302 to the loopback redirect

        threading.Thread(target=visit, daemon=True).start()
        return True


@pytest.fixture
def browser() -> str:
    webbrowser.register(BROWSER, None, ConsentingBrowser(BROWSER))
    return BROWSER


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """structlog output at debug level, for searching for secrets."""
    stream = io.StringIO()
    logs.configure("debug", stream)
    yield stream
    logs.configure()


def disk_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def assert_nowhere(secrets: list[str], *places: bytes | str) -> None:
    for secret in secrets:
        assert secret, "a secret to look for must not be empty"
        for place in places:
            haystack = place if isinstance(place, bytes) else place.encode()
            assert secret.encode() not in haystack, f"{secret[:12]}... leaked"
