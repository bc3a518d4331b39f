"""The writer's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from nemstream_runtime import ServiceSettings


class WriterSettings(ServiceSettings):
    """The writer service."""

    metrics_port: int = Field(9110, description="health/metrics port (-1: none)")
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    writer_batch: int = Field(500, ge=1, description="messages per flush at most")
    writer_flush_s: float = Field(1.0, gt=0, description="flush at least this often (age)")
    compact_every_s: float = Field(60.0, gt=0, description="compaction/rollup period")
    compact_min_parts: int = Field(12, ge=2, description="small parts that trigger a merge")
    writer_durable: str = Field("writer", description="durable consumer name")

    @property
    def store_dir(self) -> Path:
        """Where the tables live."""
        return self.data_dir / "store"
