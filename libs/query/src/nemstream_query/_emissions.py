"""Emissions and emissions intensity per region and NEM, from ``emissions5`` (the aggregator's
``nem.emissions.region.v1``) and rooftop PV (docs/emissions.md).

A row sums the 5-minute intervals of its bucket (5, 30 or 1440 minutes, interval ending):
``emissions_t`` (t CO2-e), ``generation_mwh`` (sent-out energy of the units that have an emission
factor, positive MW only), ``unfactored_mwh`` (energy of units with no factor) and
``rooftop_mwh`` (rooftop PV, MEASUREMENT preferred over SATELLITE, each half-hour's estimate
spread evenly over its six 5-minute intervals). Two intensities (t CO2-e/MWh):

* ``intensity`` = emissions ÷ generation of units with a factor (sent out, no rooftop PV);
* ``intensity_with_rooftop`` = emissions ÷ (that generation + rooftop PV), rooftop PV counted as
  zero-emission generation; null where no rooftop estimate covers the bucket's intervals.

Units with no factor are in neither: ``unfactored_units`` (the most in any one interval of the
bucket) and ``unfactored_mwh`` say how much was left out. ``NEM`` is the sum of every region's
intervals (and of ``UNKNOWN``: unfactored units no registry places), before bucketing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import polars as pl

from nemstream_market import REGIONS
from nemstream_query._answer import FIVE_MINUTES, Answer, with_complete
from nemstream_query._engine import Engine
from nemstream_query._resolution import Policy, Resolution, align_down, expected
from nemstream_query._settings import QuerySettings
from nemstream_query._sql import read_parts
from nemstream_registry import emission_factors_path

NEM = "NEM"
T = TypeVar("T")

EMISSIONS = (  # constant fragments; every value a bound parameter
    "WITH e AS (SELECT settlementdate, regionid, emissions_t, generation_mwh, "  # noqa: S608 # sql-ok
    "unfactored_units, unfactored_mwh FROM " + read_parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end), "
    "r AS (SELECT interval_datetime AS half, regionid, "
    "arg_max(power, CASE type WHEN 'MEASUREMENT' THEN 1 ELSE 0 END) AS mw "
    "FROM " + read_parts("rooftop") + " "
    "WHERE power IS NOT NULL AND list_contains($nem_regions::VARCHAR[], regionid) "
    "AND interval_datetime > $start AND interval_datetime <= $end + INTERVAL 30 MINUTE "
    "GROUP BY ALL), "
    "j AS (SELECT e.*, r.mw * 5 / 60 AS rooftop_mwh FROM e LEFT JOIN r "
    "ON r.regionid = e.regionid AND r.half = time_bucket(INTERVAL 30 MINUTE, "
    "e.settlementdate - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE), "
    "n AS (SELECT settlementdate, 'NEM' AS regionid, sum(emissions_t) AS emissions_t, "
    "sum(generation_mwh) AS generation_mwh, sum(unfactored_units) AS unfactored_units, "
    "sum(unfactored_mwh) AS unfactored_mwh, sum(rooftop_mwh) AS rooftop_mwh FROM j "
    "GROUP BY settlementdate), "
    "a AS (SELECT * FROM j UNION ALL SELECT * FROM n) "
    "SELECT time_bucket(to_minutes($minutes), settlementdate - INTERVAL 5 MINUTE) "
    "+ to_minutes($minutes) AS interval, regionid AS region, "
    "sum(emissions_t) AS emissions_t, sum(generation_mwh) AS generation_mwh, "
    "CASE WHEN count(rooftop_mwh) = count(*) THEN sum(rooftop_mwh) END AS rooftop_mwh, "
    "CAST(max(unfactored_units) AS BIGINT) AS unfactored_units, "
    "sum(unfactored_mwh) AS unfactored_mwh, CAST(count(*) AS BIGINT) AS intervals "
    "FROM a WHERE len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], regionid) "
    "GROUP BY ALL"
)
"""Emissions, generation, rooftop PV and unfactored units per bucket and region (and NEM)."""

UNFACTORED = (  # constant fragments; every value a bound parameter
    "WITH s AS (SELECT duid, CAST(count(*) AS BIGINT) AS intervals, "  # noqa: S608 # sql-ok
    "sum(greatest(scadavalue, 0)) * 5 / 60 AS mwh FROM " + read_parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end GROUP BY duid) "
    "SELECT s.duid, u.station_name, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, s.intervals, s.mwh "
    "FROM s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE NOT list_contains($factored::VARCHAR[], s.duid) "
    "AND coalesce(u.dispatch_type, '') <> 'load' "  # pumps, charging units: consumers
    "AND (len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], u.region)) "
    "ORDER BY s.mwh DESC, s.duid"
)
"""Units with SCADA in the range and no emission factor, but not those the registry lists as
loads (consumers, never generation): their intervals and positive MWh."""

UNFACTORED_SCHEMA = {
    "duid": pl.String(),
    "station_name": pl.String(),
    "region": pl.String(),
    "fuel": pl.String(),
    "intervals": pl.Int64(),
    "mwh": pl.Float64(),
}
"""Columns of `unfactored_units`."""

EMISSIONS_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "emissions_t": pl.Float64(),
    "generation_mwh": pl.Float64(),
    "intensity": pl.Float64(),
    "rooftop_mwh": pl.Float64(),
    "intensity_with_rooftop": pl.Float64(),
    "unfactored_units": pl.Int64(),
    "unfactored_mwh": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of `emissions`."""

TABLES = ("emissions5", "rooftop")
"""The tables `emissions` reads."""


def emissions(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> Answer:
    """Emissions (t CO2-e), generation and intensities per interval and region over
    (start, end]: see the module docstring; `regions` may name ``NEM`` (empty: every region
    and NEM)."""
    chosen = resolution or policy.choose(start, end)
    frame = engine.frame(
        EMISSIONS,
        {
            "files": engine.files("emissions5", start, end),
            "rooftop": engine.files("rooftop", start, end),
            "nem_regions": list(REGIONS),
            "start": start,
            "end": end,
            "regions": list(regions),
            "minutes": chosen.minutes,
        },
    )
    generation = pl.col("generation_mwh")
    with_rooftop = generation + pl.col("rooftop_mwh")
    frame = frame.with_columns(
        pl.when(generation > 0).then(pl.col("emissions_t") / generation).alias("intensity"),
        pl.when(with_rooftop > 0)
        .then(pl.col("emissions_t") / with_rooftop)
        .alias("intensity_with_rooftop"),
        pl.lit(chosen.minutes, pl.Int64).alias("minutes"),
    )
    frame = with_complete(frame).select(list(EMISSIONS_SCHEMA)).cast(pl.Schema(EMISSIONS_SCHEMA))
    return Answer(
        frame.sort("interval", "region"),
        chosen,
        _coverage(engine, frame, start, end),
        0,
        ("emissions5",),
    )


def emissions_now(engine: Engine, policy: Policy, end: datetime | None = None) -> pl.DataFrame:
    """Each region's and the NEM's newest 5-minute emissions row (at or before `end`)."""
    latest = engine.latest("emissions5")
    if latest is None:
        return pl.DataFrame(schema=EMISSIONS_SCHEMA)
    edge = align_down(min(latest, end) if end is not None else latest, FIVE_MINUTES)
    start = edge - timedelta(minutes=FIVE_MINUTES)
    return emissions(engine, policy, start, edge, resolution=Resolution.FIVE).frame


def factored_duids(data_dir: Path) -> list[str]:
    """DUIDs of the emission factor table (none when there is no table)."""
    try:
        return pl.read_parquet(emission_factors_path(data_dir), columns=["duid"])["duid"].to_list()
    except (OSError, pl.exceptions.PolarsError):
        return []


def unfactored_units(
    engine: Engine,
    factored: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
) -> pl.DataFrame:
    """Units with SCADA in (start, end] and no emission factor, most energy first: duid,
    station_name, region, fuel (registry; ``unknown`` where it has none), intervals, mwh."""
    frame = engine.frame(
        UNFACTORED,
        {
            "files": engine.files("scada5", start, end),
            "start": start,
            "end": end,
            "factored": list(factored),
            "regions": [r for r in regions if r != NEM],
        },
    )
    return frame.select(list(UNFACTORED_SCHEMA)).cast(pl.Schema(UNFACTORED_SCHEMA))


def _coverage(engine: Engine, frame: pl.DataFrame, start: datetime, end: datetime) -> float:
    """Share of the range's 5-minute intervals (up to the newest stored) the NEM rows cover."""
    edge = engine.latest("emissions5")
    if edge is None:
        return 1.0
    want = len(expected(start, align_down(min(end, edge), FIVE_MINUTES), FIVE_MINUTES))
    rows = frame.filter(pl.col("region") == NEM)
    if rows.is_empty():
        rows = frame
    per_region = rows.group_by("region").agg(pl.col("intervals").sum())["intervals"]
    seen = int(per_region.max() or 0) if per_region.len() else 0  # type: ignore[arg-type]
    return 1.0 if want == 0 else min(1.0, seen / want)


class EmissionsQueries:
    """Emissions queries as `Query` methods, cached through `_cached` (`Query` provides it)."""

    engine: Engine
    policy: Policy
    settings: QuerySettings

    def _cached(self, view: str, tables: Sequence[str], key: Hashable, run: Callable[[], T]) -> T:
        raise NotImplementedError

    def emissions(
        self,
        start: datetime,
        end: datetime,
        *,
        regions: Sequence[str] = (),
        resolution: Resolution | None = None,
    ) -> Answer:
        """Emissions, generation with a factor, rooftop PV, both intensities and unfactored
        units per interval and region (``NEM`` among them): see `nemstream_query._emissions`."""
        return self._cached(
            "emissions",
            TABLES,
            (start, end, tuple(regions), resolution),
            lambda: emissions(
                self.engine, self.policy, start, end, regions=regions, resolution=resolution
            ),
        )

    def unfactored_units(
        self, start: datetime, end: datetime, *, regions: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Units with SCADA in the range and no emission factor (left out of the intensities),
        most energy first: duid, station_name, region, fuel, intervals, mwh."""
        path = emission_factors_path(self.settings.data_dir)
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        return self._cached(
            "unfactored_units",
            ("scada5",),
            (start, end, tuple(regions), stamp),
            lambda: unfactored_units(
                self.engine,
                factored_duids(self.settings.data_dir),
                start,
                end,
                regions=regions,
            ),
        )

    def emissions_now(self, end: datetime | None = None) -> pl.DataFrame:
        """The newest 5-minute emissions row of every region and the NEM (at or before `end`)."""
        return self._cached(
            "emissions_now", TABLES, end, lambda: emissions_now(self.engine, self.policy, end)
        )
