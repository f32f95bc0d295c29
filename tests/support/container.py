"""A process as a container or a hardened unit would run it, with no engine: the files at
the paths the deployment mounts them, a read-only root, a writable volume, /tmp in memory,
the deployment's user and environment and nothing else.

No Docker engine or cluster runs here (nor can one pull an image), so the deploy tests
run the commands the deploy docs give, word for word after the program's name, in a
private mount namespace (`unshare --mount`, util-linux): paths that do not exist on this
machine (/etc/ghostwatch, /var/lib/ghostwatch, /run/secrets) are made in overlays that
vanish with the namespace, the files are bind-mounted there, every mount is remounted
read-only but the volumes, and `setpriv` drops to the uid and gid. What the process can
read, write and reach is then what it could in the container: a file the docs forget to
mount is missing, a token written outside the volume fails, a key only root may read is
refused. The network is this machine's (the sandboxes listen on loopback).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The interpreter of the test's venv may sit under /root (0700 here, pyenv): the overlay
# below opens /root for traversal inside the namespace only, so the dropped user can run it.
VENV_BIN = Path(sys.executable).parent


def available() -> None:
    """Skip unless this machine can make the namespace (root, util-linux, overlayfs)."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("needs root with unshare and setpriv (util-linux) to emulate the container")
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode()[-200:]}")


@dataclass
class Container:
    """`scratch`: a host folder for the overlays' upper layers (removed with tmp_path)."""

    scratch: Path
    uid: int
    gid: int
    env: dict[str, str]
    groups: tuple[int, ...] = ()
    files: dict[str, tuple[Path, bool]] = field(default_factory=dict)  # inside → (host, rw)
    tmpfs: tuple[str, ...] = ("/tmp",)
    workdir: str = "/"
    read_only: bool = True
    overlays: tuple[str, ...] = ()  # folders whose changes stay in `scratch` (e.g. /etc)

    def mount(self, inside: str, host: Path, *, writable: bool = False) -> None:
        self.files[inside] = (host, writable)

    def argv(self, command: list[str]) -> list[str]:
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-ec",
            self._script(command),
        ]

    def run(
        self, command: list[str], stdin: str = "", timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command), input=stdin, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def popen(self, command: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def runs(self) -> list[Path]:
        """Each start's folder of changes, oldest first."""
        found = self.scratch.glob("run-*")
        return sorted(found, key=lambda p: int(p.name.removeprefix("run-")))

    def changed(self, path: str) -> Path:
        """Where the newest start that wrote `path` (inside) keeps it on the host."""
        for run in reversed(self.runs()):
            if (run / f"up{path}").exists():
                return run / f"up{path}"
        raise FileNotFoundError(path)

    # -- the namespace -------------------------------------------------------------------

    def _script(self, command: list[str]) -> str:
        q = shlex.quote
        lines: list[str] = []
        earlier = self.runs()[::-1]  # newest first, as lowerdir lists them
        run = self.scratch / f"run-{len(earlier)}"
        missing = [p for p in [*self.files, self.workdir] if not Path(p).exists()]
        tops = sorted({"/root", *self.overlays, *map(self._top, missing)} - {"/"})
        for top in tops:  # writable layers over the host's folders, gone with the namespace
            upper, work = run / f"up{top}", run / f"work{top}"
            upper.mkdir(parents=True)
            work.mkdir(parents=True)
            # Earlier runs' changes under this one's (an upper layer in use by a live mount
            # cannot be another's: each run writes its own, read back in order).
            layers = [r / f"up{top}" for r in earlier if (r / f"up{top}").is_dir()]
            lower = ":".join([*map(str, layers), top])
            options = f"lowerdir={lower},upperdir={upper},workdir={work}"
            lines.append(f"mount -t overlay overlay -o {q(options)} {q(top)}")
        lines.append("chmod 0711 /root")
        for inside, (host, _) in self.files.items():
            make = "mkdir -p" if host.is_dir() else "touch"
            lines.append(f"mkdir -p {q(str(Path(inside).parent))} && {make} {q(inside)}")
            lines.append(f"mount --bind {q(str(host))} {q(inside)}")
        if self.read_only:
            for mount in ["/", *tops]:
                lines.append(f"mount -o remount,bind,ro {q(mount)}")
        for inside, (_, writable) in self.files.items():
            flag = "rw" if writable else "ro"
            lines.append(f"mount -o remount,bind,{flag} {q(inside)}")
        for path in self.tmpfs:
            lines.append(f"mkdir -p {q(path)} 2>/dev/null || true")
            lines.append(f"mount -t tmpfs -o mode=1777,size=64m tmpfs {q(path)}")
        lines.append(f"cd {q(self.workdir)}")
        groups = ",".join(str(g) for g in self.groups) or None
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}"]
        drop += [f"--groups={groups}"] if groups else ["--clear-groups"]
        environment = [f"{k}={v}" for k, v in self.env.items()]
        lines.append("exec " + shlex.join([*drop, "env", "-i", *environment, *command]))
        return "\n".join(lines)

    @staticmethod
    def _top(path: str) -> str:
        parts = Path(path).parts
        return "/" + parts[1] if len(parts) > 1 else "/"


def base_env() -> dict[str, str]:
    """What every container here has: the program on PATH (the image's /usr/local/bin is
    this test run's venv), UTF-8, no bytecode written (the image compiles at install)."""
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
