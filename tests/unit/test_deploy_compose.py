"""deploy/compose (issue 13): compose.yaml checked against the Compose Specification and
against the code: every service of `nemstream up`, its own health port, real commands and
real environment variable names. No Docker engine needed."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from compose_spec.models import ComposeSpecification

from nemstream._supervisor import SERVICES, health_ports
from nemstream.cli import COMMANDS
from nemstream_fetcher.settings import DEFAULT_PORTS
from nemstream_nemweb import FEEDS
from nemstream_runtime import LOG_FORMAT_ENV, NemstreamSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"

COMPOSE_ONLY = {
    "NEMSTREAM_IMAGE",  # the image the services run
    "NEMSTREAM_API_PUBLISH",  # host ports published
    "NEMSTREAM_DASHBOARD_PUBLISH",
    "NEMSTREAM_STATUS_PUBLISH",
    "NEMSTREAM_HEALTH_PORT",  # read by the image's HEALTHCHECK, not by nemstream
}
"""NEMSTREAM_ names compose and the image use that no settings class reads (documented in
deploy/compose/README.md)."""

PROCESS_WIDE = {LOG_FORMAT_ENV, "NEMSTREAM_LOG_LEVEL"}
"""Read by every process's logging set-up (`nemstream_runtime`, the CLI), not a settings class."""

SETTINGS_MODULES = (
    "nemstream_bus",
    "nemstream_query",
    "nemstream_notify",
    "nemstream_nemweb",
    "nemstream_registry",
    "nemstream_fetcher.settings",
)

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}")


def env_example() -> dict[str, str]:
    """The variables `.env.example` sets (comments and blank lines dropped)."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not NAME=value"
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}``, ``${VAR:+alternative}``; ``$$`` is a literal ``$``."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name)
        if operator == ":-":
            return value if value else argument
        if operator == "-":
            return value if value is not None else argument
        if operator in {":?", "?"}:
            if not value and (operator == ":?" or value is None):
                raise ValueError(f"{name}: {argument}")
            return value or ""
        if operator == ":+":
            return argument if value else ""
        if operator == "+":
            return argument if value is not None else ""
        return value or ""

    escaped = text.replace("$$", "\0")
    return _VARIABLE.sub(one, escaped).replace("\0", "$")


def variables(text: str) -> set[str]:
    """Every variable name compose.yaml interpolates."""
    return {match.group(1) for match in _VARIABLE.finditer(text)}


def _resolve(node: Any, env: dict[str, str]) -> Any:
    """Interpolate every string of parsed YAML, as compose does (after parsing)."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    return node


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml parsed and interpolated (with `.env.example`'s values unless `env`)."""
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    assert isinstance(data, dict)
    resolved = _resolve(data, env if env is not None else env_example())
    assert isinstance(resolved, dict)
    return resolved


def nemstream_services() -> Iterator[tuple[str, dict[str, Any]]]:
    """The services running the nemstream image (every one but NATS)."""
    for name, service in load()["services"].items():
        if str(service.get("image", "")).startswith("nemstream"):
            yield name, service


def by_command() -> dict[str, tuple[str, dict[str, Any]]]:
    """`up`'s child names (``write``, ``fetch:dispatch``...) -> the compose service running it."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, service in nemstream_services():
        command = service["command"]
        key = (
            f"fetch:{command[command.index('--feed') + 1]}" if command[0] == "fetch" else command[0]
        )
        out[key] = (name, service)
    return out


def settings_names() -> set[str]:
    """Every environment variable some settings class reads: ``NEMSTREAM_`` + field name,
    and the fields' explicit aliases."""
    for module in SETTINGS_MODULES:
        importlib.import_module(module)
    for _, _, settings, _ in SERVICES:
        importlib.import_module(settings.partition(":")[0])
    names: set[str] = set()
    pending: list[type[NemstreamSettings]] = [NemstreamSettings]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        for field_name, info in kind.model_fields.items():
            names.add(f"NEMSTREAM_{field_name.upper()}")
            alias = info.validation_alias
            choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
            names.update(str(c).upper() for c in choices if str(c).startswith("NEMSTREAM_"))
    return names


def test_validates_against_the_compose_specification() -> None:
    ComposeSpecification.model_validate(load())
    ComposeSpecification.model_validate(load({}))  # nothing set: every default applies


def test_defaults_when_nothing_is_set() -> None:
    """No .env at all: compose still resolves (no ``${VAR:?}`` outside the offline demo)."""
    data = load({})
    fetcher = data["services"]["fetch-dispatch"]
    assert fetcher["environment"]["NEMSTREAM_NEMWEB_URL"] == "https://nemweb.com.au"
    assert data["services"]["mirror"]["volumes"] == ["./samples:/samples:ro"]


def test_every_service_of_nemstream_up_is_there() -> None:
    expected = {f"fetch:{feed}" for feed in FEEDS} | {name for name, *_ in SERVICES}
    assert set(by_command()) >= expected
    assert set(DEFAULT_PORTS) == set(FEEDS)


def test_commands_are_real_nemstream_subcommands() -> None:
    for name, service in nemstream_services():
        command = service["command"]
        assert isinstance(command, list), f"{name}: exec form"
        assert command[0] in COMMANDS, f"{name}: {command[0]} is no nemstream command"


def test_each_healthcheck_hits_readyz_on_its_own_port() -> None:
    ports = health_ports(list(FEEDS), None)
    services = by_command()
    for child, port in ports.items():
        name, service = services[child]
        test = " ".join(service["healthcheck"]["test"])
        assert re.search(rf"http://127\.0\.0\.1:{port}/readyz\b", test), (name, test)
        assert service["environment"]["NEMSTREAM_HEALTH_PORT"] == str(port), name


def test_restart_policies_and_healthchecks_everywhere() -> None:
    for name, service in load()["services"].items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name


def test_services_wait_for_a_healthy_nats() -> None:
    for name, service in nemstream_services():
        if name == "mirror":
            continue  # no NATS: a web server over files
        assert service["depends_on"]["nats"] == {"condition": "service_healthy"}, name
        assert service["environment"]["NEMSTREAM_NATS_URL"] == "nats://nats:4222", name


def test_nats_runs_jetstream_on_a_volume_with_a_health_check() -> None:
    nats = load()["services"]["nats"]
    assert nats["image"].startswith("nats:2.1")
    command = nats["command"]
    assert "-js" in command
    assert command[command.index("-sd") + 1] == "/data"
    assert "nats:/data" in nats["volumes"]
    assert "/healthz?js-enabled-only=true" in " ".join(nats["healthcheck"]["test"])


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Volume name -> (target, read-only) for a service's named-volume mounts."""
    out: dict[str, tuple[str, bool]] = {}
    for mount in service.get("volumes", []):
        parts = mount.split(":")
        out[parts[0]] = (parts[1], parts[2:] == ["ro"])
    return out


def test_the_store_is_read_write_only_for_the_writer() -> None:
    services = load()["services"]
    assert "store" in load()["volumes"]
    writable = [n for n, s in services.items() if _mounts(s).get("store", ("", True))[1] is False]
    assert writable == [by_command()["write"][0]]
    for child in ("write", "api", "status", "dashboard"):
        name, service = by_command()[child]
        target, _ = _mounts(service)["store"]
        assert target == "/data/store", name
        assert service["environment"]["NEMSTREAM_DATA_DIR"] == "/data"
    for child in ("api", "status", "dashboard"):
        assert _mounts(by_command()[child][1])["store"][1], f"{child} reads the store read-only"


def test_the_registry_is_written_by_the_mailer_and_the_aggregator_only() -> None:
    # the mailer builds the unit registry; the aggregator refreshes the emission factors
    writable = [
        n
        for n, s in load()["services"].items()
        if _mounts(s).get("registry", ("", True))[1] is False
    ]
    assert sorted(writable) == sorted([by_command()["mailer"][0], by_command()["aggregate"][0]])
    aggregator = by_command()["aggregate"][1]
    assert aggregator["environment"]["NEMSTREAM_NEMWEB_URL"] == "https://nemweb.com.au"


def test_dashboard_api_and_status_ports_are_published() -> None:
    services = by_command()
    for child, port in (("dashboard", 5006), ("api", 8000), ("status", 5011)):
        assert services[child][1]["ports"] == [f"{port}:{port}"], child
    published = [n for n, s in load()["services"].items() if s.get("ports")]
    assert sorted(published) == sorted(services[c][0] for c in ("dashboard", "api", "status"))


def test_status_page_probes_the_services_by_their_compose_names() -> None:
    _, status = by_command()["status"]
    listed = dict(
        item.strip().split("=", 1)
        for item in status["environment"]["NEMSTREAM_STATUS_SERVICES"].split(",")
    )
    services = by_command()
    for child, port in health_ports(list(FEEDS), None).items():
        if child == "status":
            continue
        label = {"write": "writer", "aggregate": "aggregator"}.get(child, child)
        assert listed[label] == f"http://{services[child][0]}:{port}/readyz"


def test_environment_names_are_read_by_some_settings_class() -> None:
    known = settings_names() | COMPOSE_ONLY | PROCESS_WIDE
    used: set[str] = set()
    for _, service in load()["services"].items():
        used.update(service.get("environment", {}))
    used.update(variables(COMPOSE.read_text("utf-8")))
    used.update(env_example())
    unknown = {name for name in used if name.startswith("NEMSTREAM_")} - known
    assert not unknown, f"no settings class reads {sorted(unknown)}"


def test_a_misspelt_variable_would_fail() -> None:
    assert "NEMSTREAM_TWILIO_AUTH_TOKEN" in settings_names()
    assert "NEMSTREAM_TWILIO_TOKEN" not in settings_names()
    assert "NEMSTREAM_STATUS_SERVICES" in settings_names()


def test_env_example_holds_no_secret_values() -> None:
    values = env_example()
    secret = re.compile(r"TOKEN|PASSWORD|SECRET|API_KEYS|_SID$|CREDS")
    secrets = {name: value for name, value in values.items() if secret.search(name)}
    assert "NEMSTREAM_TWILIO_AUTH_TOKEN" in secrets
    assert "NEMSTREAM_API_KEYS" in secrets
    assert all(value == "" for value in secrets.values()), secrets
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert ".env" in ignored, "a filled-in .env is never committed"


def test_secrets_reach_only_the_services_that_need_them() -> None:
    for name, service in load()["services"].items():
        if service.get("env_file"):
            assert name in {by_command()["alerts"][0], by_command()["mailer"][0]}, name


def test_offline_profile_adds_the_mirror_over_mounted_samples() -> None:
    raw = COMPOSE.read_text("utf-8")
    assert "shared" not in raw, "the repository never points outside itself"
    mirror = load({"NEMSTREAM_SAMPLES_DIR": "/srv/nemweb"})["services"]["mirror"]
    assert mirror["profiles"] == ["offline"]
    assert mirror["command"][:3] == ["mirror", "serve", "/samples"]
    assert mirror["command"][mirror["command"].index("--host") + 1] == "0.0.0.0"
    assert mirror["volumes"] == ["/srv/nemweb:/samples:ro"]
    offline = load({"NEMSTREAM_NEMWEB_URL": "http://mirror:8089"})["services"]
    for feed in FEEDS:
        name, _ = by_command()[f"fetch:{feed}"]
        assert offline[name]["environment"]["NEMSTREAM_NEMWEB_URL"] == "http://mirror:8089"
    others = [s for n, s in load()["services"].items() if n != "mirror"]
    assert all("profiles" not in s for s in others)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A}", {"A": "1"}, "1"),
        ("$${A}", {"A": "1"}, "${A}"),
        ("${A:+y}", {"A": "1"}, "y"),
    ],
)
def test_interpolation_helper(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


def test_interpolation_helper_refuses_a_required_variable() -> None:
    with pytest.raises(ValueError, match="A: set it"):
        interpolate("${A:?set it}", {})
