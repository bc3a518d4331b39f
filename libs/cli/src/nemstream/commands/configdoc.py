"""Every environment variable nemstream reads, per settings class and the services that read it,
generated from the pydantic-settings classes themselves (`docs/configuration.md`; a test fails
when that page is stale). ``python -m nemstream.commands.configdoc > docs/configuration.md``."""

from __future__ import annotations

import importlib
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from nemstream_runtime import NemstreamSettings
from nemstream_runtime._settings import ENV_PREFIX

CLASSES: tuple[tuple[str, str], ...] = (
    ("nemstream_bus:BusSettings", "every service and one-shot command (NATS)"),
    (
        "nemstream_nemweb:NemwebSettings",
        "fetchers, backfill, registry and emission factor downloads (NEMWeb)",
    ),
    ("nemstream_fetcher.settings:FetcherSettings", "`nemstream fetch`"),
    ("nemstream_writer.settings:WriterSettings", "`nemstream write`"),
    ("nemstream_aggregator.settings:AggregatorSettings", "`nemstream aggregate`"),
    ("nemstream_registry._default:RegistrySettings", "writer and mailer (the unit registry)"),
    ("nemstream_alerts.settings:AlertSettings", "`nemstream alerts` (with the notify settings)"),
    ("nemstream_mailer.settings:MailerSettings", "`nemstream mailer` (with the notify settings)"),
    ("nemstream_query:QuerySettings", "dashboard, API and status page (the query layer)"),
    ("nemstream_dashboard.settings:DashboardSettings", "`nemstream dashboard`"),
    ("nemstream_api.settings:ApiSettings", "`nemstream api`"),
    ("nemstream_status.settings:StatusSettings", "`nemstream status`"),
)
"""Settings classes, in the order a reader meets them, and who reads each."""


def _class(target: str) -> type[NemstreamSettings]:
    module, _, name = target.partition(":")
    found = getattr(importlib.import_module(module), name)
    assert issubclass(found, NemstreamSettings), target
    return found  # type: ignore[no-any-return]


def env_names(field_name: str, field: FieldInfo) -> list[str]:
    """The variables that set a field: its alias choices, else NEMSTREAM_ + its name."""
    alias = field.validation_alias
    names: list[str] = []
    if isinstance(alias, str):
        names.append(alias)
    elif alias is not None and hasattr(alias, "choices"):
        names += [c for c in alias.choices if isinstance(c, str)]
    unique = list(dict.fromkeys(n.upper() for n in names))
    return unique or [ENV_PREFIX + field_name.upper()]


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed)"
    value: Any = field.default
    if field.is_required() or value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "unset" if not value.get_secret_value() else "(secret)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    text = str(value).replace("|", "\\|")
    return f"`{text}`" if text else "empty"


def every_variable() -> dict[str, set[str]]:
    """Each variable and the settings classes that read it."""
    found: dict[str, set[str]] = {}
    for target, _ in CLASSES:
        kind = _class(target)
        for name, field in kind.model_fields.items():
            for env in env_names(name, field):
                found.setdefault(env, set()).add(kind.__name__)
    return found


def render() -> str:
    """The page: one table per settings class."""
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable, read by pydantic-settings classes; this page",
        "is generated from them (`python -m nemstream.commands.configdoc > docs/configuration.md`;",
        "a test fails when it is stale). A variable read by several classes means the same",
        "thing in each. Secrets (passwords, tokens, API keys) are never logged.",
        "",
    ]
    for target, readers in CLASSES:
        kind = _class(target)
        lines += [f"## {kind.__name__}", "", f"Read by {readers}.", ""]
        lines += ["| variable | default | what |", "|---|---|---|"]
        for name, field in kind.model_fields.items():
            env = " / ".join(f"`{n}`" for n in env_names(name, field))
            what = (field.description or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {env} | {_default(field)} | {what} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
