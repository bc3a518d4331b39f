"""The SQL the queries run: constant text, every file list and value a bound parameter.

Parameters: ``$files`` (and ``$files5`` / ``$files30``) the parts to read, ``$start`` and
``$end`` bound intervals ending in (start, end], ``$regions`` a list of region ids (empty: all).
Generation is attributed to the region and fuel the unit registry gives its DUID; units the
registry does not know are kept as region/fuel ``unknown`` rather than dropped.
"""

from __future__ import annotations

_REGIONS = "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], {column}))"
_IN_REGIONS_UNIT = _REGIONS.format(column="coalesce(u.region, 'unknown')")
_IN_REGIONS = _REGIONS.format(column="regionid")
_HALF_HOUR_OF = (
    "time_bucket(INTERVAL 30 MINUTE, settlementdate - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE"
)

GENERATION = (
    "SELECT s.settlementdate AS interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(s.scadavalue) AS mw "
    "FROM read_parquet($files, hive_partitioning = false) AS s "
    "LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.settlementdate > $start AND s.settlementdate <= $end AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""MW by interval, region and fuel from `scada5` or `scada30`."""

GENERATION_5_AS_30 = (
    "WITH unit AS (SELECT " + _HALF_HOUR_OF + " AS interval, duid, avg(scadavalue) AS mw "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE settlementdate > $start AND settlementdate <= $end GROUP BY ALL) "
    "SELECT s.interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(s.mw) AS mw "
    "FROM unit AS s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE " + _IN_REGIONS_UNIT + " GROUP BY ALL"
)
"""Half-hourly MW from 5-minute SCADA: each unit's mean over (T−30, T], summed by fuel."""

GENERATION_DAILY = (
    "SELECT d.date, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(d.mwh) AS mwh "
    "FROM read_parquet($files, hive_partitioning = false) AS d "
    "LEFT JOIN units AS u ON u.duid = d.duid "
    "WHERE d.date >= $first AND d.date <= $last AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""MWh by trading day, region and fuel from the daily rollup."""

ROOFTOP = (
    "SELECT interval_datetime AS interval, regionid AS region, "
    "arg_max(power, CASE type WHEN 'MEASUREMENT' THEN 1 ELSE 0 END) AS mw "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE NOT coalesce(is_subregion, false) AND power IS NOT NULL "
    "AND interval_datetime > $start AND interval_datetime <= $end AND " + _IN_REGIONS + " "
    "GROUP BY ALL"
)
"""Half-hourly rooftop PV per NEM region (never its sub-regions), MEASUREMENT preferred."""

ROOFTOP_DAILY = (
    "SELECT date, regionid AS region, mwh FROM read_parquet($files, hive_partitioning = false) "
    "WHERE date >= $first AND date <= $last AND " + _IN_REGIONS
)
"""Rooftop PV MWh per trading day and NEM region, from the rollup."""

REVENUE_BY_STATION = (
    "SELECT coalesce(u.station_name, d.duid) AS station, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, count(DISTINCT d.duid) AS units, "
    "sum(d.mwh) AS mwh, sum(d.revenue) AS revenue, "
    "sum(d.revenue) / nullif(sum(d.mwh) FILTER (WHERE d.priced > 0), 0) AS price_received, "
    "sum(d.priced) / nullif(sum(d.intervals5 + d.intervals30), 0) AS priced_share "
    "FROM read_parquet($files, hive_partitioning = false) AS d "
    "LEFT JOIN units AS u ON u.duid = d.duid "
    "WHERE d.date >= $first AND d.date <= $last AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL ORDER BY revenue DESC NULLS LAST, station LIMIT $limit"
)
"""Energy and market revenue (MW × RRP × hours at the unit's region) per station."""

PRICES5 = (
    "SELECT settlementdate AS interval, regionid AS region, rrp "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS
)
"""5-minute pricing-run RRP (INTERVENTION = 0)."""

PRICES5_INTERVALS = (
    "SELECT count(DISTINCT settlementdate) FROM read_parquet($files, hive_partitioning = false) "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS
)
"""How many 5-minute intervals have a pricing-run price."""

PRICES30 = (
    "SELECT settlementdate AS interval, regionid AS region, rrp "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_REGIONS
)
"""30-minute RRP (mean of the six pricing-run values, or the pre-2021 trading price)."""

_STATS = (
    "SELECT region, sum(minutes) / 60 AS hours, "
    "count(*) FILTER (WHERE minutes = 5) AS intervals5, "
    "count(*) FILTER (WHERE minutes = 30) AS intervals30, "
    "sum(rrp * minutes) / sum(minutes) AS mean, min(rrp) AS min, max(rrp) AS max, "
    "stddev_pop(rrp) AS std, quantile_cont(rrp, [0.05, 0.5, 0.95]) AS q, "
    "coalesce(sum(minutes) FILTER (WHERE rrp < 0), 0) / 60 AS hours_negative, "
    "coalesce(sum(minutes) FILTER (WHERE rrp >= 300), 0) / 60 AS hours_above_300, "
    "coalesce(sum(minutes) FILTER (WHERE rrp >= 1000), 0) / 60 AS hours_above_1000 "
    "FROM allp GROUP BY region"
)
_P5 = PRICES5.replace("$files,", "$files5,", 1)

PRICE_STATS = (
    "WITH p5 AS (" + _P5 + "), "
    "covered AS (SELECT DISTINCT region, time_bucket(INTERVAL 30 MINUTE, "
    "interval - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE AS half FROM p5), "
    "p30 AS (SELECT settlementdate AS interval, regionid AS region, rrp "
    "FROM read_parquet($files30, hive_partitioning = false) AS p "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_REGIONS + " "
    "AND NOT EXISTS (SELECT 1 FROM covered AS c "
    "WHERE c.region = p.regionid AND c.half = p.settlementdate)), "
    "allp AS (SELECT *, 5 AS minutes FROM p5 UNION ALL SELECT *, 30 AS minutes FROM p30) " + _STATS
)
"""Price statistics per region: 5-minute prices, and 30-minute ones only for half-hours with
no 5-minute price (weighted by their length, so means and hours stay right)."""

PRICE_STATS_5 = "WITH allp AS (SELECT *, 5 AS minutes FROM (" + _P5 + ")) " + _STATS
"""Price statistics when every interval has a 5-minute price (no half-hours to merge)."""

INTERCONNECTOR5 = (
    "SELECT settlementdate AS interval, interconnectorid, meteredmwflow, mwflow, "
    "exportlimit, importlimit "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end"
)
"""5-minute interconnector flows with their limits (pricing run)."""

INTERCONNECTOR30 = (
    "SELECT settlementdate AS interval, interconnectorid, meteredmwflow "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE settlementdate > $start AND settlementdate <= $end"
)
"""30-minute mean metered flows."""

PRICES5_AS_30 = (
    "SELECT time_bucket(INTERVAL 30 MINUTE, settlementdate - INTERVAL 5 MINUTE) "
    "+ INTERVAL 30 MINUTE AS interval, regionid AS region, avg(rrp) AS rrp "
    "FROM read_parquet($files, hive_partitioning = false) "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS + " GROUP BY ALL"
)
"""Half-hourly mean of the 5-minute pricing-run RRP."""
