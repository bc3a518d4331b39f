"""Settings of a fetcher (environment variables ``NEMSTREAM_*``; the feed also as ``FEED``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from nemstream_nemweb import FEEDS
from nemstream_runtime import NemstreamSettings

_DEFAULT_PORTS = {name: 9101 + i for i, name in enumerate(FEEDS)}


class FetcherSettings(NemstreamSettings):
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
    metrics_port: int | None = Field(
        None, description="health/metrics port (default 9101..9104 by feed; -1: none)"
    )
    crash_at: str | None = Field(
        None, description="fault tests only: exit abruptly at 'downloaded' or 'published'"
    )

    @property
    def port(self) -> int:
        """The health/metrics port in use."""
        return self.metrics_port if self.metrics_port is not None else _DEFAULT_PORTS[self.feed]
