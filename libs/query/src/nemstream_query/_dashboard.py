"""The dashboard's queries, as methods `Query` inherits: the market now, price analytics,
renewable records, interconnectors, curtailment, rooftop PV by region, and station and unit
answers. Each is cached like the others, keyed by the versions of the tables it reads (and the
registry's), so new data is never hidden by a cached answer.

The work is in `_market` (prices), `_flows` (interconnectors), `_regionsum` (curtailment,
rooftop PV by region), `_records` (renewable records), `_units` (unit picker, revenue,
utilisation) and `_station` (one station).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

import polars as pl

from nemstream_query import _flows, _market, _records, _regionsum, _station, _units
from nemstream_query._answer import Answer
from nemstream_query._engine import Engine
from nemstream_query._resolution import Policy, Resolution
from nemstream_store import DAILY

T = TypeVar("T")

_PRICES = ("prices5", "prices30")
_SCADA = ("scada5", "scada30")


class DashboardQueries:
    """Dashboard queries over `engine`, cached through `_cached` (`Query` provides both)."""

    engine: Engine
    policy: Policy
    _records: _records.MonthMemo

    def _cached(self, view: str, tables: Sequence[str], key: Hashable, run: Callable[[], T]) -> T:
        raise NotImplementedError

    # --- the market now ---------------------------------------------------------------------

    def price_now(
        self, end: datetime | None = None, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Each region's newest price with its change, 1 h and 24 h means and market status, for
        the price cards: region, interval, rrp, previous_rrp, change, avg_1h, avg_24h,
        intervals_1h, intervals_24h, complete, price_status, apcflag, marketsuspendedflag,
        status, cap."""
        return self._cached(
            "price_now",
            ("prices5",),
            (end, tuple(regions)),
            lambda: _market.price_now(self.engine, end, regions=regions),
        )

    def recent_prices(
        self, end: datetime | None = None, *, count: int = 5, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """The last `count` 5-minute prices per region, for the cards' sparklines: interval,
        region, rrp."""
        return self._cached(
            "recent_prices",
            ("prices5",),
            (end, count, tuple(regions)),
            lambda: _market.recent_prices(self.engine, end, count=count, regions=regions),
        )

    def interconnectors_now(self, end: datetime | None = None) -> pl.DataFrame:
        """Each interconnector's newest flow, its direction and how near its limit, for the flow
        map: interconnectorid, interval, from_region, to_region, mw, target_mw, export_limit,
        import_limit, direction, utilisation, at_limit."""
        return self._cached(
            "interconnectors_now",
            ("interconnector5",),
            end,
            lambda: _flows.interconnectors_now(self.engine, end),
        )

    def renewable_records(
        self, *, regions: Sequence[str] = (), at: datetime | None = None
    ) -> pl.DataFrame:
        """The highest renewable share in the store's history per region and NEM, overall and
        for the hour of `at`, so the dashboard can say when a record falls: region,
        record_share, record_interval, renewable_mw, total_mw, hour, hour_record_share,
        hour_record_interval, half_hours, since, until."""
        return self._cached(
            "renewable_records",
            _records.TABLES,
            (tuple(regions), at),
            lambda: _records.renewable_records(self.engine, self._records, regions=regions, at=at),
        )

    # --- price analytics ----------------------------------------------------------------------

    def price_analytics(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> _market.PriceAnalytics:
        """The time-of-day profile, duration curve, distribution and spike counts together,
        from one read of the range's prices (what the Prices tab shows)."""
        return self._cached(
            "price_analytics",
            _PRICES,
            (start, end, tuple(regions)),
            lambda: _market.price_analytics(self.engine, start, end, regions=regions),
        )

    def price_profile(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        minutes: int = 30,
    ) -> pl.DataFrame:
        """Mean RRP by time of day, to show when in the day prices are high: region,
        time_of_day ("HH:MM", slot ending), rrp, intervals, expected, complete."""
        return self._cached(
            "price_profile",
            _PRICES,
            (start, end, tuple(regions), minutes),
            lambda: _market.price_profile(
                self.engine, start, end, regions=regions, minutes=minutes
            ),
        )

    def price_duration(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = (), points: int = 200
    ) -> pl.DataFrame:
        """The price duration curve, to show how much of the time prices exceed a level:
        region, share_of_time (0-1), rrp, intervals, expected, complete."""
        return self._cached(
            "price_duration",
            _PRICES,
            (start, end, tuple(regions), points),
            lambda: _market.price_duration(self.engine, start, end, regions=regions, points=points),
        )

    def price_distribution(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        bins: Sequence[float] | None = None,
    ) -> pl.DataFrame:
        """Histogram of prices over fixed $/MWh bins from the floor to the cap, time-weighted:
        region, low, high, count (5-minute intervals), share."""
        return self._cached(
            "price_distribution",
            _PRICES,
            (start, end, tuple(regions), None if bins is None else tuple(bins)),
            lambda: _market.price_distribution(self.engine, start, end, regions=regions, bins=bins),
        )

    def price_counts(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """How often prices were negative or extreme, in 5-minute intervals: region, negative,
        at_least_300, at_least_1000, at_least_10000, intervals, expected, complete."""
        return self._cached(
            "price_counts",
            _PRICES,
            (start, end, tuple(regions)),
            lambda: _market.price_counts(self.engine, start, end, regions=regions),
        )

    # --- regional series ----------------------------------------------------------------------

    def curtailment(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """Semi-scheduled solar and wind curtailment (UIGF − cleared, clipped at 0), to show
        energy the grid turned away: interval, region, solar_mw, wind_mw, total_mw, minutes,
        intervals, complete (``NEM`` among `regions` adds the NEM's sum)."""
        return self._cached(
            "curtailment",
            ("regionsum5",),
            (start, end, tuple(regions), resolution),
            lambda: _regionsum.curtailment(
                self.engine, self.policy, start, end, regions=regions, resolution=resolution
            ),
        )

    def net_imports(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """Net imports per region (exports below zero), the stack's last layer so that supply
        adds up to demand: interval, region, mw, minutes, intervals, complete."""
        return self._cached(
            "net_imports",
            ("regionsum5",),
            (start, end, tuple(regions), resolution),
            lambda: _regionsum.net_imports(
                self.engine, self.policy, start, end, regions=regions, resolution=resolution
            ),
        )

    def rooftop_by_region(
        self,
        start: datetime,
        end: datetime,
        *,
        include_subregions: bool = True,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> pl.DataFrame:
        """Rooftop PV per region and sub-region, each on its own row so none is counted twice,
        by half-hour (or by trading day where the range asks for days): interval, regionid,
        parent_region, is_subregion, mw, type, minutes, intervals, complete."""
        return self._cached(
            "rooftop_by_region",
            ("rooftop",),
            (start, end, include_subregions, tuple(regions), resolution),
            lambda: _regionsum.rooftop_by_region(
                self.engine,
                self.policy,
                start,
                end,
                include_subregions=include_subregions,
                regions=regions,
                resolution=resolution,
            ),
        )

    # --- stations and units ---------------------------------------------------------------------

    def utilisation_by_fuel(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        by_region: bool = False,
    ) -> pl.DataFrame:
        """Mean MW against registered capacity per fuel, to show how hard each fuel ran:
        [region,] fuel, mw, mwh, capacity_mw, units, utilisation, intervals, expected,
        complete."""
        return self._cached(
            "utilisation_by_fuel",
            (*_SCADA, DAILY),
            (start, end, tuple(regions), by_region),
            lambda: _units.utilisation_by_fuel(
                self.engine, self.policy, start, end, regions=regions, by_region=by_region
            ),
        )

    def revenue_by_unit(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Energy, revenue and price received per DUID, the rows of the region → fuel → station
        → DUID pivot: region, fuel, station_name, duid, gwh, revenue_maud, price_received, mw,
        capacity_mw, utilisation, intervals, expected, complete."""
        return self._cached(
            "revenue_by_unit",
            (*_SCADA, DAILY),
            (start, end, tuple(regions)),
            lambda: _units.revenue_by_unit(self.engine, start, end, regions=regions),
        )

    def units(self, search: str = "", *, limit: int = 50) -> pl.DataFrame:
        """Units matching a search on station name or DUID, best first, for the station picker:
        duid, station_name, region, fuel, capacity_mw."""
        return self._cached(
            "units", (), (search, limit), lambda: _units.units(self.engine, search, limit=limit)
        )

    def station_detail(
        self,
        start: datetime,
        end: datetime,
        *,
        station: str | None = None,
        duid: str | None = None,
    ) -> _station.StationDetail:
        """One station's (or DUID's) output, its region's price on the same intervals, revenue,
        price received, capacity factor and time-of-day profile, for the station page."""
        return self._cached(
            "station_detail",
            (*_SCADA, *_PRICES, DAILY),
            (start, end, station, duid),
            lambda: _station.station_detail(
                self.engine, self.policy, start, end, station=station, duid=duid
            ),
        )
