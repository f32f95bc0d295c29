"""deploy/README.md's paths, run as written (issue 16: "the deploy sign-in steps do not work
as written"): docker run, Compose, Kubernetes and systemd.

No Docker engine, cluster or systemd (as PID 1) runs here, so each path's own files say
what its process gets: docker-compose.yml's service, the sign-in pod's spec, the docker
run flags and the unit, over the Dockerfile's USER, WORKDIR, ENV and ENTRYPOINT. The
command the README gives runs word for word after the engine's part (`docker compose run
--rm signin`, `kubectl exec -it POD --`), in a private mount namespace holding exactly
those files at those paths, with a read-only root, as that user (tests/support/
container.py), against the Gmail sandbox on loopback standing in for Google. The
README's systemd steps run as root in such a namespace, with `systemd-sysusers`,
`install` and `runuser` for real (only the venv is the test's, and systemctl has no
systemd to talk to). Each sign-in must land where the daemon reads it: the daemon then
starts from that vault (docker run, systemd), and the image's HEALTHCHECK command answers
from health.address set only in the YAML.

The only changes to the deployment's files are what an admin makes (the account's
address) and what points it at the sandbox (its endpoints, plain-http OAuth on loopback).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ghostwatch import config
from ghostwatch.vault.keys import new_key
from ghostwatch_sandbox.google import GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_ID, CLIENT_SECRET
from tests.support.auth_fixtures import consent
from tests.support.container import Container, available, base_env
from tests.support.dockerfile import Image
from tests.support.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

DEPLOY = REPO / "deploy"
IMAGE = Image.read()
ADDRESS = "you@acme.example"
# oauthlib refuses a plain-http token endpoint; the sandbox's is http on loopback.
SANDBOX_ONLY = {"OAUTHLIB_INSECURE_TRANSPORT": "1"}


def section(title: str) -> list[str]:
    """The commands of deploy/README.md's `## title`: its indented lines, continuations
    joined, comments dropped."""
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", body)
    found = []
    for line in joined.splitlines():
        if line.startswith("    ") and line.strip():
            found.append(line.strip())
    return found


def the(commands: list[str], prefix: str) -> str:
    (found,) = [c for c in commands if c.startswith(prefix)]
    return found


def after(command: str, marker: list[str]) -> list[str]:
    """The words of `command` after the sequence `marker` (the engine's part)."""
    words = shlex.split(command)
    for start in range(len(words)):
        if words[start : start + len(marker)] == marker:
            return words[start + len(marker) :]
    raise AssertionError(f"{marker} not in {command!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    """A clone as the admin leaves it after "Secrets, made once" and setting the account."""

    root: Path
    sandbox: GmailSandbox
    health: str

    @property
    def config_text(self) -> str:
        return (self.root / "deploy" / "ghostwatch.yaml").read_text(encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    available()
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the consent below, in this process
    try:
        with GmailSandbox.serve(user=ADDRESS) as sandbox:
            yield _site(tmp_path / "clone", sandbox)
    finally:
        if previous is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)


def _site(root: Path, sandbox: GmailSandbox) -> Site:
    deploy = root / "deploy"
    shutil.copytree(DEPLOY, deploy, ignore=shutil.ignore_patterns("secrets"))
    settings = yaml.safe_load((DEPLOY / "ghostwatch.yaml").read_text(encoding="utf-8"))
    (account,) = settings["accounts"]
    account["address"] = ADDRESS  # what the admin changes (CHANGE ME)
    account["gmail"] = json.loads(config.GmailOptions.sandbox(sandbox.url).model_dump_json())
    account["working_hours"] = {"start": "00:00", "end": "23:59"}
    health = f"127.0.0.1:{free_port()}"
    settings["health"] = {"address": health}  # in the YAML only: the HEALTHCHECK must find it
    (deploy / "ghostwatch.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    secrets = deploy / "secrets"
    secrets.mkdir(mode=0o700)
    client = {"installed": {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "auth_uri": sandbox.auth_uri, "token_uri": sandbox.token_uri,
        "redirect_uris": ["http://localhost"],
    }}  # fmt: skip
    files = {
        "ghostwatch_secret_key": new_key(),
        "postgres_password": "pw",
        "ghostwatch_database_url": "postgresql+psycopg://ghostwatch:pw@postgres/ghostwatch",
        "google_client_secret.json": json.dumps(client),
    }
    for name, text in files.items():
        (secrets / name).write_text(text, encoding="utf-8")
        (secrets / name).chmod(0o444)  # as "Secrets, made once" leaves them
    for folder in (root, root.parent):
        folder.chmod(0o755)
    return Site(root, sandbox, health)


def sign_in(process: subprocess.Popen[str]) -> str:
    """Play the person at the other end of `--headless`: open the printed address, consent,
    paste back where the browser ended. The command's whole output."""
    assert process.stdout is not None
    assert process.stdin is not None
    seen = ""
    deadline = time.monotonic() + 60
    while "http" not in seen or not seen.rstrip().endswith("expected."):
        line = process.stdout.readline()
        assert line or process.poll() is None, seen + (
            process.stderr.read() if process.stderr else ""
        )
        assert time.monotonic() < deadline, seen
        seen += line
    (url,) = [w for w in seen.split() if w.startswith("http")]
    process.stdin.write(consent(url) + "\n")
    process.stdin.flush()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, seen + out + err
    assert "Traceback" not in err
    return seen + out


def image_env() -> dict[str, str]:
    """The image's environment: its ENV, HOME of its user, the test's PATH to ghostwatch."""
    return {**base_env(), **IMAGE.env(), "HOME": "/var/lib/ghostwatch", **SANDBOX_ONLY}


def image_container(scratch: Path) -> Container:
    uid, gid = IMAGE.user()
    workdir = IMAGE.of("WORKDIR")[-1]
    return Container(scratch, uid, gid, image_env(), workdir=workdir)


def volume(root: Path, name: str) -> Path:
    """A named volume, new: Docker fills it from the image, whose folder is the user's."""
    path = root / "volumes" / name
    path.mkdir(parents=True)
    uid, gid = IMAGE.user()
    os.chown(path, uid, gid)
    path.chmod(0o750)
    return path


def vault_files(data: Path) -> list[Path]:
    return sorted(p for p in (data / "tokens").glob("*") if p.is_file())


# -- Compose ------------------------------------------------------------------------------


def test_compose_signs_in_with_the_client_file_as_a_secret(site: Site, tmp_path: Path) -> None:
    compose = yaml.safe_load((site.root / "deploy" / "docker-compose.yml").read_text())
    command = the(section("Compose"), "docker compose -f deploy/docker-compose.yml run --rm signin")
    args = after(command, ["run", "--rm", "signin"])
    service = compose["services"]["signin"]
    daemon = compose["services"]["ghostwatch"]
    # The daemon's container: same image, configuration, data volume and vault settings.
    assert (service["image"], service["volumes"]) == (daemon["image"], daemon["volumes"])
    assert service["environment"].items() <= daemon["environment"].items()
    assert set(daemon["secrets"]) <= set(service["secrets"])
    assert "signin" in service["profiles"]
    assert "profiles" not in daemon

    box = image_container(tmp_path / "scratch")
    box.read_only = service["read_only"]
    box.tmpfs = tuple(service["tmpfs"])
    box.env |= service["environment"]
    data = volume(tmp_path, "ghostwatch-data")
    for spec in service["volumes"]:
        source, inside, *_ = spec.split(":")
        host = site.root / "deploy" / source if source.startswith(".") else data
        box.mount(inside, host, writable=not spec.endswith(":ro"))
    for name in service["secrets"]:  # compose mounts a file secret at /run/secrets/NAME
        box.mount(f"/run/secrets/{name}", site.root / "deploy" / compose["secrets"][name]["file"])

    entrypoint = IMAGE.exec_form("ENTRYPOINT")
    probe = box.run(["touch", "/etc/ghostwatch/probe"])  # the namespace is the container
    assert "Read-only file system" in probe.stderr, probe
    said = sign_in(box.popen([*entrypoint, *args]))
    assert "signed in: account you" in said
    assert vault_files(data), "the sign-in is on the data volume"
    assert {p.stat().st_uid for p in vault_files(data)} == {IMAGE.user()[0]}
    checked = box.run([*entrypoint, "auth", "check", "--account", "you"])
    assert checked.returncode == 0, checked.stderr
    assert "you: google (installed app): ok" in checked.stdout


# -- docker run, the daemon and its HEALTHCHECK ------------------------------------------------


def docker_run(
    command: str, site: Site, volumes: Path, scratch: Path
) -> tuple[Container, list[str]]:
    """`docker run FLAGS IMAGE ARGS` → the container those flags make, and its command."""
    words = after(command, ["docker", "run"])
    box = image_container(scratch)
    box.read_only, box.tmpfs = False, ()
    with_value = {"--name", "--restart", "--cap-drop", "--security-opt"}
    while words[0].startswith("-"):
        flag = words.pop(0)
        if flag == "-v":
            source, inside, *mode = words.pop(0).replace("$PWD", str(site.root)).split(":")
            host = Path(source) if source.startswith("/") else volumes / source
            if not host.exists():
                host = volume(volumes.parent, source)
            box.mount(inside, host, writable=mode != ["ro"])
        elif flag == "-e":
            key, _, value = words.pop(0).partition("=")
            box.env[key] = value
        elif flag == "--tmpfs":
            box.tmpfs = (*box.tmpfs, words.pop(0))
        elif flag == "--read-only":
            box.read_only = True
        elif flag in with_value:
            words.pop(0)
        else:
            assert flag in {"-d", "--rm", "-it"}, flag
    image, *args = words
    assert image == "ghostwatch:0.1.0"
    return box, [*IMAGE.exec_form("ENTRYPOINT"), *(args or IMAGE.exec_form("CMD"))]


def test_docker_run_signs_in_then_the_daemon_is_healthy_at_the_yaml_address(
    site: Site, tmp_path: Path
) -> None:
    commands = section("docker run")
    signin_line, daemon_line = [c for c in commands if c.startswith("docker run")]
    volumes = tmp_path / "volumes"
    box, command = docker_run(signin_line, site, volumes, tmp_path / "scratch")
    assert box.read_only
    assert command[1:3] == ["auth", "google"]
    assert "signed in: account you" in sign_in(box.popen(command))

    daemon_box, daemon = docker_run(daemon_line, site, volumes, tmp_path / "scratch")
    assert daemon_box.read_only
    assert daemon[1:] == ["run"]
    assert "GHOSTWATCH_HEALTH__ADDRESS" not in daemon_box.env  # only the YAML says it
    process = daemon_box.popen(daemon)
    try:
        healthcheck = IMAGE.healthcheck()
        deadline = time.monotonic() + 60
        while True:  # the HEALTHCHECK, as `docker exec` would run it in that container
            done = daemon_box.run(healthcheck, timeout=30)
            if done.returncode == 0 or time.monotonic() > deadline or process.poll() is not None:
                break
            time.sleep(1)
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert (done.returncode, done.stdout.strip()) == (0, "healthy"), done.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert (volumes / "ghostwatch-data" / "ghostwatch.db").exists()  # SQLite on the volume


# -- Kubernetes -----------------------------------------------------------------------------


def test_kubernetes_signs_in_through_the_signin_pod_into_the_daemons_volume(
    site: Site, tmp_path: Path
) -> None:
    commands = section("Kubernetes")
    created = the(commands, "kubectl create secret generic ghostwatch")
    keys = dict(w.removeprefix("--from-file=").split("=", 1)
                for w in shlex.split(created) if w.startswith("--from-file="))  # fmt: skip
    shape = yaml.safe_load((site.root / "deploy" / "k8s" / "secret.yaml").read_text())
    assert set(keys) == set(shape["stringData"])  # secret.yaml shows what the line creates
    exec_line = the(commands, "kubectl exec -it ghostwatch-signin --")
    args = after(exec_line, ["--"])
    pod = yaml.safe_load((site.root / "deploy" / "k8s" / "signin.yaml").read_text())
    deployment = yaml.safe_load((site.root / "deploy" / "k8s" / "deployment.yaml").read_text())
    daemon_pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["spec"]["containers"]
    (daemon,) = daemon_pod["containers"]
    # The daemon's settings, secrets and volume, so the vault written is the one it opens.
    env = {e["name"]: e["value"] for e in container["env"]}
    daemon_env = {e["name"]: e["value"] for e in daemon["env"]}
    assert env.items() <= daemon_env.items()
    assert container["image"] == daemon["image"]
    assert container["volumeMounts"] == daemon["volumeMounts"]
    by_name = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert by_name == {v["name"]: v for v in daemon_pod["volumes"]} | {"tmp": by_name["tmp"]}

    security = pod["spec"]["securityContext"]
    uid, gid, group = security["runAsUser"], security["runAsGroup"], security["fsGroup"]
    assert (uid, gid) == IMAGE.user()
    box = Container(tmp_path / "scratch", uid, gid, {**image_env(), **env}, groups=(group,),
                    workdir=IMAGE.of("WORKDIR")[-1], tmpfs=())  # fmt: skip
    box.read_only = container["securityContext"]["readOnlyRootFilesystem"]
    # The ConfigMap as the README makes it: from the file the admin edited. It was
    # `kubectl apply -f deploy/k8s/configmap.yaml`, the placeholder account's copy, which
    # the daemon refuses and a sign-in as the real address contradicts.
    made = after(the(commands, "kubectl create configmap"), ["create", "configmap"])
    assert [w for w in made if not w.startswith("--")] == ["ghostwatch"]
    (given,) = [w.removeprefix("--from-file=") for w in made if w.startswith("--from-file=")]
    config_key, _, config_file = given.partition("=")
    assert config_file == "deploy/ghostwatch.yaml"  # the file the admin set and checked
    assert not any(c.startswith("kubectl apply -f deploy/k8s/configmap.yaml") for c in commands)
    data = volume(tmp_path, "pvc")
    for mount in container["volumeMounts"]:
        source = by_name[mount["name"]]
        if "emptyDir" in source:
            box.tmpfs = (*box.tmpfs, mount["mountPath"])
            continue
        host = tmp_path / "volumes" / mount["name"]
        if "configMap" in source:  # kubelet: one file per key of the ConfigMap made above
            assert source["configMap"]["name"] == "ghostwatch"
            host.mkdir()
            shutil.copy(site.root / config_file, host / config_key)
        elif "secret" in source:  # kubelet: one file per key, root:fsGroup, defaultMode
            host.mkdir()
            for key, path in keys.items():
                shutil.copy(site.root / path, host / key)
                os.chown(host / key, 0, group)
                (host / key).chmod(source["secret"]["defaultMode"])
        else:
            host = data
        box.mount(mount["mountPath"], host, writable=not mount.get("readOnly", False))

    said = sign_in(box.popen(args))
    assert "signed in: account you" in said
    assert vault_files(data)
    checked = box.run(["ghostwatch", "auth", "check", "--account", "you"])
    assert checked.returncode == 0, checked.stderr


# -- pip (the top-level README) -------------------------------------------------------------


def pip_steps() -> list[str]:
    """The top-level README's **pip** block: its lines, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    body = text.split("**pip** (", 1)[1].split("\n\n    ", 1)[1].split("\n\n", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in body.splitlines() if line.strip()]


def test_the_pip_path_signs_in_and_runs_as_written(site: Site, tmp_path: Path) -> None:
    """As the README gives it, in a clone after "Secrets, made once" (0444 files, a
    database URL for Compose's host): it once took the whole secrets folder, so every
    command went looking for a host named `postgres`."""
    steps = pip_steps()
    assert steps[0] == "python3 -m venv ~/.ghostwatch && ~/.ghostwatch/bin/pip install ."
    home = tmp_path / "home"
    (home / ".ghostwatch" / "bin").mkdir(parents=True)  # the test's venv stands in for it
    (home / ".ghostwatch" / "bin" / "ghostwatch").symlink_to(
        Path(sys.executable).parent / "ghostwatch"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GHOSTWATCH_")}
    env = {**keep, "HOME": str(home), **SANDBOX_ONLY}
    signin = the(steps, "~/.ghostwatch/bin/ghostwatch auth google")
    setup = steps[1 : steps.index(signin)]
    script = " && ".join([*setup, signin])
    said = sign_in(subprocess.Popen(
        ["bash", "-ec", script], cwd=site.root, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ))  # fmt: skip
    assert "signed in: account you" in said
    assert vault_files(home / ".ghostwatch" / "data")
    run = the(steps, "~/.ghostwatch/bin/ghostwatch run")
    once = subprocess.run(
        ["bash", "-ec", " && ".join([*setup, f"{run} --once"])], cwd=site.root, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert once.returncode == 0, once.stderr[-3000:]
    assert once.stdout.startswith("you: "), once.stdout
    assert "Traceback" not in once.stderr


# -- systemd --------------------------------------------------------------------------------


def test_systemd_steps_as_root_then_the_unit_runs_the_daemon_as_its_user(
    site: Site, tmp_path: Path
) -> None:
    if not shutil.which("systemd-sysusers") or not shutil.which("runuser"):
        pytest.skip("systemd-sysusers and runuser (util-linux) are needed")
    steps = section("systemd")
    assert steps[0] == "python3 -m venv /opt/ghostwatch && /opt/ghostwatch/bin/pip install ."
    unit = (site.root / "deploy" / "systemd" / "ghostwatch.service").read_text()
    ours = [s for s in steps[1:] if not s.startswith(("systemctl", "journalctl"))]
    signin = the(ours, "runuser -u ghostwatch --")
    setup = ours[: ours.index(signin)]
    assert all(s.split()[0] in {"install", "systemd-sysusers"} for s in setup), setup
    scratch = tmp_path / "scratch"
    # The test's venv stands in for /opt/ghostwatch (the first step, not repeated here).
    venv = Path(base_env()["PATH"].split(":")[0]).parent
    root_path = {"PATH": base_env()["PATH"] + ":/usr/local/sbin:/usr/sbin:/sbin"}
    admin = Container(scratch, 0, 0, {**base_env(), **root_path, **SANDBOX_ONLY}, tmpfs=(),
                      workdir=str(site.root), read_only=False,
                      overlays=("/etc", "/var"))  # fmt: skip
    admin.mount("/opt/ghostwatch", venv)
    # As root, in one shell: the setup steps, then the sign-in as the unit's user.
    script = " && ".join([*setup, signin])
    said = sign_in(admin.popen(["sh", "-ec", script]))
    assert "signed in: account you" in said
    passwd = admin.changed("/etc/passwd").read_text()
    user = next(line.split(":") for line in passwd.splitlines() if line.startswith("ghostwatch:"))
    uid, gid = int(user[2]), int(user[3])
    state = admin.changed("/var/lib/ghostwatch")
    assert {p.stat().st_uid for p in vault_files(state)} == {uid}

    # The unit, as systemd would start it: its user, environment, working and state
    # directories, the rest of the file system read-only (ProtectSystem=strict).
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and
                    not line.startswith("#"))  # fmt: skip
    assert (settings["User"], settings["Group"], settings["ProtectSystem"]) == (
        "ghostwatch", "ghostwatch", "strict")  # fmt: skip
    env = dict(v.split("=", 1) for k, v in _assignments(unit) if k == "Environment")
    assert f"env {' '.join(f'{k}={v}' for k, v in env.items())} " in signin  # the same settings
    daemon = Container(scratch, uid, gid, {**base_env(), **env, **SANDBOX_ONLY},
                       workdir=settings["WorkingDirectory"], overlays=("/etc", "/var"))  # fmt: skip
    daemon.mount("/opt/ghostwatch", venv)
    daemon.mount(f"/var/lib/{settings['StateDirectory']}", state, writable=True)
    process = daemon.popen(shlex.split(settings["ExecStart"]))
    try:
        deadline = time.monotonic() + 60
        while True:
            done = daemon.run(["/opt/ghostwatch/bin/ghostwatch", "health"], timeout=30)
            if done.returncode == 0 or time.monotonic() > deadline or process.poll() is not None:
                break
            time.sleep(1)
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert done.returncode == 0, done.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert (state / "ghostwatch.db").stat().st_uid == uid


def _assignments(unit: str) -> list[tuple[str, str]]:
    pairs = []
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


def test_sysusers_makes_the_units_user(tmp_path: Path) -> None:
    if not shutil.which("systemd-sysusers"):
        pytest.skip("systemd-sysusers is not here")
    (tmp_path / "etc" / "sysusers.d").mkdir(parents=True)
    shutil.copy(DEPLOY / "systemd" / "ghostwatch.sysusers",
                tmp_path / "etc" / "sysusers.d" / "ghostwatch.conf")  # fmt: skip
    done = subprocess.run(["systemd-sysusers", f"--root={tmp_path}"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert re.search(r"^ghostwatch:x:\d+:\d+:[^:]*:/var/lib/ghostwatch:/usr/sbin/nologin$",
                     passwd, re.M), passwd  # fmt: skip
    made = "install -D -m 0644 deploy/systemd/ghostwatch.sysusers /etc/sysusers.d/ghostwatch.conf"
    assert made in section("systemd")
