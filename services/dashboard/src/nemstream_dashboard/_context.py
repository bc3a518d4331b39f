"""What every session of one server process shares: the query layer (thread-safe, with its
version-keyed cache), the new-data watcher, and the bounds of the store's history."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from nemstream_dashboard._live import Live
from nemstream_dashboard.settings import DashboardSettings
from nemstream_query import Query, QuerySettings
from nemstream_runtime import get_logger
from nemstream_store import Manifest, TableReader

log = get_logger(__name__)

BOUND_TABLES = ("prices5", "prices30", "scada5", "scada30", "rooftop")
"""Tables whose history sets a page's default range."""


@dataclass
class Context:
    """One per server process."""

    settings: DashboardSettings
    query: Query
    live: Live
    started: float = field(default_factory=time.time)
    _bounds: tuple[tuple[int, ...], datetime | None, datetime | None] | None = None

    @classmethod
    def open(cls, settings: DashboardSettings) -> Context:
        """Open the store read-only and start watching it."""
        query = Query(QuerySettings(data_dir=settings.data_dir))
        live = Live(TableReader(settings.store_dir), every_s=settings.dashboard_live_check_s)
        live.start()
        context = cls(settings, query, live)
        threading.Thread(target=context.warm, name="dashboard-warm", daemon=True).start()
        return context

    def warm(self) -> None:
        """Search the store's history for the renewable records, and read a year of forecast
        error sums, once, in the background, so the first visitor does not wait for them
        (months are remembered; later only the current month is read again)."""
        began = time.perf_counter()
        try:
            self.query.renewable_records()
            self.query.warm_forecast_accuracy()  # the Forecasts tab's year view
        except Exception as exc:  # noqa: BLE001 - a page will query again and say what failed
            log.warning("dashboard_warm_failed", error=repr(exc))
            return
        log.info("dashboard_warmed", seconds=round(time.perf_counter() - began, 2))

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """(newest, oldest) interval the store holds (manifests only, no data read)."""
        versions = tuple(self.query.engine.version(*BOUND_TABLES))
        if self._bounds is None or self._bounds[0] != versions:
            firsts, lasts = [], []
            for table in BOUND_TABLES:
                parts = Manifest.load(self.settings.store_dir / table).parts
                if parts:
                    firsts.append(datetime.fromisoformat(min(p.first for p in parts)))
                    lasts.append(datetime.fromisoformat(max(p.last for p in parts)))
            self._bounds = (
                versions,
                max(lasts) if lasts else None,
                min(firsts) if firsts else None,
            )
        return self._bounds[1], self._bounds[2]

    def stored_at(self, table: str = "prices5") -> float | None:
        """When the table last changed (Unix time), for "latest 14:35, 40 s ago"."""
        version = self.query.engine.version(table)[0]
        return version / 1e9 if version else None

    def close(self) -> None:
        """Stop watching, release DuckDB."""
        self.live.stop()
        self.query.close()
