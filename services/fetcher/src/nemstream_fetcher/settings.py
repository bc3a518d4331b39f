"""The fetcher's configuration (environment variables ``NEMSTREAM_*``; the feed also as
``FEED``). One process fetches one feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, model_validator

from nemstream_nemweb import FEEDS
from nemstream_runtime import ServiceSettings

DEFAULT_PORTS = {name: 9101 + i for i, name in enumerate(FEEDS)}
"""Each feed's health/metrics port unless ``NEMSTREAM_METRICS_PORT`` says otherwise."""


class FetcherSettings(ServiceSettings):
    """One fetcher process: which feed, how to poll, where to keep what it gives up on."""

    feed: str = Field(
        "dispatch",
        validation_alias=AliasChoices("NEMSTREAM_FEED", "FEED", "feed"),
        description="dispatch | trading | scada | rooftop",
    )
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR (quarantined files)")
    poll_fast_s: float = Field(1.0, gt=0, description="poll period around a file's due time")
    poll_slow_s: float = Field(30.0, gt=0, description="poll period otherwise")
    poll_early_s: float = Field(15.0, ge=0, description="start fast polling this much early")
    poll_late_s: float = Field(90.0, ge=0, description="keep fast polling this long after due")
    cadence_s: float | None = Field(
        None, gt=0, description="override the feed's cadence (a mirror releasing faster)"
    )
    lookback_h: float = Field(
        2.0, ge=0, description="first start: catch up on files this recent in CURRENT"
    )
    parse_attempts: int = Field(2, ge=1, description="cycles a bad file is tried before quarantine")
    claim_lease_s: float = Field(120.0, gt=0, description="a dead fetcher's claim expires after")

    @model_validator(mode="before")
    @classmethod
    def _feed_port(cls, data: Any) -> Any:
        """The health port defaults to the feed's own (9101 dispatch ... 9104 rooftop)."""
        if isinstance(data, dict) and "metrics_port" not in data:
            feed = next((data[k] for k in ("feed", "NEMSTREAM_FEED", "FEED") if k in data), None)
            data = {**data, "metrics_port": DEFAULT_PORTS.get(str(feed or "dispatch"), -1)}
        return data
