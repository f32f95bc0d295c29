"""One Jinja2 environment: the package's templates, overridable from a folder.

A user's folder (named in the config) is searched first, so copying one built-in
template there and editing it changes only that template.

`VALUES` says which values each template is given; `render` is the one way a template is
rendered and refuses a context that differs from it (so the list cannot drift from the
code), and `problems` checks a user's folder against it before anything is rendered:
an unknown variable is named with its file and line and the list that template gets.
"""

from __future__ import annotations

import difflib
import functools
import traceback
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from markupsafe import Markup

from ghostwatch.errors import TemplateProblem
from ghostwatch.mail.visible import visible

_SIGNED = ("signature", "signature_lines", "sender_name")
_FOLLOW_UP = (*_SIGNED, "greeting", "since", "reason", "subject", "attempt", "after_absence")
_MEETING = (*_SIGNED, "greeting", "when", "summary", "days")
_DIGEST = (
    "subject", "today", "greeting", "summary", "needs", "waiting", "let_go", "since",
    "weeks", "weeks_title", "small_sample", "notice", "skipped", "outdated",
)  # fmt: skip
VALUES: dict[str, tuple[str, ...]] = {
    "nudge": _FOLLOW_UP,
    "nudge_second": _FOLLOW_UP,
    "nudge_after_absence": _FOLLOW_UP,
    "nudge_after_deferral": _FOLLOW_UP,
    "breakup": _FOLLOW_UP,
    "meeting_followup": _MEETING,
    "digest": _DIGEST,
}
"""Each template (its .txt and .html file alike) and the values it is given."""

SUFFIXES = (".txt", ".html")


# One environment per folder, kept: it caches compiled templates, which measured ~75 ms a
# digest to rebuild. Jinja checks each file's mtime before using its cached template
# (`auto_reload`, on by default), so an edited override is still picked up.
@functools.lru_cache(maxsize=8)
def environment(override: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(str(override)))
    loaders.append(jinja2.PackageLoader("ghostwatch", "compose/templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # HTML parts escape what the mail said; text parts must not.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        # A template that names a value we did not pass fails loudly, never prints blank.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_visible,
    )


def _visible(value: Any) -> Any:
    """Every value a template prints, as mail/visible.py shows a stranger's text: a
    subject or a name in a draft or the digest carries no escape sequence or control
    character into the text part (a terminal mail client obeys them) or the HTML."""
    if isinstance(value, Markup):  # markup already (a template's |e or |safe): not escaped again
        # Removing escape sequences and replacing control characters by "?" cannot make
        # markup of what was none (hence the nosec): the value was Markup before.
        return Markup(visible(str(value)))  # nosec B704
    return visible(value) if isinstance(value, str) else value


def render(env: jinja2.Environment, file: str, context: dict[str, Any]) -> str:
    """`file` (e.g. "nudge.txt") rendered with `context`; a template that fails is a
    `TemplateProblem` naming the file, the line and what that template is given."""
    stem = file.rsplit(".", 1)[0]
    if set(context) != set(VALUES[stem]):  # our bug: the documented list must be true
        raise RuntimeError(f"{file} is rendered with {sorted(context)}, not VALUES[{stem!r}]")
    try:
        return env.get_template(file).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(
            _said(error.filename or file, error.lineno, error.message or "does not parse")
        ) from error
    except jinja2.UndefinedError as error:
        where, line = _template_frame(error, file)
        raise TemplateProblem(_said(where, line, _undefined(error, stem))) from error


def _said(file: str, line: int | None, what: str) -> str:
    at = f", line {line}" if line else ""
    return f"template {file}{at}: {what}"


def _undefined(error: jinja2.UndefinedError, stem: str) -> str:
    # Jinja says "'first_nmae' is undefined" or "'dict object' has no attribute 'x'".
    return f"{error.message or 'a value is undefined'}; {gets(stem)}"


def gets(stem: str) -> str:
    return f"{stem} templates get {', '.join(VALUES[stem])}"


def _template_frame(error: BaseException, file: str) -> tuple[str, int | None]:
    """Jinja rewrites a render's traceback so its frames are the template's own lines."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(SUFFIXES):
            return frame.filename, frame.lineno
    return file, None


def builtin_files() -> list[str]:
    """Every template file ghostwatch ships, e.g. "nudge.txt"."""
    return [f"{stem}{suffix}" for stem in VALUES for suffix in SUFFIXES]


def builtin_text(file: str) -> str:
    return resources.files("ghostwatch").joinpath("compose/templates", file).read_text("utf-8")


def problems(folder: Path) -> list[str]:
    """Everything wrong with a templates folder, one line each, without rendering: a
    .txt or .html file that is not one of ours (a misspelt name is never used), one
    that does not parse or is not UTF-8, a variable the template is not given (with its
    line), and a folder that cannot be read."""
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as error:
        return [f"templates folder {folder}: {error.strerror or error}"]
    found: list[str] = []
    for path in files:
        found += _file_problems(path)
    return found


def _file_problems(path: Path) -> list[str]:
    stem, suffix = path.stem, path.suffix
    if suffix not in SUFFIXES:
        return []  # notes beside the templates (a README) are left alone
    if stem not in VALUES:
        return [f"{path}: not a ghostwatch template (they are {', '.join(builtin_files())})"]
    try:
        tree = environment().parse(path.read_text(encoding="utf-8"), path.name, str(path))
    except (OSError, UnicodeDecodeError) as error:
        return [f"{path}: cannot be read as UTF-8 text ({error})"]
    except jinja2.TemplateSyntaxError as error:
        return [_said(str(path), error.lineno, error.message or "does not parse")]
    # Also what the template sets itself anywhere (meta misses a `set` inside an `if`).
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    known = {*VALUES[stem], *environment().globals, *stored}
    unknown = sorted(meta.find_undeclared_variables(tree) - known)
    return [
        _said(
            str(path),
            _first_line(tree, name),
            f"unknown variable {name!r}{_maybe(name, stem)}; {gets(stem)}",
        )
        for name in unknown
    ]


def _maybe(name: str, stem: str) -> str:
    close = difflib.get_close_matches(name, VALUES[stem], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _first_line(tree: nodes.Template, name: str) -> int | None:
    lines = [n.lineno for n in _names(tree) if n.name == name]
    return min(lines) if lines else None


def _names(tree: nodes.Template) -> Iterator[nodes.Name]:
    yield from (n for n in tree.find_all(nodes.Name) if n.ctx == "load")


def check(folder: Path | None) -> None:
    """`TemplateProblem` listing every problem of `folder` (nothing if it is None)."""
    if folder is None:
        return
    found = problems(folder)
    if len(found) == 1:
        raise TemplateProblem(found[0])
    if found:
        head = f"{len(found)} problem(s) in the templates folder {folder}:"
        raise TemplateProblem("\n  ".join([head, *found]))
