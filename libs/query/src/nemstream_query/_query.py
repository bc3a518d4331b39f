"""The query layer's entry point: one `Query` per store, shared by threads, with a TTL cache
whose keys hold the versions of the tables read, so an answer is never served after new data
for it has landed.

Every answer that averages says, per row, how many 5-minute values it stands on
(``intervals``) and whether that is all it should have (``complete``), so a dashboard or an
API can mark partial values: a half-hour averaged from four 5-minute prices is ``intervals`` 4,
``complete`` false. Series rows are complete when ``intervals >= minutes / 5`` (1 of 1, 6 of 6,
288 of 288 for a trading day); aggregates over the range (`price_stats`,
`revenue_by_station`) also give ``expected``, the 5-minute intervals of the range up to the
newest data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any, TypeVar

import polars as pl
from cachetools import TTLCache
from prometheus_client import Counter, Histogram

from nemstream_query import _api, _generation, _prices
from nemstream_query._answer import Answer
from nemstream_query._dashboard import DashboardQueries
from nemstream_query._emissions import EmissionsQueries
from nemstream_query._engine import Engine
from nemstream_query._forecast_queries import ForecastQueries
from nemstream_query._records import MonthMemo
from nemstream_query._resolution import Policy, Resolution
from nemstream_query._settings import QuerySettings
from nemstream_registry import RegistryError, read_registry
from nemstream_runtime import get_logger
from nemstream_store import DAILY

log = get_logger(__name__)

T = TypeVar("T")

QUERIES = Counter("nemstream_query_total", "Queries answered", ["view", "cache"])
SECONDS = Histogram("nemstream_query_seconds", "Time to answer a query (cache misses)", ["view"])

_GENERATION_TABLES = ("scada5", "scada30", "rooftop", DAILY)
_PRICE_TABLES = ("prices5", "prices30")


class Query(DashboardQueries, ForecastQueries, EmissionsQueries):
    """Dashboard and API queries over one store (the dashboard's own in `DashboardQueries`,
    the forecasts' in `ForecastQueries`)."""

    def __init__(
        self, settings: QuerySettings | None = None, units: pl.DataFrame | None = None
    ) -> None:
        """Open the store in `settings`; `units` is the registry (default: the data directory's
        ``registry/units.parquet``, reloaded when it changes; none: fuels are ``unknown``)."""
        self.settings = settings or QuerySettings()
        self._registry_path = self.settings.data_dir / "registry" / "units.parquet"
        self._registry_seen: int | None = None
        self._own_units = units is not None
        if units is None:
            units = self._read_registry()
        self.engine = Engine(
            self.settings.store_dir,
            units,
            threads=self.settings.query_threads,
            memory_limit=self.settings.query_memory_limit,
        )
        self.policy = Policy(
            timedelta(hours=self.settings.query_five_minute_max_h),
            timedelta(days=self.settings.query_thirty_minute_max_d),
            self.settings.query_gap_threshold,
        )
        self._cache: TTLCache[Hashable, object] = TTLCache(
            maxsize=max(1, self.settings.query_cache_size), ttl=self.settings.query_cache_ttl_s
        )
        self._lock = threading.Lock()
        self._running: dict[Hashable, Future[object]] = {}  # answers being computed
        self._records = MonthMemo()

    def set_units(self, units: pl.DataFrame | None) -> None:
        """Replace the unit registry (answers cached before are not served again)."""
        self._own_units = units is not None
        self.engine.set_units(units)

    def _read_registry(self) -> pl.DataFrame | None:
        try:
            seen = self._registry_path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if seen == self._registry_seen:
            return None
        try:
            units = read_registry(self._registry_path)
        except (RegistryError, OSError) as exc:
            log.warning("registry_unreadable", path=str(self._registry_path), error=str(exc))
            return None
        self._registry_seen = seen
        return units

    def _refresh_registry(self) -> None:
        if not self._own_units and (units := self._read_registry()) is not None:
            self.engine.set_units(units)

    def _cached(self, view: str, tables: Sequence[str], key: Hashable, run: Callable[[], T]) -> T:
        self._refresh_registry()
        if self.settings.query_cache_size == 0 or self.settings.query_cache_ttl_s == 0:
            QUERIES.labels(view, "off").inc()
            with SECONDS.labels(view).time():
                return run()
        full = (view, key, self.engine.version(*tables), self.engine.units_version)
        with self._lock:
            hit = self._cache.get(full)
            running = self._running.get(full) if hit is None else None
            if hit is None and running is None:
                mine: Future[object] = Future()
                self._running[full] = mine
        if hit is not None:
            QUERIES.labels(view, "hit").inc()
            return hit  # type: ignore[return-value]
        if running is not None:
            # the same question is being answered on another thread (ten pages refreshing on
            # one new interval): wait for that answer rather than read the store again
            QUERIES.labels(view, "shared").inc()
            return running.result()  # type: ignore[return-value]
        QUERIES.labels(view, "miss").inc()
        try:
            with SECONDS.labels(view).time():
                value = run()
        except BaseException as exc:
            with self._lock:
                del self._running[full]
            mine.set_exception(exc)
            raise
        with self._lock:
            self._cache[full] = value
            del self._running[full]
        mine.set_result(value)
        return value

    def resolution(self, start: datetime, end: datetime) -> Resolution:
        """The resolution a range is read at."""
        return self.policy.choose(start, end)

    def generation(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
        rooftop: bool = True,
    ) -> Answer:
        """MW by interval, region and fuel (rows not yet summed; see `generation_by_fuel`):
        interval, region, fuel, mw, minutes, intervals (the fewest 5-minute values any unit in
        the row had; rooftop PV half-hours count whole), complete."""
        key = (start, end, tuple(regions), resolution, rooftop)
        return self._cached(
            "generation",
            _GENERATION_TABLES,
            key,
            lambda: _generation.generation(
                self.engine,
                self.policy,
                start,
                end,
                regions=regions,
                resolution=resolution,
                rooftop=rooftop,
            ),
        )

    def generation_by_fuel(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        by_region: bool = False,
        resolution: Resolution | None = None,
        rooftop: bool = True,
    ) -> pl.DataFrame:
        """The generation stack: interval, [region,] fuel, mw, minutes, mwh, intervals,
        complete (``intervals``: the fewest 5-minute values behind any unit summed in)."""
        answer = self.generation(
            start, end, regions=regions, resolution=resolution, rooftop=rooftop
        )
        return _generation.by_fuel(answer, by_region=by_region)

    def daily_generation_by_fuel(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        by_region: bool = False,
    ) -> pl.DataFrame:
        """Energy per trading day and fuel (from the daily rollup, whatever the span);
        ``intervals`` is the fewest 5-minute intervals any unit has that day, of 288."""
        return self.generation_by_fuel(
            start, end, regions=regions, by_region=by_region, resolution=Resolution.DAILY
        )

    def renewable_share(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        by_region: bool = False,
        resolution: Resolution | None = None,
    ) -> pl.DataFrame:
        """Renewable share of generation per interval (rooftop PV included), with the fewest
        5-minute values behind any fuel (``intervals``) and ``complete``."""
        answer = self.generation(start, end, regions=regions, resolution=resolution)
        return _generation.renewable_share(answer, by_region=by_region)

    def revenue_by_station(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = (), limit: int = 50
    ) -> pl.DataFrame:
        """Stations by market revenue over the trading days of the range; ``intervals`` (the
        fewest 5-minute intervals any of its units has), ``expected`` (those of the days, up to
        the newest SCADA) and ``complete``."""
        return self._cached(
            "revenue_by_station",
            (DAILY,),
            (start, end, tuple(regions), limit),
            lambda: _generation.revenue_by_station(
                self.engine, start, end, regions=regions, limit=limit
            ),
        )

    def prices(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """RRP by interval and region: interval, region, rrp, minutes, intervals (5-minute
        prices behind the value: 1; a half-hour's count, 6 when whole; a day's, of 288),
        complete."""
        return self._cached(
            "prices",
            _PRICE_TABLES,
            (start, end, tuple(regions), resolution),
            lambda: _prices.price_series(
                self.engine, self.policy, start, end, regions=regions, resolution=resolution
            ),
        )

    def price_stats(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Price statistics per region, with ``intervals`` (5-minute prices they stand on),
        ``expected`` (5-minute intervals of the range up to the newest price) and
        ``complete``."""
        return self._cached(
            "price_stats",
            _PRICE_TABLES,
            (start, end, tuple(regions)),
            lambda: _prices.price_stats(self.engine, start, end, regions=regions),
        )

    def interconnector_flows(self, start: datetime, end: datetime) -> Answer:
        """Interconnector flows (with limits at 5 minutes), with minutes, intervals (5-minute
        flows behind the value) and complete."""
        return self._cached(
            "interconnector_flows",
            ("interconnector5", "interconnector30"),
            (start, end),
            lambda: _prices.interconnector_flows(self.engine, self.policy, start, end),
        )

    # --- answers for the HTTP API ----------------------------------------------------------------

    def trading_prices(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Trading prices as AEMO published them (30-minute before 5-minute settlement):
        interval, region, rrp, minutes, periodid, price_status."""
        return self._cached(
            "trading_prices",
            ("trading_prices",),
            (start, end, tuple(regions)),
            lambda: _api.trading_prices(self.engine, start, end, regions=regions),
        )

    def unit_generation(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        duids: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """Generation per unit: interval, duid, region, fuel, mw (mean), mwh, minutes,
        intervals, complete."""
        return self._cached(
            "unit_generation",
            ("scada5", "scada30", DAILY),
            (start, end, tuple(regions), tuple(duids), resolution),
            lambda: _api.unit_generation(
                self.engine,
                self.policy,
                start,
                end,
                regions=regions,
                duids=duids,
                resolution=resolution,
            ),
        )

    def regionsum(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """Regional demand, dispatchable and available generation, net interchange and
        curtailment (mean MW per row), demand energy (MWh)."""
        return self._cached(
            "regionsum",
            ("regionsum5",),
            (start, end, tuple(regions), resolution),
            lambda: _api.regionsum(
                self.engine, self.policy, start, end, regions=regions, resolution=resolution
            ),
        )

    def volume_weighted_prices(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution = Resolution.THIRTY,
    ) -> pl.DataFrame:
        """Demand-weighted mean price per half-hour or day (where 5-minute prices and regional
        demand are both stored): interval, region, rrp_volume_weighted, volume_intervals."""
        return self._cached(
            "volume_weighted_prices",
            ("prices5", "regionsum5"),
            (start, end, tuple(regions), resolution),
            lambda: _api.volume_weighted_prices(
                self.engine, start, end, regions=regions, resolution=resolution
            ),
        )

    def unit(self, duid: str) -> dict[str, Any] | None:
        """One unit's registry entry, or None when the registry does not know it."""
        self._refresh_registry()
        return _api.unit(self.engine, duid)

    def latest(self, *tables: str) -> datetime | None:
        """The newest interval the store holds in any of `tables`."""
        return _api.latest_interval(self.engine, *tables)

    def close(self) -> None:
        """Release DuckDB."""
        self.engine.close()
