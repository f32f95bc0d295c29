"""Reading the settings: the YAML file, then the environment and mounted secrets over it.

A validation failure becomes one `UserError` listing every problem at once, each as the
dotted path of the bad key (`accounts.0.time_zone`), what is wrong and how to fix it, and
where the value came from when it was not the file (`from GHOSTWATCH_HEALTH__ADDRESS`),
so a user fixes everything in one pass instead of one error per run. `check` returns the
problems beside whatever settings could be built, for callers that add their own
(service/preflight.py: what would stop the first poll).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import EnvSettingsSource, SecretsSettingsSource

from ghostwatch.config import sources
from ghostwatch.config.model import Settings
from ghostwatch.errors import UserError
from ghostwatch.vault.keys import KEY_FILE_ENV, read_key_file

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
    "float_parsing": "write a number, e.g. 5 or 0.5",
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

    def __init__(self, source: str, problems: list[str], *, in_file: bool = True) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        # Blame the file only for what is in it: a variable, a secret or a sign-in is not.
        where = source if in_file else f"{source} and the environment it runs in"
        # One problem, one line; several, one line each under the count.
        sep = "\n  " if len(problems) > 1 else " "
        super().__init__(
            f"{where} {'has' if in_file else 'have'} {count}:{sep}" + sep.join(problems)
        )


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; a missing or malformed file is a `UserError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"no configuration at {path}: run `ghostwatch init --path {path}` to write one, "
            "or pass --config (env GHOSTWATCH_CONFIG)"
        ) from None
    except UnicodeDecodeError as error:
        # Not a permissions matter: the editor saved it in another encoding (or it is
        # not the configuration at all).
        raise UserError(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}): save it as UTF-8, or check that --config names the YAML file"
        ) from None
    except OSError as error:
        raise UserError(
            f"cannot read {path}: {error.strerror}: check the file's permissions"
        ) from None
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


@dataclass(frozen=True)
class Checked:
    """Settings as far as they could be built, and every problem found, one line each."""

    settings: Settings | None
    """The settings to run with; None when there is any problem."""
    problems: list[str]
    source: str
    in_file: bool = True
    """Every problem is a key of the file (none from the environment or elsewhere)."""
    partial: Settings | None = None
    """The settings without the accounts and keys that have problems, for checks that
    look further (service/preflight.py), so one problem does not hide the next, and for
    commands about one account (`for_account`); never settings to run with. None when
    too little is left."""
    by_account: dict[str, list[str]] = field(default_factory=dict)
    """The problems inside one account, by the account's name: `partial` leaves it out."""
    origins: dict[str, str] = field(default_factory=dict)
    """Where each of the settings the preflight checks was set, when not in the file:
    `secret_key` → `from GHOSTWATCH_SECRET_KEY_FILE=/run/secrets/key`, so its problem
    names the variable or file to fix."""
    key_read: bool = True
    """False when the key file could not be used (already a problem: say it once)."""

    def settings_or_raise(self, more: list[str] | None = None) -> Settings:
        problems = [*self.problems, *(more or [])]
        if problems or self.settings is None:
            raise ConfigError(self.source, problems, in_file=self.in_file and not more)
        return self.settings

    def for_account(self, name: str) -> tuple[Settings, list[str]]:
        """The settings for a command about account `name` alone (`ghostwatch auth`), and
        the other accounts' problems, which do not stop it: signing one mailbox in needs
        that account and the file's own settings valid, not a colleague's time zone.
        `ConfigError` when a problem is in `name` or outside the accounts."""
        others = [p for account, found in self.by_account.items() if account != name
                  for p in found]  # fmt: skip
        only_others = bool(others) and sorted(others) == sorted(self.problems)
        if self.settings is None and self.partial is not None and only_others:
            return self.partial, others
        return self.settings_or_raise(), []


def check(
    path: Path,
    secrets_dir: Path | None = None,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Checked:
    """Every problem of the file, the environment, the secrets and the key file at once.
    A file that cannot be read or parsed at all is still one `UserError`."""
    checked = validate(read_yaml(path), str(path), secrets_dir, environ)
    problems = [*checked.problems, *sources.open_secret_files(secrets_dir)]
    settings, partial, key_read = checked.settings, checked.partial, True
    if key_file is not None:
        try:  # read even when the schema failed: its problem is reported with the rest
            key = read_key_file(key_file)
            settings = None if settings is None else with_key(settings, key)
            partial = None if partial is None else with_key(partial, key)
        except UserError as error:
            problems.append(str(error))
            settings, key_read = None, False
    return Checked(
        None if problems else settings,
        problems,
        str(path),
        in_file=checked.in_file and len(problems) == len(checked.problems),
        partial=partial,
        by_account=checked.by_account,
        origins=_origins(secrets_dir, key_file, environ),
        key_read=key_read,
    )


def _origins(
    secrets_dir: Path | None, key_file: Path | None, environ: Mapping[str, str] | None
) -> dict[str, str]:
    names = sources.environment(environ)
    found = {
        key: origin
        for key in ("secret_key", "database_url", "data_dir")
        if (origin := sources.blame((key,), names, secrets_dir)) is not None
    }
    if key_file is not None:
        found["secret_key"] = f"from {KEY_FILE_ENV}={key_file}"
    return found


def validate(
    data: dict[str, Any],
    source: str,
    secrets_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Checked:
    try:
        # `_secrets_dir` is pydantic-settings' per-instance override of model_config.
        settings = Settings(_secrets_dir=secrets_dir, **data)  # type: ignore[call-arg]
    except ValidationError as error:
        names = sources.environment(environ)
        blamed = [(e, sources.blame(e["loc"], names, secrets_dir)) for e in error.errors()]
        problems = [describe(e, origin) for e, origin in blamed]
        merged = _merge(_merge(data, _read_secrets(secrets_dir)), EnvSettingsSource(Settings)())
        by_account = _by_account(merged, [e["loc"] for e, _ in blamed], problems)
        problems += _duplicates(data, problems)
        in_file = all(origin is None for _, origin in blamed)
        partial = _without_problems(merged, error)
        return Checked(
            None, problems, source, in_file=in_file, partial=partial, by_account=by_account
        )
    return Checked(settings, [], source, partial=settings)


def build(
    data: dict[str, Any],
    source: str,
    secrets_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Validate `data` (+ environment, + secrets) into `Settings`, or raise `ConfigError`."""
    return validate(data, source, secrets_dir, environ).settings_or_raise()


def load(
    path: Path,
    secrets_dir: Path | None = None,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings to run with, or `ConfigError` listing every problem."""
    return check(path, secrets_dir, key_file, environ).settings_or_raise()


def _by_account(
    merged: dict[str, Any], locs: list[tuple[int | str, ...]], problems: list[str]
) -> dict[str, list[str]]:
    """Each problem inside one account, under that account's name as written."""
    accounts = merged.get("accounts")
    found: dict[str, list[str]] = {}
    for loc, problem in zip(locs, problems, strict=True):
        if len(loc) < 2 or loc[0] != "accounts" or not isinstance(loc[1], int):
            continue
        entry = accounts[loc[1]] if isinstance(accounts, list) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        # No name of its own: a key no account can be called (names are lower-case).
        found.setdefault(name if isinstance(name, str) else f"#{loc[1]}", []).append(problem)
    return found


def _without_problems(merged: dict[str, Any], error: ValidationError) -> Settings | None:
    """The settings as the file, the secrets and the environment give them (`merged`),
    less each account and top-level section a problem is in; None if even that does not
    validate."""
    locs = [e["loc"] for e in error.errors() if e["loc"]]
    bad_accounts = {loc[1] for loc in locs if loc[0] == "accounts" and len(loc) > 1}
    rest = {k: v for k, v in merged.items() if k not in {loc[0] for loc in locs}}
    accounts = merged.get("accounts")
    if isinstance(accounts, list):
        kept = [a for i, a in enumerate(accounts) if i not in bad_accounts]
        names = Counter(a.get("name") for a in kept if isinstance(a, dict))
        rest["accounts"] = [a for a in kept if isinstance(a, dict) and names[a.get("name")] == 1]
    try:
        # Sources already merged above: an environment prefix nothing has, and no secrets.
        return Settings(_env_prefix="GHOSTWATCH_PARTIAL_NONE_", **rest)  # type: ignore[call-arg]
    except ValidationError:
        return None


def _read_secrets(secrets_dir: Path | None) -> dict[str, Any]:
    return {} if secrets_dir is None else SecretsSettingsSource(Settings, secrets_dir)()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on `base`, mapping by mapping, as pydantic-settings merges its sources."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        both = isinstance(below, dict) and isinstance(value, dict)
        merged[key] = _merge(below, value) if both else value  # type: ignore[arg-type]
    return merged


def _duplicates(data: dict[str, Any], problems: list[str]) -> list[str]:
    """Names used twice, found in the file itself: the model's own check of them runs
    only once every account is valid, and a user should see them in the same pass."""
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or any(p.startswith("accounts: ") for p in problems):
        return []
    names = Counter(a.get("name") for a in accounts if isinstance(a, dict))
    return [
        f"accounts: account name {name!r} is used twice: give each a unique name"
        for name, count in names.items()
        if isinstance(name, str) and count > 1
    ]


def with_key_file(settings: Settings, file: Path) -> Settings:
    """The vault key read from a mounted file (GHOSTWATCH_SECRET_KEY_FILE), as `ghostwatch
    auth` reads it: the deploy files name it so, and the daemon must find the same key."""
    return with_key(settings, read_key_file(file))


def with_key(settings: Settings, key_text: str) -> Settings:
    text = key_text.strip()
    held = settings.secret_key.get_secret_value().strip() if settings.secret_key else ""
    if held and held != text:
        raise UserError(
            "GHOSTWATCH_SECRET_KEY (or secret_key in a secrets folder) and "
            "GHOSTWATCH_SECRET_KEY_FILE hold different keys: keep only one"
        )
    return settings.model_copy(update={"secret_key": SecretStr(text)})


def describe(error: ErrorDetails, origin: str | None = None) -> str:
    """`dotted.path: what is wrong; how to fix it` for one validation error, with
    `dotted.path (from GHOSTWATCH_…)` when the value did not come from the file."""
    loc = error["loc"]
    path = ".".join(str(part) for part in loc) or "(top level)"
    where = path if origin is None else f"{path} ({origin})"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; {_unknown_hint(loc)}"
    if error["type"] == "list_type" and origin is not None and _ITEM.search(origin):
        variable = f"{sources.PREFIX}{path.upper().replace('.', sources.NESTING)}"
        return (
            f"{where}: one item of a list cannot be set from the environment (the variable "
            f"replaces the whole list): change it in the file, or give the whole list as "
            f"JSON in {variable}"
        )
    hint = _HINTS.get(error["type"])
    return f"{where}: {message}" + (f"; {hint}" if hint else "")


_ITEM = re.compile(r"__\d+(__|$)")


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
