"""The forecast queries' SQL and shapes: constant text, every file list and value a bound
parameter (``$files`` the forecast table's parts, ``$prices5``/``$prices30`` the actual prices',
``$regions`` a list, empty: all). What each measure means: `nemstream_query._forecasts`."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import polars as pl

from nemstream_query._sql import read_parts

Source = Literal["p5min", "predispatch"]
SOURCES: tuple[Source, ...] = ("p5min", "predispatch")
"""The forecast tables, finest first."""

SPIKES = (300, 1000)
"""Price thresholds ($/MWh) of the spike measures."""

P5MIN_HORIZON = timedelta(minutes=55)
"""A P5MIN run's last interval ends 55 minutes after its first (12 intervals)."""

PREDISPATCH_HORIZON = timedelta(days=2, hours=6)
"""Longer than any pre-dispatch run reaches (to the end of the next trading day, < 52 h)."""

HORIZON: dict[Source, timedelta] = {"p5min": P5MIN_HORIZON, "predispatch": PREDISPATCH_HORIZON}
MINUTES: dict[Source, int] = {"p5min": 5, "predispatch": 30}

FORECAST_SCHEMA = {
    "source": pl.String(),
    "run": pl.Datetime("us"),
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "minutes": pl.Int64(),
    "lead_minutes": pl.Int64(),
    "rrp": pl.Float64(),
    "demand_mw": pl.Float64(),
}
"""Columns of a forecast answer (``demand_mw``: P5MIN's TOTALDEMAND, null for pre-dispatch)."""

_REGIONS = "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], regionid))"
_LEAD = "CAST(date_diff('minute', run_datetime, interval_datetime) AS BIGINT)"
_HALF = "time_bucket(INTERVAL 30 MINUTE, settlementdate - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE"


def _rows(source: Source, demand: str) -> str:
    return (
        f"SELECT '{source}' AS source, run_datetime AS run, "  # noqa: S608 # sql-ok
        "interval_datetime AS interval, regionid AS region, "
        f"CAST({MINUTES[source]} AS BIGINT) AS minutes, "  # sql-ok: a constant
        f"{_LEAD} AS lead_minutes, rrp, {demand} AS demand_mw "  # sql-ok: fixed columns
        "FROM " + read_parts("files") + " "
    )


_ROWS = {"p5min": _rows("p5min", "totaldemand"), "predispatch": _rows("predispatch", "NULL")}

LATEST = {
    source: (
        "WITH newest AS (SELECT max(run_datetime) AS run FROM "  # noqa: S608 - constant SQL
        + read_parts("files")
        + " "
        "WHERE intervention = 0 AND run_datetime > $since AND run_datetime <= $at) "
        + rows
        + "WHERE intervention = 0 AND run_datetime = (SELECT run FROM newest) "
        "AND interval_datetime >= $at AND interval_datetime > $after "
        "AND interval_datetime <= $until AND " + _REGIONS
    )
    for source, rows in _ROWS.items()
}
"""The newest run made at or before ``$at`` (and after ``$since``): its intervals ending in
[``$at``, ``$until``] and after ``$after``."""

FORECASTS_OF = {
    source: rows + "WHERE intervention = 0 AND interval_datetime = $interval "
    "AND run_datetime > $since AND run_datetime <= $interval AND " + _REGIONS
    for source, rows in _ROWS.items()
}
"""Every run's forecast for the interval ending ``$interval``."""

BAND = {
    source: (
        f"SELECT '{source}' AS source, interval_datetime AS interval, "  # noqa: S608 # sql-ok
        "regionid AS region, "
        f"CAST({MINUTES[source]} AS BIGINT) AS minutes, "  # sql-ok: a constant
        "min(rrp) AS low, max(rrp) AS high, arg_max(rrp, run_datetime) AS rrp, "
        "max(run_datetime) AS run, count(*) AS runs "
        "FROM " + read_parts("files") + " "
        "WHERE intervention = 0 AND interval_datetime > $start AND interval_datetime <= $end "
        "AND run_datetime > $since AND run_datetime <= $made AND " + _REGIONS + " GROUP BY ALL"
    )
    for source in SOURCES
}
"""Per interval and region, over every run made by ``$made`` that forecast it: the lowest and
highest forecast, the newest run's forecast and its time, how many runs."""

BAND_SCHEMA = {
    "source": pl.String(),
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "minutes": pl.Int64(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "rrp": pl.Float64(),
    "run": pl.Datetime("us"),
    "runs": pl.Int64(),
}
"""Columns of a forecast band."""

_MONTH = "CAST(date_trunc('month', {} - INTERVAL 1 MINUTE) AS DATE)"
"""The month an interval (ending) belongs to: that of its first minute (the store's rule)."""

ACTUAL5 = (
    "SELECT settlementdate AS interval, regionid AS region, rrp AS actual, "  # noqa: S608
    + _MONTH.format("settlementdate")  # sql-ok: a fixed column
    + " AS month FROM "
    + read_parts("prices5")
    + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end AND " + _REGIONS
)
"""The 5-minute dispatch price (pricing run) of every interval ending in (start, end], and its
month (labelled here, on the actual prices, rather than on the many more forecast rows)."""

ACTUAL30 = (
    "WITH a30 AS (SELECT settlementdate AS interval, regionid AS region, rrp AS actual "  # noqa: S608
    "FROM " + read_parts("prices30") + " "
    "WHERE intervals >= 6 AND settlementdate > $start AND settlementdate <= $end AND "
    + _REGIONS
    + "), a5 AS (SELECT "
    + _HALF
    + " AS interval, regionid AS region, avg(rrp) AS actual "
    "FROM " + read_parts("prices5") + " "
    "WHERE intervention = 0 AND settlementdate > $start5 AND settlementdate <= $end AND "
    + _REGIONS
    + " GROUP BY ALL HAVING count(rrp) = 6) "
    "SELECT *, " + _MONTH.format("interval") + " AS month FROM ("  # sql-ok
    "SELECT * FROM a30 UNION ALL SELECT * FROM a5 WHERE a5.interval > $start AND NOT EXISTS "
    "(SELECT 1 FROM a30 WHERE a30.interval = a5.interval AND a30.region = a5.region))"
)
"""The half-hour actual price of every half hour ending in (start, end] (module docstring):
the stored complete mean, else the mean of six stored 5-minute prices; and its month."""


def _pairs(source: Source) -> str:
    actual = ACTUAL5 if source == "p5min" else ACTUAL30
    return (
        "WITH f AS (SELECT run_datetime, interval_datetime, regionid, rrp "
        "FROM " + read_parts("files") + " "
        "WHERE intervention = 0 AND interval_datetime > $start AND interval_datetime <= $end "
        "AND run_datetime > $since AND " + _REGIONS + "), "
        "a AS (" + actual + ") "
        "SELECT a.month, f.regionid AS region, "
        "CAST(date_diff('minute', f.run_datetime, f.interval_datetime) AS BIGINT) "
        "AS lead_minutes, f.rrp AS forecast, a.actual "
        "FROM f JOIN a ON a.interval = f.interval_datetime AND a.region = f.regionid"
    )


def _accuracy(source: Source) -> str:
    spikes = ", ".join(
        f"count(*) FILTER (WHERE actual >= {x}) AS spikes_{x}, "  # sql-ok: constant thresholds
        f"count(*) FILTER (WHERE actual >= {x} AND forecast >= {x}) AS hits_{x}, "  # sql-ok
        f"count(*) FILTER (WHERE forecast >= {x}) AS forecast_{x}, "  # sql-ok
        f"count(*) FILTER (WHERE forecast >= {x} AND actual < {x}) AS false_alarms_{x}"  # sql-ok
        for x in SPIKES
    )
    return (
        "WITH pairs AS ("  # noqa: S608 - constant SQL, thresholds constants
        + _pairs(source)
        + ") "
        "SELECT month, region, lead_minutes, count(*) AS count, "
        "sum(abs(forecast - actual)) AS abs_error, sum(forecast - actual) AS error, "
        + spikes
        + " FROM pairs GROUP BY ALL"
    )


ACCURACY = {source: _accuracy(source) for source in SOURCES}
"""Sums by month (of the interval's first minute), region and lead of one source's forecast
errors for intervals ending in (start, end]: pairs, Σ|error|, Σ error and the spike counts
(additive: the sums of two ranges are the sums of their union)."""

ACCURACY_SCHEMA = {
    "source": pl.String(),
    "region": pl.String(),
    "lead_minutes": pl.Int64(),
    "count": pl.Int64(),
    "mae": pl.Float64(),
    "bias": pl.Float64(),
    **{
        f"{measure}_{x}": pl.Float64() if "rate" in measure else pl.Int64()
        for x in SPIKES
        for measure in ("spikes", "hits", "hit_rate", "false_alarms", "false_alarm_rate")
    },
}
"""Columns of an accuracy answer (measures: the module docstring)."""
