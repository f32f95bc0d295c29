"""ghostwatch never sends: no module under src/ghostwatch can even ask to.

Google's scopes do not prevent it (gmail.compose and gmail.modify both allow drafts.send
and messages.send), so the code is what must (README, "What these permissions would
allow"): this
reads every module's syntax tree for a send call, a send endpoint, a send permission or
an SMTP client. The sandboxes' write logs prove the same at run time
(tests/service/test_safety.py: a send attempt is refused and flagged).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.paths import REPO

SOURCE = REPO / "src" / "ghostwatch"
# Graph: POST /messages/{id}/send|reply|replyAll|forward, /sendMail
# (https://learn.microsoft.com/en-us/graph/api/message-send); Gmail: .../send
# (https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/send).
SEND_TEXT = re.compile(
    r"/(?:send|reply|replyAll|forward)\b|sendMail|gmail\.send|Mail\.Send|SMTP", re.IGNORECASE
)
SEND_IMPORTS = {"smtplib", "aiosmtplib"}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants (what they say is documentation, not a call)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _google_collection(receiver: ast.expr) -> bool:
    """`….drafts()` or `….messages()`: a Gmail collection, whatever it is called on."""
    return (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Attribute)
        and receiver.func.attr in ("drafts", "messages")
    )


def send_calls(path: Path, root: Path = REPO) -> list[str]:
    """Every place in one module that could send mail, as 'file:line what'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    where = path.relative_to(root)
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # users().drafts().send(...), users().messages().send(...), smtp.sendmail(...);
            # a socket's .send (the health server's answer) is not mail.
            if node.func.attr.lower() in ("sendmail", "send_message") or (
                node.func.attr == "send" and _google_collection(node.func.value)
            ):
                found.append(f"{where}:{line} calls .{node.func.attr}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] in SEND_IMPORTS for n in names):
                found.append(f"{where}:{line} imports an SMTP client")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and SEND_TEXT.search(node.value)
        ):
            found.append(f"{where}:{line} names a send endpoint: {node.value[:60]!r}")
    return found


def test_no_module_under_src_ghostwatch_can_send() -> None:
    modules = sorted(SOURCE.rglob("*.py"))
    assert len(modules) > 100
    found = [place for module in modules for place in send_calls(module)]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        "service.users().drafts().send(userId='me', body={'id': draft}).execute()",
        "service.users().messages().send(userId='me', body=raw).execute()",
        "client.request('POST', f'/messages/{key}/send')",
        "client.request('POST', '/sendMail', json=payload)",
        "import smtplib",
        "from smtplib import SMTP_SSL",
        "scopes = ['https://www.googleapis.com/auth/gmail.send']",
    ],
)
def test_the_check_sees_each_way_of_sending(tmp_path: Path, code: str) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(code + "\n")
    assert send_calls(probe, root=tmp_path)
