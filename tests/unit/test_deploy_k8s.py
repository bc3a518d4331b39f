"""The Kubernetes manifests (deploy/k8s): each overlay builds, every object is valid for
Kubernetes 1.32, and the manifests agree with the code (services, commands, ports, settings)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["dev", "prod"]
K8S_VERSION = "1.32"

# Not settings fields, but real variables: read by nemstream_runtime's logging and the CLI.
NOT_FIELDS = {"NEMSTREAM_LOG_LEVEL", "NEMSTREAM_LOG_FORMAT"}

Obj = dict[str, Any]


@cache
def build(overlay: str) -> tuple[Obj, ...]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: cannot run `kubectl kustomize`")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def of_kind(objs: tuple[Obj, ...], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def container(deployment: Obj) -> Obj:
    containers: list[Obj] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(objs: tuple[Obj, ...], deployment: Obj) -> dict[str, str]:
    """A container's environment: its ConfigMaps, then its own env."""
    maps = of_kind(objs, "ConfigMap")
    env: dict[str, str] = {}
    for source in container(deployment).get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]]["data"])
    env.update(
        {e["name"]: e["value"] for e in container(deployment).get("env", []) if "value" in e}
    )
    return env


@cache
def settings_env_names() -> frozenset[str]:
    """NEMSTREAM_<FIELD> of every settings class (services' and libraries')."""
    from nemstream_runtime import NemstreamSettings

    modules = [
        "nemstream_bus",
        "nemstream_query",
        "nemstream_notify",
        "nemstream_nemweb",
        "nemstream_registry",
        *(f"nemstream_{name}.settings" for name in SERVICE_PACKAGES),
    ]
    for module in modules:
        importlib.import_module(module)
    names: set[str] = set()
    todo: list[type[NemstreamSettings]] = [NemstreamSettings]
    while todo:
        kind = todo.pop()
        todo.extend(kind.__subclasses__())
        names.update(f"NEMSTREAM_{field.upper()}" for field in kind.model_fields)
    return frozenset(names)


SERVICE_PACKAGES = [
    "fetcher",
    "writer",
    "aggregator",
    "alerts",
    "mailer",
    "api",
    "status",
    "dashboard",
]


def expected_deployments() -> dict[str, tuple[list[str], str, int]]:
    """Deployment name -> (args, port variable, default port), from `nemstream up`'s lists."""
    from nemstream._supervisor import SERVICES, default_port
    from nemstream_fetcher.settings import DEFAULT_PORTS
    from nemstream_nemweb import FEEDS

    out = {
        f"nemstream-fetch-{feed}": (
            ["fetch", "--feed", feed],
            "NEMSTREAM_METRICS_PORT",
            DEFAULT_PORTS[feed],
        )
        for feed in FEEDS
    }
    for command, module, settings, field in SERVICES:
        name = module.removeprefix("nemstream_")
        out[f"nemstream-{name}"] = (
            [command],
            f"NEMSTREAM_{field.upper()}",
            default_port(settings, field),
        )
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_kubernetes(overlay: str) -> None:
    import kubernetes_validate  # type: ignore[import-untyped]

    objs = build(overlay)
    assert objs
    for obj in objs:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_secret_templates_are_valid_and_empty() -> None:
    import kubernetes_validate

    templates = sorted(K8S.rglob("*secret*.template.yaml"))
    assert templates
    for path in templates:
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            assert doc["kind"] == "Secret"
            assert "data" not in doc
            assert all(value == "" for value in doc["stringData"].values()), path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_rendered(overlay: str) -> None:
    assert not of_kind(build(overlay), "Secret")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_of_up_has_its_deployment(overlay: str) -> None:
    from nemstream.cli import COMMANDS
    from nemstream_nemweb import FEEDS

    objs = build(overlay)
    deployments = {
        name: d for name, d in of_kind(objs, "Deployment").items() if name.startswith("nemstream-")
    }
    expected = expected_deployments()
    assert set(deployments) == set(expected)
    for name, (args, port_env, port) in expected.items():
        deployment = deployments[name]
        box = container(deployment)
        assert box["args"] == args, name
        assert box["args"][0] in COMMANDS
        if box["args"][0] == "fetch":
            assert box["args"][1] == "--feed" and box["args"][2] in FEEDS
        # the port the service listens on: its default, or the variable it is given
        env = env_of(objs, deployment)
        listens = int(env.get(port_env, port))
        assert listens == port, name
        ports = {p["name"]: p["containerPort"] for p in box["ports"]}
        assert ports["health"] == listens
        for probe, path in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]:
            get = box[probe]["httpGet"]
            assert get["path"] == path, (name, probe)
            assert get["port"] in ("health", listens), (name, probe)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert box["securityContext"]["allowPrivilegeEscalation"] is False
        resources = box["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
        assert resources["limits"]["memory"], name
        if box["securityContext"].get("readOnlyRootFilesystem"):
            assert any(m["mountPath"] == "/tmp" for m in box["volumeMounts"]), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_and_strategies(overlay: str) -> None:
    deployments = of_kind(build(overlay), "Deployment")
    writer = deployments["nemstream-writer"]["spec"]
    assert writer["replicas"] == 1
    assert writer["strategy"]["type"] == "Recreate"
    claims = [
        v["persistentVolumeClaim"]
        for v in writer["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims and not claims[0].get("readOnly")
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        if name.startswith("nemstream-fetch-"):
            assert spec["replicas"] == 2, name
        if spec.get("replicas", 1) == 1:
            assert spec["strategy"]["type"] == "Recreate", f"{name}: a singleton never overlaps"
    # readers mount the store read-only
    for name in ["nemstream-api", "nemstream-status", "nemstream-dashboard"]:
        mounts = container(deployments[name])["volumeMounts"]
        assert [m.get("readOnly") for m in mounts if m["mountPath"] == "/data"] == [True], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_nemstream_variable_is_a_setting(overlay: str) -> None:
    objs = build(overlay)
    names: set[str] = set()
    for config in of_kind(objs, "ConfigMap").values():
        names.update(config.get("data", {}))
    for deployment in of_kind(objs, "Deployment").values():
        names.update(e["name"] for e in container(deployment).get("env", []))
    for path in K8S.rglob("secret*.template.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            names.update(doc["stringData"])
    known = settings_env_names() | NOT_FIELDS
    unknown = sorted(n for n in names if n.startswith("NEMSTREAM_") and n not in known)
    assert not unknown


def test_prod_runs_a_nats_cluster_with_replicated_streams() -> None:
    objs = build("prod")
    config = of_kind(objs, "ConfigMap")
    (data,) = [c["data"] for name, c in config.items() if name.startswith("nemstream-config")]
    assert data["NEMSTREAM_STREAM_REPLICAS"] == "3"
    assert data["NEMSTREAM_NATS_CREDS"] and data["NEMSTREAM_NATS_TLS_CA"]
    assert not of_kind(objs, "StatefulSet"), "prod NATS comes from the Helm chart"
    values = yaml.safe_load((K8S / "overlays" / "prod" / "nats-values.yaml").read_text())
    assert values["config"]["cluster"] == {**values["config"]["cluster"], "enabled": True}
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert values["config"]["nats"]["tls"]["enabled"] is True
    # every pod mounts the files those variables name
    for deployment in of_kind(objs, "Deployment").values():
        mounts = {m["mountPath"] for m in container(deployment)["volumeMounts"]}
        for variable in ["NEMSTREAM_NATS_CREDS", "NEMSTREAM_NATS_TLS_CA"]:
            assert str(Path(data[variable]).parent) in mounts


def test_dev_runs_one_nats() -> None:
    objs = build("dev")
    (nats,) = of_kind(objs, "StatefulSet").values()
    assert nats["spec"]["replicas"] == 1
    assert "-js" in container(nats)["args"]
    assert "nats" in of_kind(objs, "Service")
