"""Where a setting's value came from, so a problem is blamed on what the user must edit.

A value can come from three places, in pydantic-settings' order of precedence (model.py,
`settings_customise_sources`): a `GHOSTWATCH_*` environment variable, a file in the
secrets folder (`ghostwatch_database_url`), or the YAML file. A bad value from the
environment reported as a line of the file sends the user to edit a file that is fine.

Files in the secrets folder hold passwords and keys: one the reader owns that its group
or others can read is refused, as ssh refuses such a private key (see `ghostwatch.private`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ghostwatch import private

PREFIX = "GHOSTWATCH_"
NESTING = "__"
# The settings pydantic-settings reads from the secrets folder (a secret each).
SECRET_FIELDS = ("database_url", "secret_key")


def environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    """The variables pydantic-settings reads (case-insensitively: model.py), upper-cased.
    None: the process's own environment, which is what pydantic-settings reads."""
    given = os.environ if environ is None else environ
    return {name.upper(): name for name in given if name.upper().startswith(PREFIX)}


def variable_for(loc: tuple[int | str, ...], names: Mapping[str, str]) -> str | None:
    """The environment variable that set the value at `loc`, if one did: the most precise
    of GHOSTWATCH_HEALTH__ADDRESS and GHOSTWATCH_HEALTH (a JSON object) for health.address.
    A list is set whole (GHOSTWATCH_ACCOUNTS), so the path stops at the first index; a
    variable for one item of it is blamed for the list (`item_variable`)."""
    keys: list[str] = []
    for part in loc:
        if isinstance(part, int):
            break
        keys.append(part.upper())
    for length in range(len(keys), 0, -1):
        found = names.get(PREFIX + NESTING.join(keys[:length]))
        if found is not None:
            return found
    return item_variable(keys, names)


def item_variable(keys: list[str], names: Mapping[str, str]) -> str | None:
    """A variable naming one item of the list at `keys` (GHOSTWATCH_ACCOUNTS__0__DRY_RUN):
    pydantic-settings makes it a mapping that replaces the whole list, so the list's
    problem is that variable's."""
    stem = PREFIX + NESTING.join(keys) + NESTING
    for upper, name in sorted(names.items()):
        if keys and upper.startswith(stem) and upper[len(stem) :].split(NESTING)[0].isdigit():
            return name
    return None


def secret_file_for(loc: tuple[int | str, ...], secrets_dir: Path | None) -> Path | None:
    if secrets_dir is None or not loc or loc[0] not in SECRET_FIELDS:
        return None
    path = secrets_dir / f"ghostwatch_{loc[0]}"
    return path if path.is_file() else None


def blame(
    loc: tuple[int | str, ...], names: Mapping[str, str], secrets_dir: Path | None
) -> str | None:
    """`from GHOSTWATCH_X` or `from FILE` when the value did not come from the YAML file."""
    variable = variable_for(loc, names)
    if variable is not None:
        return f"from {variable}"
    secret = secret_file_for(loc, secrets_dir)
    return None if secret is None else f"from {secret}"


def open_secret_files(secrets_dir: Path | None) -> list[str]:
    """A problem for each secret file in `secrets_dir` that others may read."""
    if secrets_dir is None:
        return []
    found = (secrets_dir / f"ghostwatch_{field}" for field in SECRET_FIELDS)
    return [problem for path in found if (problem := private.too_open(path))]
