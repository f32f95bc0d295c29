"""Just enough of the Dockerfile reference to replay our Dockerfile's steps outside Docker.

No Docker engine runs in CI, so the tests read the Dockerfile itself (the stages' COPY
sources, the runtime's ENV, USER, WORKDIR, HEALTHCHECK and CMD) instead of restating them:
a change to the Dockerfile changes what the tests do.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: str


def instructions(text: str) -> list[Instruction]:
    """Instructions with their line continuations joined and comments dropped."""
    found: list[Instruction] = []
    stage, pending = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # comment lines may sit inside a continuation
            continue
        pending = f"{pending} {line.removesuffix(chr(92)).strip()}".strip()
        if line.endswith("\\"):
            continue
        keyword, _, args = pending.partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            words = args.split()
            stage = words[2] if len(words) == 3 and words[1].upper() == "AS" else args
        found.append(Instruction(keyword.upper(), args.strip(), stage))
    return found


@dataclass(frozen=True)
class Image:
    """What the final stage says about the running container."""

    steps: list[Instruction]

    @classmethod
    def read(cls, path: Path = REPO / "Dockerfile") -> Image:
        return cls(instructions(path.read_text(encoding="utf-8")))

    @property
    def runtime_stage(self) -> str:
        return self.steps[-1].stage

    def of(self, keyword: str, stage: str | None = None) -> list[str]:
        wanted = self.runtime_stage if stage is None else stage
        return [i.args for i in self.steps if i.keyword == keyword and i.stage == wanted]

    def copied_sources(self, stage: str) -> list[str]:
        """The build context paths a stage COPYs (flags such as --from excluded)."""
        sources: list[str] = []
        for args in self.of("COPY", stage):
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            sources.extend(words[:-1])
        return sources

    def user(self) -> tuple[int, int]:
        uid, _, gid = self.of("USER")[-1].partition(":")
        return int(uid), int(gid or uid)

    def env(self) -> dict[str, str]:
        pairs = [w.partition("=") for args in self.of("ENV") for w in shlex.split(args)]
        return {key: value for key, _, value in pairs}

    def healthcheck(self) -> list[str]:
        """The exec form after HEALTHCHECK's options and CMD."""
        _, _, command = self.of("HEALTHCHECK")[-1].partition("CMD ")
        return list(json.loads(command))

    def exec_form(self, keyword: str) -> list[str]:
        return list(json.loads(self.of(keyword)[-1]))
