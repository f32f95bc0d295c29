"""The replicas deployment files (issue 18): three Kubernetes replicas with a
PodDisruptionBudget and no shared volume, readiness on the lease share; a compose
example with two replicas and PostgreSQL. `make lint` checks their schemas
(kubernetes-validate, check-jsonschema); this checks what no schema knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import REPO

DEPLOY = REPO / "deploy"
REPLICAS = DEPLOY / "k8s-replicas"


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _pod(path: Path) -> dict[str, Any]:
    return dict(_yaml(path)["spec"]["template"]["spec"])


def test_three_replicas_with_a_disruption_budget_and_no_shared_volume() -> None:
    deployment = _yaml(REPLICAS / "deployment.yaml")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    volumes = _pod(REPLICAS / "deployment.yaml")["volumes"]
    assert all("persistentVolumeClaim" not in volume for volume in volumes)
    kinds = {next(k for k in volume if k != "name") for volume in volumes}
    assert kinds <= {"configMap", "secret", "emptyDir"}
    budget = _yaml(REPLICAS / "pdb.yaml")
    assert budget["kind"] == "PodDisruptionBudget"
    assert budget["spec"]["maxUnavailable"] == 1
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for path in REPLICAS.glob("*.yaml"):
        assert "ReadWriteMany" not in path.read_text(encoding="utf-8"), path


def test_the_replicas_container_is_the_single_ones_with_readiness_on_its_leases() -> None:
    """Same image, user, environment, ports, probes' paths and lock-down as
    deploy/k8s/deployment.yaml: only the volume behind the data folder differs."""
    (single,) = _pod(DEPLOY / "k8s" / "deployment.yaml")["containers"]
    (replica,) = _pod(REPLICAS / "deployment.yaml")["containers"]
    for key in ("image", "args", "ports", "securityContext", "volumeMounts"):
        assert replica[key] == single[key], key
    # The single pod's environment, and the vault in the database.
    extra = [item for item in replica["env"] if item not in single["env"]]
    assert extra == [{"name": "GHOSTWATCH_VAULT", "value": "database"}]
    assert all(item in replica["env"] for item in single["env"])
    assert replica["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert replica["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    single_pod, replica_pod = (
        _pod(DEPLOY / "k8s" / "deployment.yaml"),
        _pod(REPLICAS / "deployment.yaml"),
    )
    assert replica_pod["securityContext"] == single_pod["securityContext"]


def test_compose_runs_two_replicas_on_postgres_sharing_no_volume() -> None:
    compose = _yaml(DEPLOY / "docker-compose.replicas.yml")
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("ghostwatch")}
    assert len(replicas) == 2
    ports = set()
    for service in replicas.values():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert {"ghostwatch_secret_key", "ghostwatch_database_url"} <= set(service["secrets"])
        assert service["environment"]["GHOSTWATCH_VAULT"] == "database"
        named = [v for v in service.get("volumes", []) if not str(v).startswith("./")]
        assert named == []  # only the read-only configuration file, no data volume
        assert all(p.startswith("127.0.0.1:") for p in service["ports"])
        ports.update(service["ports"])
    assert len(ports) == 2
    assert set(compose["volumes"]) == {"postgres-data"}


def test_make_lint_validates_the_replicas_files() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "deploy/k8s-replicas/*.yaml" in makefile
    assert "deploy/docker-compose.replicas.yml" in makefile
