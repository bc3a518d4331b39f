"""The settings convention: one pydantic-settings class per component, all under NEMSTREAM_;
every service's class derives from `ServiceSettings` so they share one vocabulary for the
health port (``metrics_port``) and its bind address (``health_host``)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NEMSTREAM_"


class NemstreamSettings(BaseSettings):
    """Base for every component's settings so all read the same prefix and ignore unrelated keys."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)


class ServiceSettings(NemstreamSettings):
    """What every long-running service has: a health/metrics port and where it listens."""

    metrics_port: int = Field(
        -1, description="health/metrics port: /healthz, /readyz, /metrics (0: any free; -1: none)"
    )
    health_host: str = Field(
        "0.0.0.0",
        description="address the health port binds (0.0.0.0: reachable from other hosts and "
        "containers, as Prometheus and Kubernetes probes need; 127.0.0.1: this machine only)",
    )


S = TypeVar("S", bound=NemstreamSettings)


def load_settings(kind: type[S], **given: Any) -> S:
    """A component's settings from the environment, or exit with one line per bad variable
    (``NEMSTREAM_WRITER_BATCH='x': Input should be a valid integer``), not a traceback."""
    try:
        return kind(**given)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"  {name}={error.get('input')!r}: {error['msg']}")
        raise SystemExit("nemstream: invalid configuration\n" + "\n".join(lines)) from None
