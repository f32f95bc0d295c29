"""The service's configuration: one YAML file validated by pydantic-settings.

Usage (at an entry point only): `settings = config.load(Path("config/ghostwatch.yaml"))`.
"""

from __future__ import annotations

from ghostwatch.config.account import (
    AccountConfig,
    CadenceConfig,
    GmailOptions,
    ImapOptions,
    MaildirOptions,
    OutlookOptions,
    WorkingHours,
)
from ghostwatch.config.load import (
    DEFAULT_PATH,
    Checked,
    ConfigError,
    build,
    check,
    load,
    read_yaml,
)
from ghostwatch.config.model import (
    HealthConfig,
    ReplicasConfig,
    ScheduleConfig,
    Settings,
    schema,
)

__all__ = [
    "DEFAULT_PATH",
    "AccountConfig",
    "CadenceConfig",
    "Checked",
    "ConfigError",
    "GmailOptions",
    "HealthConfig",
    "ImapOptions",
    "MaildirOptions",
    "OutlookOptions",
    "ReplicasConfig",
    "ScheduleConfig",
    "Settings",
    "WorkingHours",
    "build",
    "check",
    "load",
    "read_yaml",
    "schema",
]
