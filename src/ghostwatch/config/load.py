"""Reading the settings: the YAML file, then the environment and mounted secrets over it.

A validation failure becomes one `UserError` listing every problem at once, each as the
dotted path of the bad key (`accounts.0.time_zone`), what is wrong and how to fix it, so
a user fixes the file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from ghostwatch.config.model import Settings
from ghostwatch.errors import UserError
from ghostwatch.vault.keys import read_key_file

DEFAULT_PATH = Path("config/ghostwatch.yaml")
_CLOCK = re.compile(r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$")


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads an unquoted 07:30 as the base-60 integer 450, which would become
    00:07:30; here a clock time stays text so `digest_time: 07:30` means what it says."""


_Loader.yaml_implicit_resolvers = {
    key: ([("tag:yaml.org,2002:str", _CLOCK)] if key.isdigit() else []) + list(resolvers)
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# How to fix the commonest pydantic error kinds; validators' own messages already say it.
_HINTS: dict[str, str] = {
    "missing": "add this key",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "time_parsing": "write a time as HH:MM, e.g. '07:30' (quoted)",
    "time_type": "write a time as HH:MM, e.g. '07:30' (quoted)",
    "string_type": "write text",
    "list_type": "write a list (one `- item` per line)",
    "model_type": "write a mapping (`key: value` lines indented under it)",
    "model_attributes_type": "write a mapping (`key: value` lines indented under it)",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "too_short": "add at least one entry",
    "too_long": "remove some entries",
    "path_type": "write a folder path",
}


class ConfigError(UserError):
    """The configuration cannot be used; the message lists every problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source} has {count}:\n" + "\n".join(f"  {p}" for p in problems))


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; a missing or malformed file is a `UserError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"no configuration at {path}: run `ghostwatch init --path {path}` to write one, "
            "or pass --config (env GHOSTWATCH_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {path}: {error}: check the file's permissions") from None
    try:
        # _Loader is a SafeLoader subclass (no object tags), which bandit cannot see.
        data = yaml.load(text, Loader=_Loader)  # nosec B506
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise UserError(f"{path} is not valid YAML{at}: {problem}; fix the syntax there") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{path} must be a mapping of settings (key: value lines), not a list")
    return data


def build(data: dict[str, Any], source: str, secrets_dir: Path | None = None) -> Settings:
    """Validate `data` (+ environment, + secrets) into `Settings`, or raise `ConfigError`."""
    try:
        # `_secrets_dir` is pydantic-settings' per-instance override of model_config.
        return Settings(_secrets_dir=secrets_dir, **data)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(source, [describe(e) for e in error.errors()]) from None


def load(path: Path, secrets_dir: Path | None = None, key_file: Path | None = None) -> Settings:
    settings = build(read_yaml(path), str(path), secrets_dir)
    return settings if key_file is None else with_key_file(settings, key_file)


def with_key_file(settings: Settings, file: Path) -> Settings:
    """The vault key read from a mounted file (GHOSTWATCH_SECRET_KEY_FILE), as `ghostwatch
    auth` reads it: the deploy files name it so, and the daemon must find the same key."""
    text = read_key_file(file).strip()
    held = settings.secret_key.get_secret_value().strip() if settings.secret_key else ""
    if held and held != text:
        raise UserError(
            "GHOSTWATCH_SECRET_KEY (or secret_key in a secrets folder) and "
            "GHOSTWATCH_SECRET_KEY_FILE hold different keys: keep only one"
        )
    return settings.model_copy(update={"secret_key": SecretStr(text)})


def describe(error: ErrorDetails) -> str:
    """`dotted.path: what is wrong; how to fix it` for one validation error."""
    loc = error["loc"]
    path = ".".join(str(part) for part in loc) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown key; {_unknown_hint(loc)}"
    hint = _HINTS.get(error["type"])
    return f"{path}: {message}" + (f"; {hint}" if hint else "")


def _unknown_hint(loc: tuple[int | str, ...]) -> str:
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"remove it (known keys here: {', '.join(sorted(known))})"


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model allows at `loc` (list indexes are skipped)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for inner in typing.get_args(annotation):
            if (found := _model_in(inner)) is not None:
                return found
    return None
