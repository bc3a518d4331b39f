"""The aggregator's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from nemstream_runtime import ServiceSettings


class AggregatorSettings(ServiceSettings):
    """The aggregator service."""

    metrics_port: int = Field(9111, description="health/metrics port (-1: none)")
    watermark_s: float = Field(600.0, ge=0, description="event-time lateness before a partial emit")
    idle_flush_s: float = Field(900.0, gt=0, description="wall-clock quiet before a partial emit")
    sweep_every_s: float = Field(30.0, gt=0, description="how often idle windows are checked")
    window_ttl_h: float = Field(72.0, gt=0, description="how long window state is kept in KV")
    aggregator_durable: str = Field("aggregator", description="durable consumer name")
    data_dir: Path = Field(
        Path("data"), description="NEMSTREAM_DATA_DIR: emission factors and units in registry/"
    )
    samples_dir: Path | None = Field(
        None, description="with no emission factor table yet: a CO2EII list under it seeds one"
    )
    emission_factors_every_s: float = Field(
        21600.0,
        ge=0,
        description="how often NEMWeb's CDEII folder is checked for a newer CO2EII generator "
        "list (the emission factors; also once at start); 0: never (use the file as it is)",
    )
