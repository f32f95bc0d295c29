"""The Dockerfile's install steps, replayed outside Docker (no Docker engine runs in CI).

The build stage: copy what it COPYs, `pip wheel` it with every dependency. The runtime
stage: install those wheels only (`--no-index`) into a clean environment, then run as the
image's USER, in its WORKDIR, with its ENV: `ghostwatch --help`, `ghostwatch db upgrade`
on a SQLite file, and the HEALTHCHECK command. All of it is read from the Dockerfile
(tests/support/dockerfile.py), so the two cannot drift apart.

Built once per pytest worker (~25 s of CPU with pip's cache warm from `make install`); the
tests sit together in this file, so xdist's default scheduling mostly hands them to one worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostwatch.providers.google import signin as google
from ghostwatch.vault.keys import new_key, resolve_key
from ghostwatch.vault.tokens import vault_in
from tests.support.dockerfile import Image
from tests.support.health_server import StatusServer, server
from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

__all__ = ["server"]  # the fixture

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
IMAGE = Image.read()


@dataclass(frozen=True)
class Installed:
    """A clean environment holding only the image's wheels, and a data dir for its user."""

    python: Path
    wheels: Path
    data: Path
    uid: int
    gid: int

    def run(
        self, *command: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`command` as the image's user, in its WORKDIR, with its ENV and nothing else."""
        bin_dir = self.python.parent
        environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(self.data)}
        environment |= {"LANG": "C.UTF-8", **IMAGE.env(), **(env or {})}
        return subprocess.run(  # the test's own command lines, no shell
            [*_as_user(self.uid, self.gid), *command],
            cwd=self.data,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _as_user(uid: int, gid: int) -> list[str]:
    if os.geteuid() != 0:
        return []  # already unprivileged: run as ourselves
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def _interpreter(uid: int, gid: int) -> str:
    """A Python >= 3.11 the image's user can execute (root's pyenv often sits in /root)."""
    if os.geteuid() != 0:
        return sys.executable
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop to the image's user")
    check = "import sys; sys.exit(sys.version_info < (3, 11))"
    for candidate in (
        getattr(sys, "_base_executable", ""),
        "/usr/bin/python3",
        "/usr/local/bin/python3",
    ):
        if candidate and Path(candidate).exists():
            done = subprocess.run([*_as_user(uid, gid), candidate, "-c", check], check=False)
            if done.returncode == 0:
                return candidate
    pytest.skip(f"no Python >= 3.11 here that uid {uid} may execute")


def _pip(*args: str) -> None:
    done = subprocess.run([*PIP, *args], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stderr[-3000:]}"


def _build_stage(context: Path, python: Path, wheels: Path) -> None:
    """COPY the build stage's sources into `context`, then its RUN steps: the build tools
    and the runtime's wheels from the locks (hashes required), and ghostwatch's wheel."""
    for source in IMAGE.copied_sources("build"):
        origin = REPO / source
        (context / source).parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(
                origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(origin, context / source)
    locks = context / "requirements"
    target = ("--python", str(python))
    _pip(*target, "install", "--quiet", "--require-hashes", "-r", str(locks / "build.lock"))
    _pip(*target, "wheel", "--quiet", "--require-hashes", "--wheel-dir", str(wheels),
         "-r", str(locks / "runtime.lock"))  # fmt: skip
    _pip(*target, "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(context))  # fmt: skip


@pytest.fixture(scope="session")
def installed() -> Iterator[Installed]:
    uid, gid = IMAGE.user()
    base = _interpreter(uid, gid)
    root = Path(tempfile.mkdtemp(prefix="ghostwatch-image-"))
    try:
        root.chmod(0o755)  # the image's user must reach the environment inside
        subprocess.run([base, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
        python, wheels, data = root / "venv/bin/python", root / "wheels", root / "data"
        (root / "context").mkdir()
        _build_stage(root / "context", python, wheels)
        (wheel,) = wheels.glob("ghostwatch-*.whl")
        runtime = ("--python", str(python), "install", "--quiet", "--no-index")
        lock = str(root / "context" / "requirements" / "runtime.lock")
        _pip(*runtime, "--find-links", str(wheels), "--require-hashes", "-r", lock)
        _pip(*runtime, "--no-deps", str(wheel))
        data.mkdir(mode=0o750)
        if os.geteuid() == 0:
            os.chown(data, uid, gid)
        yield Installed(python, wheels, data, uid, gid)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_wheel_carries_every_file_the_package_reads(installed: Installed) -> None:
    """Templates, migrations, py.typed...: a data file left out of package-data breaks only
    the installed service, never the editable checkout the other tests use."""
    (wheel,) = installed.wheels.glob("ghostwatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    package = REPO / "src"
    wanted = {
        path.relative_to(package).as_posix()
        for path in (package / "ghostwatch").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert wanted - packed == set()
    entry_points = next(n for n in packed if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "ghostwatch = ghostwatch.cli.main:main" in archive.read(entry_points).decode()


def test_the_image_user_runs_the_command_line(installed: Installed) -> None:
    done = installed.run("ghostwatch", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("db", "health", "scan"):
        assert f"  {command} " in done.stdout


def test_db_upgrade_as_the_image_user_writes_its_database_in_the_data_dir(
    installed: Installed,
) -> None:
    """The default relative SQLite URL lands in WORKDIR, which is the data volume."""
    database = installed.data / "ghostwatch.db"
    database.unlink(missing_ok=True)
    for _ in range(2):  # the second run finds the schema current: upgrades are idempotent
        done = installed.run(
            "ghostwatch", "db", "upgrade", "--database-url", "sqlite:///ghostwatch.db"
        )
        assert done.returncode == 0, done.stderr
        assert "(head)" in done.stdout
    assert database.stat().st_uid == (installed.uid if os.geteuid() == 0 else os.geteuid())


def test_the_installed_image_accepts_the_deploy_configuration(installed: Installed) -> None:
    """The configuration every deployment mounts, checked by the installed package (its
    template and schema come from the wheel, not the checkout)."""
    mounted = installed.data / "ghostwatch.yaml"
    shutil.copy2(REPO / "deploy" / "ghostwatch.yaml", mounted)
    mounted.chmod(0o644)
    env = {"GHOSTWATCH_CONFIG": str(mounted)}
    done = installed.run("ghostwatch", "config", "check", env=env)
    # Its placeholder address is to be changed (CHANGE ME) before anything can start.
    assert done.returncode == 2
    assert "accounts.0.address: you@example.com is the placeholder" in done.stderr
    text = mounted.read_text(encoding="utf-8")
    mounted.write_text(text.replace("you@example.com", "you@acme.example"), encoding="utf-8")
    done = installed.run("ghostwatch", "config", "check", env=env)
    # The image's ENV puts data_dir on its volume (absent here), and no key is mounted yet.
    assert done.returncode == 2
    assert "data_dir (from GHOSTWATCH_DATA_DIR): cannot create /var/lib/ghostwatch" in done.stderr
    assert "secret_key: not set; the sign-ins of account you" in done.stderr
    # The volume and the key mounted as the deploy files mount them (read-only, owned by
    # someone else): what is left is the sign-in, then nothing.
    key = new_key()
    key_file = installed.data / "ghostwatch_secret_key"
    key_file.write_text(key)
    key_file.chmod(0o444)
    env |= {"GHOSTWATCH_DATA_DIR": str(installed.data), "GHOSTWATCH_SECRET_KEY_FILE": str(key_file)}
    done = installed.run("ghostwatch", "config", "check", env=env)
    assert done.returncode == 2
    assert "account you: not signed in: run `ghostwatch auth google --account you`" in done.stderr
    vault = vault_in(installed.data, resolve_key(key, None))
    vault.put_json(
        google.entry_name("you"), {"kind": "service_account", "subject": "you@x.example"}
    )
    if os.geteuid() == 0:
        for path in (vault.directory, *vault.directory.iterdir()):
            os.chown(path, installed.uid, installed.gid)
    done = installed.run("ghostwatch", "config", "check", env=env)
    assert done.returncode == 0, done.stderr
    assert "configuration is valid: 1 account(s)" in done.stdout
    assert f"{installed.data / 'ghostwatch.db'}" in done.stdout


def test_the_image_user_cannot_change_the_installed_code(installed: Installed) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to install as root and run as the image's user")
    probe = "import ghostwatch, pathlib; pathlib.Path(ghostwatch.__file__).open('a')"
    done = installed.run(str(installed.python), "-c", probe)
    assert done.returncode != 0
    assert "PermissionError" in done.stderr


def test_the_healthcheck_command_as_the_image_user(
    installed: Installed, server: StatusServer
) -> None:

    command = IMAGE.healthcheck()
    address = {"GHOSTWATCH_HEALTH__ADDRESS": f"0.0.0.0:{server.port}"}
    server.statuses["/healthz"] = 200
    healthy = installed.run(*command, env=address)
    assert healthy.returncode == 0, healthy.stderr
    server.statuses["/healthz"] = 503
    assert installed.run(*command, env=address).returncode == 1
    assert server.asked == ["/healthz", "/healthz"]
