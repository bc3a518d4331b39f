"""Query-layer configuration (environment variables with the NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from nemstream_runtime import NemstreamSettings


class QuerySettings(NemstreamSettings):
    """Where the store is, how resolution is chosen, and how long answers are cached."""

    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    query_five_minute_max_h: float = Field(
        48.0, gt=0, description="spans up to this many hours are read at 5 minutes"
    )
    query_thirty_minute_max_d: float = Field(
        92.0, gt=0, description="spans up to this many days at 30 minutes; longer ones daily"
    )
    query_gap_threshold: float = Field(
        0.10, ge=0, lt=1, description="missing share above which the other resolution fills in"
    )
    query_cache_ttl_s: float = Field(300.0, ge=0, description="seconds an answer is kept")
    query_cache_size: int = Field(256, ge=0, description="answers kept at most")
    query_threads: int = Field(0, ge=0, description="DuckDB threads (0: one per core)")
    query_memory_limit: str = Field("1GB", description="DuckDB memory limit")

    @property
    def store_dir(self) -> Path:
        """The parquet store the writer keeps."""
        return self.data_dir / "store"
