"""The dashboard's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from nemstream_runtime import ServiceSettings


class DashboardSettings(ServiceSettings):
    """The dashboard: where it listens and which store it reads."""

    dashboard_port: int = Field(5006, description="port of the dashboard (and its /healthz)")
    metrics_port: int = Field(-1, description="the dashboard serves /healthz on its own port")
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    dashboard_origins: str = Field(
        "*",
        description="hosts the browser may load it from (websocket origins), comma list; "
        "'*' for any (behind a proxy, name the public host)",
    )
    dashboard_live_check_s: float = Field(
        0.5, gt=0, description="how often the one per-process watcher looks for new intervals"
    )

    @property
    def store_dir(self) -> Path:
        """Where the tables live."""
        return self.data_dir / "store"
