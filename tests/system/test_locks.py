"""The supply chain (issue 15, item 8): every dependency pinned with its hashes, the same
pins for development and the image, one Python minor version everywhere, and the update
routine in the repository (renovate.json).

`make install` and the Dockerfile install with --require-hashes, so pip itself refuses a
file whose hash is not in the lock; tests/system/test_deploy_install.py replays the
image's install from the locks."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.dockerfile import Image
from tests.support.paths import REPO

LOCKS = REPO / "requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name → (version, how many hashes), for every requirement of a lock."""
    found: dict[str, tuple[str, int]] = {}
    current = ""
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            found[current] = (match["version"].rstrip(" \\"), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line.strip() and not line.lstrip().startswith("#"):
            assert line.startswith("    "), f"{lock.name}: unpinned line {line!r}"
    return found


def _project() -> dict[str, object]:
    with (REPO / "pyproject.toml").open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def _names(requirements: object) -> set[str]:
    assert isinstance(requirements, list)
    return {canonicalize_name(Requirement(text).name) for text in requirements}


@pytest.mark.parametrize("lock", ["build.lock", "runtime.lock", "dev.lock"])
def test_every_dependency_is_pinned_with_its_hashes(lock: str) -> None:
    found = pins(LOCKS / lock)
    assert found
    assert [name for name, (_, hashes) in found.items() if hashes == 0] == []


def test_the_locks_hold_what_pyproject_asks_for_at_the_same_versions() -> None:
    project = _project()
    runtime, dev = pins(LOCKS / "runtime.lock"), pins(LOCKS / "dev.lock")
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict)
    assert _names(project["dependencies"]) <= set(runtime)
    assert _names(project["dependencies"]) | _names(extras["dev"]) <= set(dev)
    # What the tests ran against is what the image ships.
    assert {name: runtime[name][0] for name in runtime} == {name: dev[name][0] for name in runtime}
    build = pins(LOCKS / "build.lock")
    with (REPO / "pyproject.toml").open("rb") as file:
        backend = tomllib.load(file)["build-system"]["requires"]
    assert _names(backend) <= set(build)


def test_one_python_minor_version_for_dev_ci_and_the_image() -> None:
    minor = (REPO / ".python-version").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"3\.\d+", minor)
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == minor  # dev and CI
    (argument,) = [a for a in Image.read().steps if a.keyword == "ARG"]
    assert re.fullmatch(rf"PYTHON_IMAGE=python:{re.escape(minor)}-slim-\w+", argument.args)
    for lock in LOCKS.glob("*.lock"):
        assert f"--python-version {minor}" in lock.read_text(encoding="utf-8"), lock.name
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "PYTHON_MINOR := $(shell cat .python-version)" in makefile


def test_make_install_and_the_image_refuse_a_file_not_in_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line]
    assert installs
    for line in installs:
        assert "--require-hashes" in line or "--no-deps" in line, line
    image = Image.read()
    runs = [args for stage in ("build", image.runtime_stage) for args in image.of("RUN", stage)]
    assert sum("--require-hashes" in args for args in runs) == 2
    for args in runs:
        for step in args.split("&&"):
            if "pip install" in step or "pip wheel" in step:
                assert "--require-hashes" in step or "--no-deps" in step, step


def test_renovate_refreshes_the_locks_and_keeps_the_python_minor() -> None:
    config = json.loads((REPO / "renovate.json").read_text(encoding="utf-8"))
    (pattern,) = config["pip-compile"]["managerFilePatterns"]
    matcher = re.compile(pattern.strip("/"))
    for lock in LOCKS.glob("*.lock"):
        assert matcher.search(str(lock.relative_to(REPO))), lock.name
    assert config["lockFileMaintenance"]["enabled"] is True
    minor = (REPO / ".python-version").read_text(encoding="utf-8").strip()
    (python,) = [rule for rule in config["packageRules"] if rule.get("matchPackageNames")]
    assert re.compile(python["allowedVersions"].strip("/")).match(f"{minor}.9-slim")
    assert not re.compile(python["allowedVersions"].strip("/")).match("3.99.0-slim")
