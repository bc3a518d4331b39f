"""The deployment manifests, run for real without Docker or Kubernetes: every nemstream service of
`deploy/compose/compose.yaml` and of the rendered dev overlay of `deploy/k8s` is started as a local
process with exactly its manifest's command and environment, against a local nats-server and the
local NEMWeb mirror over the real samples; every one must become ready on the port its
healthcheck or readiness probe names, and data must flow into the store. A wrong command,
variable name or port in a manifest fails here.

What is replaced, and only that: where things are (NATS, the data directory, NEMWeb: the
containers' host names and volumes), how far back the fetchers look (the samples are years old)
and how often they poll (the mirror releases a file a second)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nemstream_bus import nats_server_binary
from nemstream_nemweb import FEEDS
from nemstream_testing import SampleSet, free_port
from tests.e2e.stack_support import child
from tests.integration.store_support import rows
from tests.unit import test_deploy_compose as compose
from tests.unit import test_deploy_k8s as k8s

pytestmark = pytest.mark.slow

KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "COVERAGE_PROCESS_START")
"""What a process needs from this machine's environment besides its manifest's (coverage:
measured like every test's child)."""


@dataclass(frozen=True, slots=True)
class Spec:
    """One service as a manifest runs it."""

    name: str
    args: list[str]
    env: dict[str, str]
    port: int


def compose_specs() -> list[Spec]:
    """Every nemstream service of compose.yaml (its `.env.example` values)."""
    out = []
    for name, service in compose.nemstream_services():
        if service["command"][0] == "mirror":
            continue  # the offline profile's mirror: the test runs its own over the samples
        test = " ".join(service["healthcheck"]["test"])
        port = re.search(r":(\d+)/readyz", test)
        assert port, f"{name}: no /readyz in its healthcheck"
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        out.append(Spec(name, [str(a) for a in service["command"]], env, int(port.group(1))))
    return out


def k8s_specs() -> list[Spec]:
    """Every Deployment of the rendered dev overlay (ConfigMap values included)."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the k8s manifests cannot be rendered here")
    objs = k8s.build("dev")
    out = []
    for name, deployment in k8s.of_kind(objs, "Deployment").items():
        box = k8s.container(deployment)
        probe: Any = box["readinessProbe"]["httpGet"]["port"]
        if isinstance(probe, str):
            probe = next(p["containerPort"] for p in box["ports"] if p["name"] == probe)
        env = k8s.env_of(objs, deployment)
        out.append(Spec(name, [str(a) for a in box.get("args", [])], env, int(probe)))
    return out


def _local(spec: Spec, *, nats: str, data: Path, nemweb: str, samples: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in KEPT if k in os.environ}
    env.update(spec.env)
    env.update(
        {
            "NEMSTREAM_NATS_URL": nats,
            "NEMSTREAM_DATA_DIR": str(data),
            "NEMSTREAM_NEMWEB_URL": nemweb,
            "NEMSTREAM_LOOKBACK_H": str(24 * 365 * 20),
            "NEMSTREAM_CADENCE_S": "1",
            "NEMSTREAM_SAMPLES_DIR": str(samples),
            "NEMSTREAM_REGISTRY_URL": "http://127.0.0.1:9/unreachable.xlsx",
        }
    )
    if "NEMSTREAM_STATUS_SERVICES" in env:  # container host names → this machine
        env["NEMSTREAM_STATUS_SERVICES"] = re.sub(
            r"http://[^:/]+:", "http://127.0.0.1:", env["NEMSTREAM_STATUS_SERVICES"]
        )
    return env


def _ready(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    return False


def run_and_check(specs: list[Spec], root: Path, samples: SampleSet) -> None:
    """Run every spec against local NATS and the mirror; each must be ready, data must flow."""
    assert len(specs) == len(FEEDS) + 7, [s.name for s in specs]  # a fetcher per feed, 7 services
    data, logs = root / "data", root / "logs"
    logs.mkdir(parents=True)
    nats_port, mirror_port = free_port(), free_port()
    nats = [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd",
            str(root / "nats")]  # fmt: skip
    mirror = [sys.executable, "-m", "nemstream_mirror", str(samples.root), "--port",
              str(mirror_port), "--release-every", "1"]  # fmt: skip
    with contextlib.ExitStack() as stack:
        stack.enter_context(child(nats, dict(os.environ), logs / "nats.log"))
        stack.enter_context(child(mirror, dict(os.environ), logs / "mirror.log"))
        for spec in specs:
            env = _local(
                spec,
                nats=f"nats://127.0.0.1:{nats_port}",
                data=data,
                nemweb=f"http://127.0.0.1:{mirror_port}",
                samples=samples.root,
            )
            command = [sys.executable, "-m", "nemstream", *spec.args]
            stack.enter_context(child(command, env, logs / f"{spec.name}.log"))
        waiting = {spec.name: spec.port for spec in specs}
        deadline = time.monotonic() + 150
        while waiting and time.monotonic() < deadline:
            waiting = {name: port for name, port in waiting.items() if not _ready(port)}
            time.sleep(1)
        assert not waiting, {
            name: (logs / f"{name}.log").read_text("utf-8", "replace")[-1500:] for name in waiting
        }
        store = data / "store"
        while time.monotonic() < deadline + 60:
            if (store / "prices5").is_dir() and rows(store, "prices5").height > 0:
                break
            time.sleep(1)
        assert rows(store, "prices5").height > 0, "no prices reached the store"


def test_compose_services_run_as_written(samples: SampleSet, tmp_path: Path) -> None:
    run_and_check(compose_specs(), tmp_path / "compose", samples)


def test_k8s_dev_deployments_run_as_written(samples: SampleSet, tmp_path: Path) -> None:
    run_and_check(k8s_specs(), tmp_path / "k8s", samples)
