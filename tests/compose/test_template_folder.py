"""A templates folder is checked before anything is rendered (issue 16): every mistake at
once, each with its file and line and what that template is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostwatch.compose import templating
from ghostwatch.errors import TemplateProblem


def test_the_built_in_templates_use_only_what_they_are_given(tmp_path: Path) -> None:
    for file in templating.builtin_files():
        (tmp_path / file).write_text(templating.builtin_text(file), encoding="utf-8")
    assert templating.problems(tmp_path) == []
    templating.check(tmp_path)  # raises nothing


def test_every_mistake_of_a_folder_is_said_at_once(tmp_path: Path) -> None:
    (tmp_path / "nudge.txt").write_text("Hi {{ greeting }},\n\n{{ first_nmae }}\n")
    (tmp_path / "breakup.html").write_text("{% if %}\n")
    (tmp_path / "nudge2.txt").write_text("{{ greeting }}\n")
    (tmp_path / "README.md").write_text("my notes {{ nothing }}\n")
    found = templating.problems(tmp_path)
    assert len(found) == 3
    breakup, nudge, misnamed = found
    assert f"{tmp_path / 'breakup.html'}, line 1" in breakup
    assert f"{tmp_path / 'nudge.txt'}, line 3: unknown variable 'first_nmae'" in nudge
    assert "nudge templates get " + ", ".join(templating.VALUES["nudge"]) in nudge
    assert "nudge2.txt: not a ghostwatch template" in misnamed
    with pytest.raises(TemplateProblem, match="3 problem"):
        templating.check(tmp_path)


def test_a_loop_variable_and_jinja_globals_are_not_unknown(tmp_path: Path) -> None:
    text = "{% for line in signature_lines %}{{ loop.index }} {{ line }}{% endfor %}{{ range(2) }}"
    (tmp_path / "meeting_followup.txt").write_text(text)
    assert templating.problems(tmp_path) == []
