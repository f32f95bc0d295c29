"""One watched mailbox's settings: its provider and server, its person, its hours and
cadence, its digest (`accounts:` in the YAML file, one `AccountConfig` each).

Every field says what it is for in its `description`: `ghostwatch config schema` exports
them as a JSON schema editors complete and check against.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ghostwatch.compose import templating
from ghostwatch.config.values import (
    AccountName,
    Address,
    Clock,
    Country,
    Endpoint,
    Section,
    TimeZoneName,
)
from ghostwatch.engine.cadence import Cadence, Step
from ghostwatch.model.decisions import Action


class CadenceStep(Section):
    action: Literal["nudge", "breakup"] = Field(description="What the follow-up is.")
    after: int = Field(ge=1, le=90, description="Business days after the previous message.")


class CadenceConfig(Section):
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


class WorkingHours(Section):
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


class MaildirOptions(Section):
    path: Path = Field(description="Root of the Maildir++ tree (INBOX at the root).")

    @model_validator(mode="after")
    def _exists(self) -> MaildirOptions:
        if not self.path.is_dir():
            raise ValueError(f"{self.path} is not a folder: give the root of an existing Maildir")
        return self


class GmailOptions(Section):
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


class OutlookOptions(Section):
    tenant: str = Field(default="common", description="Microsoft Entra tenant id or domain.")
    graph_endpoint: Endpoint = Field(
        default="https://graph.microsoft.com/v1.0", description="Microsoft Graph root."
    )


_LOOPBACK = re.compile(r"localhost|127(?:\.\d{1,3}){3}|\[?::1\]?")


class ImapOptions(Section):
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


class AccountConfig(Section):
    name: AccountName = Field(
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
    def _provider_section(cls, value: Section | None, info: ValidationInfo) -> Section | None:
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
