"""Answers the HTTP API needs beyond the dashboard's: trading prices as AEMO published them,
generation per unit, regional demand and interchange, one unit's registry entry.

Resampling follows one rule per measure: MW is a mean over the period (time-weighted: every
5-minute value holds for 5 minutes), MWh a sum, a price the time-weighted mean of the period's
prices (AEMO's own 30-minute price since 5-minute settlement is the mean of the six dispatch
prices). Every row says how many 5-minute values it stands on (``intervals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from nemstream_query._answer import Answer, with_complete
from nemstream_query._engine import Engine
from nemstream_query._resolution import Policy, Resolution, align_down
from nemstream_query._sql import _parts
from nemstream_store import DAILY

_UNIT_REGIONS = (
    "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], "
    "coalesce(u.region, 'unknown')))"
)
_DUIDS = "(len($duids::VARCHAR[]) = 0 OR list_contains($duids::VARCHAR[], s.duid))"
_REGIONS = "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], regionid))"

TRADING = (
    "SELECT settlementdate AS interval, regionid AS region, rrp, interval_minutes AS minutes, "
    "periodid, price_status FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _REGIONS + " "
    "ORDER BY interval, region"
)
"""Trading prices as published (30-minute before 5-minute settlement, 5-minute after)."""

UNITS5 = (
    "SELECT s.settlementdate AS interval, s.duid, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, s.scadavalue AS mw, 1::BIGINT AS intervals "
    "FROM " + _parts("files") + " AS s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.settlementdate > $start AND s.settlementdate <= $end AND "
    + _UNIT_REGIONS
    + " AND "
    + _DUIDS
)
"""Each unit's 5-minute SCADA MW."""

UNITS30 = (
    "SELECT s.settlementdate AS interval, s.duid, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, s.scadavalue AS mw, s.intervals "
    "FROM " + _parts("files") + " AS s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.settlementdate > $start AND s.settlementdate <= $end AND "
    + _UNIT_REGIONS
    + " AND "
    + _DUIDS
)
"""Each unit's half-hourly mean MW as the aggregator stored it (with its count of six)."""

UNITS_DAILY = (
    "SELECT s.date, s.duid, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, s.mwh, s.intervals5 + 6 * s.intervals30 AS intervals "
    "FROM " + _parts("files") + " AS s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.date >= $first AND s.date <= $last AND " + _UNIT_REGIONS + " AND " + _DUIDS
)
"""Each unit's energy per trading day from the daily rollup."""

REGIONSUM5 = (
    "SELECT settlementdate AS interval, regionid AS region, totaldemand AS demand_mw, "
    "dispatchablegeneration AS dispatchable_generation_mw, "
    "netinterchange AS net_interchange_mw, availablegeneration AS available_generation_mw, "
    "greatest(coalesce(ss_solar_uigf, 0) - coalesce(ss_solar_clearedmw, 0), 0) "
    "  + greatest(coalesce(ss_wind_uigf, 0) - coalesce(ss_wind_clearedmw, 0), 0) "
    "  AS curtailment_mw, "
    "(ss_solar_uigf IS NOT NULL OR ss_wind_uigf IS NOT NULL) AS has_split "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND intervention = 0 AND " + _REGIONS
)
"""Regional demand, dispatchable generation, net interchange (export positive, AEMO's sign),
available generation and semi-scheduled curtailment (UIGF − cleared, solar and wind each
clipped at 0) of the pricing run, every 5 minutes."""

_BUCKET30 = (
    "time_bucket(INTERVAL 30 MINUTE, p.settlementdate - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE"
)
_BUCKET_DAY = "CAST(CAST(p.settlementdate - INTERVAL 5 MINUTE AS DATE) + 1 AS TIMESTAMP)"
_P_REGIONS = "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], p.regionid))"
_VOLUME_WEIGHTED = (
    "SELECT {bucket} AS interval, p.regionid AS region, "
    "sum(p.rrp * r.totaldemand) / nullif(sum(r.totaldemand), 0) AS rrp_volume_weighted, "
    "count(*) AS volume_intervals "
    "FROM " + _parts("prices") + " AS p JOIN " + _parts("sums") + " AS r "
    "ON r.settlementdate = p.settlementdate AND r.regionid = p.regionid AND r.intervention = 0 "
    "WHERE p.intervention = 0 AND p.settlementdate > $start AND p.settlementdate <= $end "
    "AND " + _P_REGIONS + " GROUP BY ALL"
)
VOLUME_WEIGHTED30 = _VOLUME_WEIGHTED.format(bucket=_BUCKET30)  # sql-ok: a constant bucket
VOLUME_WEIGHTED_DAY = _VOLUME_WEIGHTED.format(bucket=_BUCKET_DAY)  # sql-ok: a constant bucket
"""Demand-weighted mean price per half-hour or trading day: Σ RRP × TOTALDEMAND / Σ
TOTALDEMAND over the 5-minute intervals that have both (pricing run)."""

UNIT_COLUMNS = {
    "interval": pl.Datetime("us"),
    "duid": pl.String(),
    "region": pl.String(),
    "fuel": pl.String(),
    "mw": pl.Float64(),
    "mwh": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}

REGIONSUM_MEASURES = (
    "demand_mw",
    "dispatchable_generation_mw",
    "net_interchange_mw",
    "available_generation_mw",
    "curtailment_mw",
)


def trading_prices(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = ()
) -> pl.DataFrame:
    """Trading prices as AEMO published them: interval, region, rrp, minutes, periodid,
    price_status."""
    params = {
        "files": engine.files("trading_prices", start, end),
        "start": start,
        "end": end,
        "regions": list(regions),
    }
    return engine.frame(TRADING, params)


def _bucket(column: str, minutes: int) -> pl.Expr:
    """The interval-ending period of `minutes` a value's interval falls in: (T − m, T]."""
    width = f"{minutes}m"
    return (pl.col(column) - timedelta(minutes=1)).dt.truncate(width).dt.offset_by(width)


def unit_generation(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    duids: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> Answer:
    """MW (mean over each row's period) and MWh (MW × hours) per unit: interval, duid, region,
    fuel, mw, mwh, minutes, intervals, complete. Five minutes from ``scada5``; half-hours from
    ``scada30``, or the 5-minute values' mean where the half-hour table has none; days from the
    daily rollup (its MWh; MW is MWh / 24)."""
    chosen = resolution or policy.choose(start, end)
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "regions": list(regions),
        "duids": list(duids),
    }
    if chosen is Resolution.DAILY:
        first = (start + timedelta(minutes=1)).date()
        last = (end - timedelta(minutes=1)).date()
        daily = {"regions": params["regions"], "duids": params["duids"]}
        frame = engine.frame(
            UNITS_DAILY,
            {**daily, "files": engine.files(DAILY), "first": first, "last": last},
        ).with_columns(
            (pl.col("date").cast(pl.Datetime("us")) + timedelta(days=1)).alias("interval"),
            (pl.col("mwh") / 24.0).alias("mw"),
            pl.lit(Resolution.DAILY.minutes, pl.Int64).alias("minutes"),
        )
        source: tuple[str, ...] = (DAILY,)
    elif chosen is Resolution.FIVE:
        frame = engine.frame(UNITS5, {**params, "files": engine.files("scada5", start, end)})
        frame = frame.with_columns(pl.lit(5, pl.Int64).alias("minutes"))
        source = ("scada5",)
    else:
        frame = engine.frame(UNITS30, {**params, "files": engine.files("scada30", start, end)})
        five = engine.frame(UNITS5, {**params, "files": engine.files("scada5", start, end)})
        if five.height:
            have = frame.select("interval", "duid")
            five = (
                five.with_columns(_bucket("interval", 30).alias("interval"))
                .group_by("interval", "duid", "region", "fuel")
                .agg(pl.col("mw").mean(), pl.len().cast(pl.Int64).alias("intervals"))
                .join(have, on=["interval", "duid"], how="anti")
            )
            frame = pl.concat([frame, five.select(frame.columns)], how="vertical_relaxed")
        frame = frame.with_columns(pl.lit(30, pl.Int64).alias("minutes"))
        source = ("scada30", "scada5")
    if "mwh" not in frame.columns:
        frame = frame.with_columns((pl.col("mw") * pl.col("minutes") / 60.0).alias("mwh"))
    frame = with_complete(frame.with_columns(pl.col("intervals").cast(pl.Int64)))
    frame = frame.select(list(UNIT_COLUMNS)).sort("interval", "duid")
    return Answer(frame, chosen, 1.0, 0, source)


def regionsum(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> Answer:
    """Regional demand, generation, interchange and curtailment (each the mean MW over the
    row's period), plus energy demanded (``demand_mwh``): interval, region, the
    `REGIONSUM_MEASURES`, demand_mwh, minutes, intervals, complete."""
    chosen = resolution or policy.choose(start, end)
    frame = engine.frame(
        REGIONSUM5,
        {
            "files": engine.files("regionsum5", start, end),
            "start": start,
            "end": end,
            "regions": list(regions),
        },
    ).with_columns(
        pl.when(pl.col("has_split")).then(pl.col("curtailment_mw")).alias("curtailment_mw")
    )
    if chosen is Resolution.FIVE:
        frame = frame.with_columns(
            pl.lit(5, pl.Int64).alias("minutes"), pl.lit(1, pl.Int64).alias("intervals")
        )
    else:
        minutes = chosen.minutes
        bucket = (
            _bucket("interval", 30)
            if chosen is Resolution.THIRTY
            else (pl.col("interval") - timedelta(minutes=1)).dt.date().cast(pl.Datetime("us"))
            + timedelta(days=1)
        )
        frame = (
            frame.with_columns(bucket.alias("interval"))
            .group_by("interval", "region")
            .agg(
                *(pl.col(m).mean() for m in REGIONSUM_MEASURES),
                pl.len().cast(pl.Int64).alias("intervals"),
            )
            .with_columns(pl.lit(minutes, pl.Int64).alias("minutes"))
        )
    frame = frame.with_columns((pl.col("demand_mw") * pl.col("minutes") / 60.0).alias("demand_mwh"))
    frame = with_complete(frame).select(
        "interval", "region", *REGIONSUM_MEASURES, "demand_mwh", "minutes", "intervals", "complete"
    )
    return Answer(frame.sort("interval", "region"), chosen, 1.0, 0, ("regionsum5",))


def volume_weighted_prices(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution,
) -> pl.DataFrame:
    """The demand-weighted mean price of each half-hour or day (regional TOTALDEMAND as the
    volume): interval, region, rrp_volume_weighted, volume_intervals (5-minute intervals with
    both a price and a demand)."""
    sql = VOLUME_WEIGHTED30 if resolution is Resolution.THIRTY else VOLUME_WEIGHTED_DAY
    return engine.frame(
        sql,
        {
            "prices": engine.files("prices5", start, end),
            "sums": engine.files("regionsum5", start, end),
            "start": start,
            "end": end,
            "regions": list(regions),
        },
    )


def unit(engine: Engine, duid: str) -> dict[str, Any] | None:
    """One unit's registry entry (DUID, station, region, fuel, capacity), or None."""
    frame = engine.frame("SELECT * FROM units WHERE duid = $duid", {"duid": duid})
    return frame.row(0, named=True) if frame.height else None


def latest_interval(engine: Engine, *tables: str) -> datetime | None:
    """The newest interval in any of `tables` (from manifests)."""
    found = [t for t in (engine.latest(table) for table in tables) if t is not None]
    return max(found) if found else None


__all__ = [
    "REGIONSUM_MEASURES",
    "UNIT_COLUMNS",
    "align_down",
    "latest_interval",
    "regionsum",
    "trading_prices",
    "unit",
    "unit_generation",
    "volume_weighted_prices",
]
