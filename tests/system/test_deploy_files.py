"""The deployment files agree with the image and with each other, and systemd accepts its unit.

`make lint` checks each file against its own schema (hadolint, yamllint, kubernetes-validate,
check-jsonschema); what no schema knows is checked here: one user id, one health port,
one configuration text, probes on the daemon's real paths, a unit systemd would start.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.dockerfile import Image
from tests.support.paths import REPO

DEPLOY = REPO / "deploy"
IMAGE = Image.read()
UNIT = DEPLOY / "systemd" / "ghostwatch.service"


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _container() -> dict[str, Any]:
    pod = _yaml(DEPLOY / "k8s" / "deployment.yaml")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return dict(container)


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def test_the_image_runs_the_daemon_as_a_fixed_unprivileged_user() -> None:
    uid, gid = IMAGE.user()
    assert uid >= 1000
    assert gid >= 1000
    assert IMAGE.exec_form("ENTRYPOINT") + IMAGE.exec_form("CMD") == ["ghostwatch", "run"]
    assert IMAGE.healthcheck()[:2] == ["ghostwatch", "health"]


def test_the_runtime_stage_installs_wheels_only() -> None:
    (install,) = [args for args in IMAGE.of("RUN") if "pip install" in args]
    assert "--no-index" in install
    assert "from=build" in install
    assert IMAGE.copied_sources(IMAGE.runtime_stage) == []  # no source tree in the image


def test_the_volumes_are_where_the_deployments_mount_config_and_data() -> None:
    (volumes,) = IMAGE.of("VOLUME")
    mounts = {m["mountPath"] for m in _container()["volumeMounts"]}
    compose = _yaml(DEPLOY / "docker-compose.yml")["services"]["ghostwatch"]["volumes"]
    for path in ("/etc/ghostwatch", "/var/lib/ghostwatch"):
        assert f'"{path}"' in volumes
        assert path in mounts
        assert any(path in volume for volume in compose)
    assert IMAGE.of("WORKDIR")[-1] == "/var/lib/ghostwatch"  # relative SQLite URLs land there


def test_kubernetes_runs_the_images_user_locked_down() -> None:
    pod = _yaml(DEPLOY / "k8s" / "deployment.yaml")["spec"]["template"]["spec"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert (security["runAsUser"], security["runAsGroup"]) == IMAGE.user()
    container = _container()["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]


def test_kubernetes_probes_the_daemons_health_paths_on_its_bind_port() -> None:
    container = _container()
    (port,) = container["ports"]
    bind = _env(container)["GHOSTWATCH_HEALTH__ADDRESS"]
    assert bind == f"0.0.0.0:{port['containerPort']}"  # probes come from the kubelet
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}


def test_a_network_policy_admits_only_the_scraper_to_the_health_port() -> None:
    """It selects the Deployment's pods, lets in one peer on the health port alone, and the
    documented `kubectl apply` applies it."""
    policy = _yaml(DEPLOY / "k8s" / "networkpolicy.yaml")
    pods = _yaml(DEPLOY / "k8s" / "deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    spec = policy["spec"]
    assert policy["kind"] == "NetworkPolicy"
    assert spec["podSelector"]["matchLabels"].items() <= pods.items()
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = spec["ingress"]
    (port,) = _container()["ports"]
    assert rule["ports"] == [{"protocol": "TCP", "port": port["containerPort"]}]
    assert len(rule["from"]) == 1
    egress_ports = {p["port"] for r in spec["egress"] for p in r["ports"]}
    assert egress_ports == {53, 443, 5432}
    assert "-f deploy/k8s/networkpolicy.yaml" in (DEPLOY / "README.md").read_text(encoding="utf-8")


def test_sqlite_mode_has_one_replica_that_stops_before_the_next_starts() -> None:
    deployment = _yaml(DEPLOY / "k8s" / "deployment.yaml")["spec"]
    claim = _yaml(DEPLOY / "k8s" / "pvc.yaml")
    assert deployment["replicas"] == 1
    assert deployment["strategy"]["type"] == "Recreate"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    volumes = {v["name"]: v for v in deployment["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


def test_the_secrets_folder_holds_the_settings_the_daemon_reads() -> None:
    """Mounted secrets are files named like the setting (ghostwatch_secret_key), in the
    folder GHOSTWATCH_SECRETS_DIR names."""
    container = _container()
    folder = _env(container)["GHOSTWATCH_SECRETS_DIR"]
    assert any(m["mountPath"] == folder for m in container["volumeMounts"])
    # `ghostwatch auth` reads the same key through GHOSTWATCH_SECRET_KEY_FILE.
    assert _env(container)["GHOSTWATCH_SECRET_KEY_FILE"] == f"{folder}/ghostwatch_secret_key"
    assert "ghostwatch_secret_key" in _yaml(DEPLOY / "k8s" / "secret.yaml")["stringData"]
    compose = _yaml(DEPLOY / "docker-compose.yml")
    service = compose["services"]["ghostwatch"]
    assert service["environment"]["GHOSTWATCH_SECRETS_DIR"] == "/run/secrets"
    key_file = service["environment"]["GHOSTWATCH_SECRET_KEY_FILE"]
    assert key_file == "/run/secrets/ghostwatch_secret_key"
    assert {"ghostwatch_secret_key", "ghostwatch_database_url"} <= set(service["secrets"])
    assert "GHOSTWATCH_SECRETS_DIR=/etc/ghostwatch/secrets\n" in UNIT.read_text(encoding="utf-8")


def test_compose_starts_ghostwatch_once_postgres_is_healthy() -> None:
    services = _yaml(DEPLOY / "docker-compose.yml")["services"]
    assert services["ghostwatch"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    # Health published on the host's loopback only (issue 7: nothing listens beyond it).
    assert all(p.startswith("127.0.0.1:") for p in services["ghostwatch"]["ports"])


def test_the_configmap_carries_the_deploy_configuration_verbatim() -> None:
    embedded = _yaml(DEPLOY / "k8s" / "configmap.yaml")["data"]["ghostwatch.yaml"]
    assert embedded == (DEPLOY / "ghostwatch.yaml").read_text(encoding="utf-8")


def test_the_deploy_configuration_is_valid() -> None:
    config = pytest.importorskip("ghostwatch.config", reason="the config module is not on main")
    settings = config.load(DEPLOY / "ghostwatch.yaml")
    assert str(settings.data_dir) == "/var/lib/ghostwatch"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` also checks ExecStart exists: point it at our own install."""
    ghostwatch = shutil.which("ghostwatch") or str(REPO / ".venv" / "bin" / "ghostwatch")
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/opt/ghostwatch/bin/ghostwatch run" in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace("/opt/ghostwatch/bin/ghostwatch", ghostwatch), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    # Unknown keys are only warnings (exit 0): any output at all is a finding.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_the_units_exposure_stays_low() -> None:
    """systemd's own hardening score: 0 (locked down) to 10 (exposed); 2.0 or less is "OK"."""
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(UNIT)],
        capture_output=True,
        text=True,
        check=False,
    )
    if "--offline" in done.stderr:
        pytest.skip("this systemd-analyze cannot score a unit file offline (systemd < 252)")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "DynamicUser=" in done.stdout
