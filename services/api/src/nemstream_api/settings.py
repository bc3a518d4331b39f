"""The API's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from nemstream_runtime import ServiceSettings


class ApiSettings(ServiceSettings):
    """Port, keys, limits and the live stream's fan-out; the store is read as the query layer's
    settings say (``NEMSTREAM_DATA_DIR``, ``NEMSTREAM_QUERY_*``)."""

    api_port: int = Field(
        8000, description="HTTP port of the API (its /healthz, /readyz, /metrics too)"
    )
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="comma list of name:key (keys of 16+ characters); actions need one",
    )
    api_require_key: bool = Field(False, description="reads need a key too (default: public)")
    api_rate_limit: str = Field(
        "600/minute", description="requests per key (or per client address without one)"
    )
    api_stream_limit: str = Field(
        "30/minute", description="new live-stream connections per key or address"
    )
    api_cors_origins: str = Field(
        "", description="comma list of origins allowed by CORS (* for any; empty: none)"
    )
    api_page_size: int = Field(
        10_000, ge=100, le=100_000, description="rows per JSON page (default and maximum)"
    )
    api_max_days_5min: float = Field(
        31.0, gt=0, description="longest span (days) asked at 5-minute resolution"
    )
    api_max_days_30min: float = Field(
        366.0, gt=0, description="longest span (days) asked at 30-minute resolution"
    )
    api_max_days_day: float = Field(
        3660.0, gt=0, description="longest span (days) asked at daily resolution"
    )
    api_stream_buffer: int = Field(
        10_000, ge=100, description="recent bus events kept in memory for resuming clients"
    )
    api_client_stall_s: float = Field(
        10.0,
        gt=0,
        description="a live client whose connection takes no event for this long "
        "is dropped as slow (it resumes by its last id)",
    )
    api_heartbeat_s: float = Field(15.0, gt=0, description="seconds between heartbeats")
    api_answer_cache_mb: int = Field(
        128, ge=0, description="whole answers kept by ETag (MiB; 0: none)"
    )
    api_cache_max_age_s: int = Field(
        60, ge=0, description="Cache-Control max-age of answers that reach the present"
    )
