"""The service's settings: one YAML file, `GHOSTWATCH_*` overrides, mounted secrets.

`Settings` is the whole file: the service-wide sections (health, schedule, replicas, the
database and the vault) here, each account's settings in account.py, the checked values
they are made of in values.py. Every field says what it is for in its `description`:
`ghostwatch config schema` exports them as a JSON schema editors complete and check
against. Validators raise `ValueError` with a message that says how to fix the value;
`config.load` lists them all at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ghostwatch.config.account import AccountConfig
from ghostwatch.config.values import HostPort, Section


class HealthConfig(Section):
    address: HostPort = Field(
        default="127.0.0.1:8787", description="Where /healthz, /readyz and /metrics answer."
    )
    enabled: bool = True

    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host.strip("[]"), int(port)


class ScheduleConfig(Section):
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


class ReplicasConfig(Section):
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
