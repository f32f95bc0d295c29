"""The service's settings: one YAML file, `GHOSTWATCH_*` overrides, mounted secrets.

Every field says what it is for in its `description`: `ghostwatch config schema` exports
them as a JSON schema editors complete and check against. Validators raise `ValueError`
with a message that says how to fix the value; `config.load` lists them all at once.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ghostwatch.compose import templating
from ghostwatch.engine.cadence import Cadence, Step, holiday_dates
from ghostwatch.model.decisions import Action

# One local part, one @, one domain; the same shape `--me` accepts (cli.py).
_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not an email address: write it as name@company.com")
    return value.strip().lower()


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" alone is a tzdata folder
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None
    return value


def _country(value: str) -> str:
    try:
        holiday_dates(value)
    except NotImplementedError:
        raise ValueError(
            f"no holiday calendar for {value!r}: use an ISO 3166 country code such as US or DE"
        ) from None
    return value.upper()


def _account_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot name an account: use lower-case letters, digits, '-', '_' "
            "or '.', starting with a letter or digit (e.g. alex or sales-team)"
        )
    return value


def _endpoint(value: str) -> str:
    """An API root ghostwatch sends a bearer token to: https, or plain http only on this
    machine (a sandbox on 127.0.0.1), where nothing on the network can read the token
    (RFC 6750 section 5.3: bearer tokens only over TLS)."""
    url = urlsplit(value)
    if url.scheme == "https" and url.hostname:
        return value
    if url.scheme == "http" and _loopback(url.hostname or ""):
        return value
    raise ValueError(
        f"{value!r} would carry the mailbox's access token in clear: use an https:// URL "
        "(plain http only for a sandbox on 127.0.0.1 or localhost)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_port(value: str) -> str:
    match = _HOST_PORT.fullmatch(value)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(
            f"{value!r} is not HOST:PORT: write e.g. 127.0.0.1:8787 "
            "(0.0.0.0:8787 to answer probes from other hosts)"
        )
    return value


def _not_a_number(value: Any) -> Any:
    # pydantic reads a number as seconds after midnight: `start: 8` would be 00:00:08.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r} is a number, not a clock time: write HH:MM in quotes, e.g. '08:00'"
        )
    return value


def _local(value: time) -> time:
    # The account's time_zone places every clock time; one with its own offset cannot be
    # compared with the local clock (and numbers came back from pydantic as UTC).
    if value.tzinfo is not None:
        raise ValueError(
            f"{value:%H:%M%z} carries a UTC offset: write the local time alone, e.g. "
            "'07:30' (the account's time_zone says where)"
        )
    return value


Address = Annotated[str, AfterValidator(_address)]
Clock = Annotated[time, BeforeValidator(_not_a_number), AfterValidator(_local)]
"""A local time of day written HH:MM (`'07:30'`): never a number, never with an offset."""
TimeZoneName = Annotated[str, AfterValidator(_zone)]
Country = Annotated[str, AfterValidator(_country)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]


class _Section(BaseModel):
    """Unknown keys are errors: a misspelt key silently ignored is a setting lost."""

    model_config = ConfigDict(extra="forbid")


class CadenceStep(_Section):
    action: Literal["nudge", "breakup"] = Field(description="What the follow-up is.")
    after: int = Field(ge=1, le=90, description="Business days after the previous message.")


class CadenceConfig(_Section):
    """Overrides the default cadence (nudge after 3, nudge after 7, break-up after 14)."""

    steps: list[CadenceStep] = Field(min_length=1, max_length=10)
    let_go_after: int = Field(
        default=10, ge=1, le=90, description="Business days after the last step, then let go."
    )

    def cadence(self) -> Cadence:
        steps = tuple(Step(Action(s.action), s.after) for s in self.steps)
        return Cadence(steps=steps, let_go_after_business_days=self.let_go_after)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingHours(_Section):
    """Mail is polled on working days (not holidays) between these local times; digests
    keep their time. Follow-ups still count business days (Monday to Friday)."""

    start: Clock = Field(default=time(8, 0), description="Local time polls begin (HH:MM).")
    end: Clock = Field(default=time(18, 0), description="Local time polls end (HH:MM).")
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS[:5]),
        min_length=1,
        description="Days polls run (default mon-fri; add sat, sun for a weekend desk).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end:%H:%M} is not after start {self.start:%H:%M}: "
                "working hours are one stretch of one day, e.g. start: '08:00', end: '18:00'"
            )
        return self

    def contains(self, clock: time) -> bool:
        return self.start <= clock < self.end

    def works_on(self, weekday: int) -> bool:
        """`weekday` as `date.weekday()` counts it (0: Monday)."""
        return WEEKDAYS[weekday] in self.days


class MaildirOptions(_Section):
    path: Path = Field(description="Root of the Maildir++ tree (INBOX at the root).")

    @model_validator(mode="after")
    def _exists(self) -> MaildirOptions:
        if not self.path.is_dir():
            raise ValueError(f"{self.path} is not a folder: give the root of an existing Maildir")
        return self


class GmailOptions(_Section):
    api_endpoint: Endpoint = Field(
        default="https://gmail.googleapis.com/",
        description="Gmail API root (a local sandbox's URL in demos and tests).",
    )
    batch_uri: Endpoint = Field(
        default="https://gmail.googleapis.com/batch/gmail/v1",
        description="Gmail's batch endpoint (the client does not derive it; docs/providers.md).",
    )
    calendar: bool = Field(default=True, description="Read Google Calendar and Meet too.")
    calendar_endpoint: Endpoint = Field(
        default="https://www.googleapis.com/calendar/v3/", description="Calendar v3 root."
    )
    meet_endpoint: Endpoint = Field(default="https://meet.googleapis.com/", description="Meet v2.")

    @classmethod
    def sandbox(cls, url: str) -> GmailOptions:
        """Every endpoint at a local `GmailSandbox` (demos and tests)."""
        return cls(
            api_endpoint=url,
            batch_uri=f"{url}/batch/gmail/v1",
            calendar_endpoint=f"{url}/calendar/v3/",
            meet_endpoint=url,
        )


class OutlookOptions(_Section):
    tenant: str = Field(default="common", description="Microsoft Entra tenant id or domain.")
    graph_endpoint: Endpoint = Field(
        default="https://graph.microsoft.com/v1.0", description="Microsoft Graph root."
    )


_LOOPBACK = re.compile(r"localhost|127(?:\.\d{1,3}){3}|\[?::1\]?")


class ImapOptions(_Section):
    """Any IMAP server, and optionally its CalDAV calendar (README "IMAP and CalDAV")."""

    host: str = Field(description="The IMAP server, e.g. imap.fastmail.com.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 993 with imaps, 143 otherwise."
    )
    tls: Literal["imaps", "starttls", "none"] = Field(
        default="imaps",
        description="imaps (TLS from the start), starttls, or none (loopback only).",
    )
    username: str | None = Field(default=None, description="Default: the account's address.")
    ca_file: Path | None = Field(
        default=None, description="A certificate authority to trust (a self-hosted server)."
    )
    caldav_url: str | None = Field(
        default=None,
        description="The CalDAV server for meetings, e.g. https://caldav.fastmail.com/",
    )
    caldav_username: str | None = Field(default=None, description="Default: the IMAP username.")
    calendar: str | None = Field(
        default=None, description="Read only this calendar (default: every calendar of yours)."
    )

    @model_validator(mode="after")
    def _tls_off_the_network_only(self) -> ImapOptions:
        if self.tls == "none" and not _LOOPBACK.fullmatch(self.host):
            raise ValueError(
                f"tls: none would send the password to {self.host} in clear: use tls: imaps "
                "(port 993) or tls: starttls (port 143); none is for 127.0.0.1 only"
            )
        return self

    def server_port(self) -> int:
        return self.port or (993 if self.tls == "imaps" else 143)


PROVIDER_SECTIONS = ("maildir", "gmail", "outlook", "imap")


class AccountConfig(_Section):
    name: Annotated[str, AfterValidator(_account_name)] = Field(
        description="Short unique name; `ghostwatch auth` and the store know it by this."
    )
    provider: Literal["gmail", "outlook", "maildir", "imap"]
    address: Address = Field(description="The mailbox's own address; drafts come from it.")
    aliases: list[Address] = Field(default_factory=list, description="Other addresses of yours.")
    display_name: str | None = Field(
        default=None, description="Your name as drafts sign it (default: the address's name)."
    )
    time_zone: TimeZoneName = Field(default="UTC", description="Business days are counted here.")
    holiday_country: Country | None = Field(
        default=None, description="Skip this country's public holidays (ISO 3166 code)."
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    cadence: CadenceConfig | None = Field(default=None, description="Default cadence if absent.")
    look_back_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Conversations quiet for longer are not followed up (the horizon); "
        "a first sync reads this far back.",
    )
    signature: str | None = Field(default=None, description="Text under every draft.")
    templates: Path | None = Field(
        default=None,
        description="A folder of templates that replace the built-in ones "
        "(`ghostwatch templates copy DIR` writes them out to start from).",
    )
    digest: bool = Field(default=True, description="Put a morning digest into the inbox.")
    digest_time: Clock = Field(default=time(7, 30), description="Local time of the digest.")
    junk_rescue: bool = Field(default=False, description="Move replies found in Junk back.")
    dry_run: bool = Field(default=False, description="Decide and log, write nothing.")
    enabled: bool = Field(default=True, description="false: configured but not watched.")
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=64 * 1024,
        description="The most of one message read (bytes); a longer one is judged by its "
        "headers and first parts. Default 4 MiB.",
    )
    maildir: MaildirOptions | None = Field(default=None, validate_default=True)
    gmail: GmailOptions | None = Field(default=None, validate_default=True)
    outlook: OutlookOptions | None = Field(default=None, validate_default=True)
    imap: ImapOptions | None = Field(default=None, validate_default=True)

    @field_validator(*PROVIDER_SECTIONS)
    @classmethod
    def _provider_section(cls, value: _Section | None, info: ValidationInfo) -> _Section | None:
        provider, section = info.data.get("provider"), info.field_name
        if value is not None and provider is not None and section != provider:
            raise ValueError(
                f"this section is for provider {section}, but the account's provider is "
                f"{provider}: remove the section or change the provider"
            )
        if value is None and section == "maildir" == provider:
            raise ValueError("provider maildir needs its folder: add `maildir: {path: /mail/you}`")
        if value is None and section == "imap" == provider:
            raise ValueError("provider imap needs its server: add `imap: {host: imap.example.com}`")
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: Path | None) -> Path | None:
        """Checked where the configuration is: a typo in a template would otherwise fail
        every draft of the daemon's first cycle (compose/templating.py)."""
        if value is None:
            return None
        if not value.is_dir():
            raise ValueError(
                f"{value} is not a folder: write the built-in templates there to start from "
                f"with `ghostwatch templates copy {value}`"
            )
        found = templating.problems(value)
        if found:
            raise ValueError("; ".join(found))
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def identity_addresses(self) -> list[str]:
        return [self.address, *self.aliases]

    @property
    def gets_digest(self) -> bool:
        """A digest arrives (and reports failed cycles): not in a dry run, which writes
        nothing, nor with `digest: false`."""
        return self.digest and not self.dry_run


class HealthConfig(_Section):
    address: Annotated[str, AfterValidator(_host_port)] = Field(
        default="127.0.0.1:8787", description="Where /healthz, /readyz and /metrics answer."
    )
    enabled: bool = True

    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host.strip("[]"), int(port)


class ScheduleConfig(_Section):
    mail_minutes: float = Field(
        default=5, ge=0.05, le=1440, description="Mail poll interval (0.5: every 30 s)."
    )
    calendar_minutes: int = Field(default=15, ge=1, le=1440, description="Calendar poll.")
    jitter_seconds: int = Field(
        default=30, ge=0, le=600, description="Random delay per poll, so accounts spread out."
    )
    stale_after_minutes: int = Field(
        default=20,
        ge=1,
        le=1440,
        description="/readyz fails if an account has not been checked for this long.",
    )


class ReplicasConfig(_Section):
    """Several `ghostwatch run` on one PostgreSQL divide the accounts by leases
    (docs/scaling.md); a SQLite database has one process and no leases."""

    lease_seconds: float = Field(
        default=60,
        ge=2,
        le=3600,
        description="How long a replica's hold on an account lasts unless renewed; a "
        "replica that dies loses its accounts to the others after this long.",
    )

    @property
    def renew_seconds(self) -> float:
        """Renewed three times a lease: two renewals may fail before it runs out."""
        return self.lease_seconds / 3


class Settings(BaseSettings):
    """Built once at the entry point; nothing deeper reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="GHOSTWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    data_dir: Path = Field(
        default=Path("data"), description="Where the SQLite database and the demo output live."
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB "
        "(default: a SQLite file in data_dir). A secret: may come from a mounted file.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Key of the encrypted token vault (ghostwatch auth)."
    )
    vault: Literal["files", "database"] = Field(
        default="files",
        description="Where the token vault is kept: files under data_dir/tokens, or the "
        "PostgreSQL database (replicas: no shared volume; `ghostwatch db import-vault` "
        "moves the files in first).",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: pretty on a terminal, JSON lines otherwise."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    health: HealthConfig = Field(default_factory=HealthConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    replicas: ReplicasConfig = Field(default_factory=ReplicasConfig)
    accounts: list[AccountConfig] = Field(min_length=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init values; the environment and mounted secrets
        # override it (12-factor: deployment beats the file).
        return env_settings, file_secret_settings, init_settings

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, accounts: list[AccountConfig]) -> list[AccountConfig]:
        names = [a.name for a in accounts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"account name {twice[0]!r} is used twice: give each a unique name")
        return accounts

    @model_validator(mode="after")
    def _vault_needs_postgresql(self) -> Settings:
        url = self.database_url.get_secret_value() if self.database_url else ""
        if self.vault == "database" and not url.strip().startswith("postgres"):
            raise ValueError(
                "vault: database keeps the token vault in a PostgreSQL database_url: set "
                "database_url to one, or vault: files"
            )
        return self

    def database(self) -> str:
        """The database URL, the secret revealed (only the store's connect sees it)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'ghostwatch.db'}"

    def enabled_accounts(self) -> list[AccountConfig]:
        return [a for a in self.accounts if a.enabled]


def schema() -> dict[str, Any]:
    return Settings.model_json_schema()
