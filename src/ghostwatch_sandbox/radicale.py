"""A real Radicale CalDAV server on 127.0.0.1, seeded from a `calendar.ics` file.

Not an emulator: Radicale (a PyPI package, in the development dependencies) run as
`python -m radicale --config FILE`, with its configuration, users file and collections in
one temporary folder (naming the file keeps /etc/radicale and ~/.config out of it).

CalDAV keeps one event per resource (RFC 4791 §4.1: one UID, with its RECURRENCE-ID
overrides), without METHOD: the seed is split by UID, each part keeping the file's time
zones and its X-WR-TIMEZONE, and written into Radicale's storage as its own files.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import shutil

# Starts Radicale with a fixed argument list (B404).
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import icalendar

from ghostwatch_sandbox.dovecot import free_port

CALENDAR = "calendar"
CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[web]
type = none
[logging]
level = warning
mask_passwords = True
"""


def radicale_available() -> bool:
    """Whether Radicale is installed beside ghostwatch (`pip install radicale`)."""
    return importlib.util.find_spec("radicale") is not None


def split_calendar(data: bytes) -> dict[str, bytes]:
    """One iCalendar object per UID (its overrides kept with it), METHOD dropped."""
    calendar = icalendar.Calendar.from_ical(data)
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    by_uid: dict[str, list[icalendar.Component]] = {}
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            by_uid.setdefault(str(component.get("UID", "")), []).append(component)
    parts = {}
    for uid, components in by_uid.items():
        part = icalendar.Calendar()
        part.add("prodid", "-//ghostwatch sandbox//EN")
        part.add("version", "2.0")
        for name in ("X-WR-TIMEZONE", "CALSCALE"):
            if name in calendar:
                part.add(name, calendar[name])
        for component in [*zones, *components]:
            part.add_component(component)
        parts[hashlib.sha256(uid.encode()).hexdigest()[:24]] = part.to_ical()
    return parts


@dataclass
class Radicale:
    """One user's calendar served by a Radicale of its own."""

    user: str = "alex"
    password: str = "secret-app-password"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ghostwatch-dav-")))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def calendar_url(self) -> str:
        return f"{self.url}{self.user}/{CALENDAR}/"

    @classmethod
    @contextlib.contextmanager
    def serve(cls, seed: bytes | None = None, **options: object) -> Iterator[Radicale]:
        server = cls(**options)  # type: ignore[arg-type]
        try:
            server.load(seed)
            server.start()
            yield server
        finally:
            server.close()

    def load(self, seed: bytes | None) -> None:
        (self.root / "users").write_text(f"{self.user}:{self.password}\n")
        (self.root / "config").write_text(CONFIG.format(port=self.port, root=self.root))
        collection = self.root / "collections" / "collection-root" / self.user / CALENDAR
        collection.mkdir(parents=True)
        props = {"tag": "VCALENDAR", "D:displayname": CALENDAR}
        (collection / ".Radicale.props").write_text(json.dumps(props))
        for name, data in split_calendar(seed).items() if seed else ():
            (collection / f"{name}.ics").write_bytes(data)

    def start(self, timeout: float = 20.0) -> None:
        command = [sys.executable, "-m", "radicale", "--config", str(self.root / "config")]
        log = (self.root / "radicale.log").open("ab")
        # Fixed arguments, no shell (B603).
        self.process = subprocess.Popen(  # nosec B603
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"radicale did not start:\n{self.log()[-2000:]}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        request = urllib.request.Request(self.url, method="OPTIONS")
        try:
            # Loopback http (B310).
            urllib.request.urlopen(request, timeout=0.5).close()  # nosec B310
        except urllib.error.HTTPError:
            return True  # any HTTP answer: it is up
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "radicale.log"
        return path.read_text(errors="replace") if path.exists() else ""
