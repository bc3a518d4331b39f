"""The SQL the queries run: constant text, every file list and value a bound parameter.

Parameters: ``$files`` (and ``$files5`` / ``$files30``) the parts to read, ``$start`` and
``$end`` bound intervals ending in (start, end], ``$regions`` a list of region ids (empty: all).
Generation is attributed to the region and fuel the unit registry gives its DUID; units the
registry does not know are kept as region/fuel ``unknown`` rather than dropped.

Every query that averages also says how many 5-minute values stand behind a row
(``intervals``): 1 for a 5-minute row, the store's count for a 30-minute mean (6 when whole),
the count of values averaged when half-hours are made from 5-minute rows.
"""

from __future__ import annotations


def read_parts(files: str) -> str:
    """A table's parts, the ``$files`` parameter named: columns matched by name, so parts written
    before a column was added read as null in it (no migration when a contract grows)."""
    return "read_parquet($" + files + ", hive_partitioning = false, union_by_name = true)"


_parts = read_parts


_REGIONS = "(len($regions::VARCHAR[]) = 0 OR list_contains($regions::VARCHAR[], {column}))"
_IN_REGIONS_UNIT = _REGIONS.format(column="coalesce(u.region, 'unknown')")
_IN_REGIONS = _REGIONS.format(column="regionid")
_HALF_HOUR_OF = (
    "time_bucket(INTERVAL 30 MINUTE, settlementdate - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE"
)

GENERATION = (
    "SELECT s.settlementdate AS interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(s.scadavalue) AS mw "
    "FROM " + _parts("files") + " AS s "
    "LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.settlementdate > $start AND s.settlementdate <= $end AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""MW by interval, region and fuel from `scada5` (each row one 5-minute interval)."""

GENERATION30 = (
    "SELECT s.settlementdate AS interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(s.scadavalue) AS mw, "
    "min(s.intervals) AS intervals "
    "FROM " + _parts("files") + " AS s "
    "LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE s.settlementdate > $start AND s.settlementdate <= $end AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""Half-hourly MW by interval, region and fuel from `scada30`; ``intervals`` is the fewest
5-minute values any unit's mean in the row was taken from (6: every unit had all six)."""

GENERATION_5_AS_30 = (
    "WITH unit AS (SELECT " + _HALF_HOUR_OF + " AS interval, duid, avg(scadavalue) AS mw, "
    "count(scadavalue) AS n "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end GROUP BY ALL) "
    "SELECT s.interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(s.mw) AS mw, min(s.n) AS intervals "
    "FROM unit AS s LEFT JOIN units AS u ON u.duid = s.duid "
    "WHERE " + _IN_REGIONS_UNIT + " GROUP BY ALL"
)
"""Half-hourly MW from 5-minute SCADA: each unit's mean over (T−30, T], summed by fuel;
``intervals`` is the fewest 5-minute values any unit's mean was taken from."""

GENERATION_DAILY = (
    "SELECT d.date, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(d.mwh) AS mwh, "
    "min(d.intervals5 + 6 * d.intervals30) AS intervals "
    "FROM " + _parts("files") + " AS d "
    "LEFT JOIN units AS u ON u.duid = d.duid "
    "WHERE d.date >= $first AND d.date <= $last AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""MWh by trading day, region and fuel from the daily rollup; ``intervals`` is the fewest
5-minute intervals any unit in the row has that day (a half-hour counts as six)."""

ROOFTOP = (
    "SELECT interval_datetime AS interval, regionid AS region, "
    "arg_max(power, CASE type WHEN 'MEASUREMENT' THEN 1 ELSE 0 END) AS mw "
    "FROM " + _parts("files") + " "
    "WHERE NOT coalesce(is_subregion, false) AND power IS NOT NULL "
    "AND interval_datetime > $start AND interval_datetime <= $end AND " + _IN_REGIONS + " "
    "GROUP BY ALL"
)
"""Half-hourly rooftop PV per NEM region (never its sub-regions), MEASUREMENT preferred."""

ROOFTOP_DAILY = (
    "SELECT date, regionid AS region, mwh, 6 * intervals AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE date >= $first AND date <= $last AND " + _IN_REGIONS
)
"""Rooftop PV MWh per trading day and NEM region, from the rollup; ``intervals`` the
half-hours it has, as 5-minute intervals (six each)."""

REVENUE_BY_STATION = (
    "WITH days AS (SELECT *, CAST(sum(intervals5 + 6 * intervals30) "
    "OVER (PARTITION BY duid) AS BIGINT) AS unit_intervals "
    "FROM " + _parts("files") + " "
    "WHERE date >= $first AND date <= $last) "
    "SELECT coalesce(u.station_name, d.duid) AS station, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, count(DISTINCT d.duid) AS units, "
    "sum(d.mwh) AS mwh, sum(d.revenue) AS revenue, "
    "sum(d.revenue) / nullif(sum(d.mwh) FILTER (WHERE d.priced > 0), 0) AS price_received, "
    "sum(d.priced) / nullif(sum(d.intervals5 + d.intervals30), 0) AS priced_share, "
    "min(d.unit_intervals) AS intervals "
    "FROM days AS d "
    "LEFT JOIN units AS u ON u.duid = d.duid "
    "WHERE " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL ORDER BY revenue DESC NULLS LAST, station LIMIT $limit"
)
"""Energy and market revenue (MW × RRP × hours at the unit's region) per station;
``intervals`` is the fewest 5-minute intervals any of its units has over the days (a half-hour
counts as six)."""

PRICES5 = (
    "SELECT settlementdate AS interval, regionid AS region, rrp, CAST(1 AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS
)
"""5-minute pricing-run RRP (INTERVENTION = 0), each row one interval."""

PRICES5_INTERVALS = (
    "SELECT count(DISTINCT settlementdate) FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS
)
"""How many 5-minute intervals have a pricing-run price."""

PRICES30 = (
    "SELECT settlementdate AS interval, regionid AS region, rrp, intervals "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_REGIONS
)
"""30-minute RRP (mean of the pricing-run values, or the pre-2021 trading price) and how many
5-minute values the mean used (6 when whole)."""

_STATS = (
    "SELECT region, sum(minutes) / 60 AS hours, "
    "count(*) FILTER (WHERE minutes = 5) AS intervals5, "
    "count(*) FILTER (WHERE minutes = 30) AS intervals30, "
    "sum(rrp * minutes) / sum(minutes) AS mean, min(rrp) AS min, max(rrp) AS max, "
    "stddev_pop(rrp) AS std, quantile_cont(rrp, [0.05, 0.5, 0.95]) AS q, "
    "coalesce(sum(minutes) FILTER (WHERE rrp < 0), 0) / 60 AS hours_negative, "
    "coalesce(sum(minutes) FILTER (WHERE rrp >= 300), 0) / 60 AS hours_above_300, "
    "coalesce(sum(minutes) FILTER (WHERE rrp >= 1000), 0) / 60 AS hours_above_1000, "
    "CAST(sum(intervals) AS BIGINT) AS intervals "
    "FROM allp GROUP BY region"
)
_P5 = PRICES5.replace("$files,", "$files5,", 1)

_ALL_PRICES = (
    "WITH p5 AS (" + _P5 + "), "
    "covered AS (SELECT DISTINCT region, time_bucket(INTERVAL 30 MINUTE, "
    "interval - INTERVAL 5 MINUTE) + INTERVAL 30 MINUTE AS half FROM p5), "
    "p30 AS (SELECT settlementdate AS interval, regionid AS region, rrp, intervals "
    "FROM " + _parts("files30") + " AS p "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_REGIONS + " "
    "AND NOT EXISTS (SELECT 1 FROM covered AS c "
    "WHERE c.region = p.regionid AND c.half = p.settlementdate)), "
    "allp AS (SELECT *, 5 AS minutes FROM p5 UNION ALL SELECT *, 30 AS minutes FROM p30) "
)

PRICE_STATS = _ALL_PRICES + _STATS
"""Price statistics per region: 5-minute prices, and 30-minute ones only for half-hours with
no 5-minute price (weighted by their length, so means and hours stay right); ``intervals`` the
5-minute prices they stand on (a half-hour its count)."""

PRICE_STATS_5 = "WITH allp AS (SELECT *, 5 AS minutes FROM (" + _P5 + ")) " + _STATS
"""Price statistics when every interval has a 5-minute price (no half-hours to merge)."""

INTERCONNECTOR5 = (
    "SELECT settlementdate AS interval, interconnectorid, meteredmwflow, mwflow, "
    "exportlimit, importlimit "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end"
)
"""5-minute interconnector flows with their limits (pricing run)."""

INTERCONNECTOR30 = (
    "SELECT settlementdate AS interval, interconnectorid, meteredmwflow, intervals "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end"
)
"""30-minute mean metered flows and how many 5-minute values each mean used."""

PRICES5_AS_30 = (
    "SELECT time_bucket(INTERVAL 30 MINUTE, settlementdate - INTERVAL 5 MINUTE) "
    "+ INTERVAL 30 MINUTE AS interval, regionid AS region, avg(rrp) AS rrp, "
    "count(rrp) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS + " GROUP BY ALL"
)
"""Half-hourly mean of the 5-minute pricing-run RRP and how many it averaged."""

# --- dashboard queries ---------------------------------------------------------------------------

ALL_PRICES = (
    _ALL_PRICES + "SELECT interval, region, rrp, CAST(minutes AS BIGINT) AS minutes, "
    "CAST(intervals AS BIGINT) AS intervals FROM allp"
)
"""Every pricing-run price of the range: the 5-minute ones, and 30-minute means only for
half-hours with no 5-minute price (``minutes`` says which; ``intervals`` the 5-minute prices
behind the row), for statistics weighted by time."""

PRICE_NOW = (
    "SELECT settlementdate AS interval, regionid AS region, rrp, price_status, "
    "CAST(apcflag AS BIGINT) AS apcflag, "
    "CAST(marketsuspendedflag AS BIGINT) AS marketsuspendedflag "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS
)
"""5-minute pricing-run prices with their status columns (parts written before the status
flags were stored read them as null: ``union_by_name``)."""

CURTAILMENT = (
    "WITH c AS (SELECT settlementdate, regionid, "
    "CASE WHEN ss_solar_uigf - ss_solar_clearedmw < 0 THEN 0 "
    "ELSE ss_solar_uigf - ss_solar_clearedmw END AS solar, "
    "CASE WHEN ss_wind_uigf - ss_wind_clearedmw < 0 THEN 0 "
    "ELSE ss_wind_uigf - ss_wind_clearedmw END AS wind "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS + ") "
    "SELECT time_bucket(to_minutes($minutes), settlementdate - INTERVAL 5 MINUTE) "
    "+ to_minutes($minutes) AS interval, regionid AS region, "
    "avg(solar) AS solar_mw, avg(wind) AS wind_mw, "
    "CAST(count(coalesce(solar, wind)) AS BIGINT) AS intervals "
    "FROM c GROUP BY ALL"
)
"""Semi-scheduled solar and wind curtailment per region (pricing run): availability (UIGF)
less cleared MW, each 5-minute value clipped at 0 (cleared above availability is not
curtailment), then averaged into ``$minutes`` buckets (5, 30 or 1440, interval ending);
``intervals`` the 5-minute values behind a bucket."""

NET_IMPORTS = (
    "SELECT time_bucket(to_minutes($minutes), settlementdate - INTERVAL 5 MINUTE) "
    "+ to_minutes($minutes) AS interval, regionid AS region, "
    "avg(-netinterchange) AS mw, CAST(count(netinterchange) AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE intervention = 0 AND settlementdate > $start AND settlementdate <= $end "
    "AND " + _IN_REGIONS + " GROUP BY ALL"
)
"""Net imports per region (pricing run): AEMO's NETINTERCHANGE is positive for export, so its
negation is what flows in (exports below zero), averaged into ``$minutes`` buckets."""

_REPORTING_RECENT = (
    "SELECT DISTINCT duid FROM " + _parts("files5") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end UNION "
    "SELECT DISTINCT duid FROM " + _parts("files30") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end"
)
_REPORTING_DAILY = (
    "SELECT DISTINCT duid FROM " + _parts("files") + " WHERE date >= $first AND date <= $last"
)
_CAPACITY = (
    "SELECT coalesce(u.region, 'unknown') AS region, coalesce(u.fuel, 'unknown') AS fuel, "
    "sum(u.capacity_mw) AS capacity_mw, count(*) AS units "
    "FROM reporting AS r LEFT JOIN units AS u ON u.duid = r.duid "
    "WHERE " + _IN_REGIONS_UNIT + " GROUP BY ALL"
)
CAPACITY_RECENT = "WITH reporting AS (" + _REPORTING_RECENT + ") " + _CAPACITY
"""Registered capacity (MW) per region and fuel of the units with SCADA in (start, end]
(5- or 30-minute), and how many units that is."""

CAPACITY_DAILY = "WITH reporting AS (" + _REPORTING_DAILY + ") " + _CAPACITY
"""Registered capacity (MW) per region and fuel of the units in the daily rollup's days."""

REVENUE_BY_UNIT = (
    "SELECT coalesce(u.region, 'unknown') AS region, coalesce(u.fuel, 'unknown') AS fuel, "
    "coalesce(u.station_name, d.duid) AS station_name, d.duid, u.capacity_mw, "
    "sum(d.mwh) AS mwh, sum(d.revenue) AS revenue, "
    "sum(d.mwh) FILTER (WHERE d.priced > 0) AS priced_mwh, "
    "sum(d.intervals5 * 5 + d.intervals30 * 30) / 60 AS hours, "
    "CAST(sum(d.intervals5 + 6 * d.intervals30) AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " AS d "
    "LEFT JOIN units AS u ON u.duid = d.duid "
    "WHERE d.date >= $first AND d.date <= $last AND " + _IN_REGIONS_UNIT + " "
    "GROUP BY ALL"
)
"""Energy, market revenue (the rollup's MW × RRP × hours at the unit's region, pricing run)
and hours of SCADA per DUID over trading days; ``intervals`` its 5-minute intervals (a
half-hour counts as six)."""

_IN_DUIDS = "list_contains($duids::VARCHAR[], duid)"

UNIT_OUTPUT5 = (
    "SELECT settlementdate AS interval, sum(scadavalue) AS mw, CAST(1 AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_DUIDS + " GROUP BY ALL"
)
"""5-minute MW summed over the DUIDs in ``$duids`` (negative values kept)."""

UNIT_OUTPUT30 = (
    "SELECT settlementdate AS interval, sum(scadavalue) AS mw, "
    "CAST(min(intervals) AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_DUIDS + " GROUP BY ALL"
)
"""Half-hourly mean MW summed over ``$duids``; ``intervals`` the fewest values of any unit."""

UNIT_OUTPUT5_AS_30 = (
    "WITH unit AS (SELECT " + _HALF_HOUR_OF + " AS interval, duid, avg(scadavalue) AS mw, "
    "count(scadavalue) AS n FROM " + _parts("files") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end AND " + _IN_DUIDS + " "
    "GROUP BY ALL) "
    "SELECT interval, sum(mw) AS mw, CAST(min(n) AS BIGINT) AS intervals FROM unit GROUP BY ALL"
)
"""Half-hourly MW of ``$duids`` made from 5-minute SCADA (each unit's mean, summed)."""

UNIT_OUTPUT_DAILY = (
    "SELECT date, sum(mwh) AS mwh, sum(revenue) AS revenue, "
    "sum(mwh) FILTER (WHERE priced > 0) AS priced_mwh, "
    "CAST(min(intervals5 + 6 * intervals30) AS BIGINT) AS intervals "
    "FROM " + _parts("files") + " "
    "WHERE date >= $first AND date <= $last AND " + _IN_DUIDS + " GROUP BY date"
)
"""Energy and revenue per trading day summed over ``$duids`` (the daily rollup)."""

UNIT_LIST = (
    "SELECT duid, station_name, region, fuel, capacity_mw FROM units ORDER BY station_name, duid"
)
"""The registry's units, for search."""

ROOFTOP_BY_REGION = (
    "SELECT interval_datetime AS interval, regionid, "
    "bool_or(coalesce(is_subregion, list_contains($subregions::VARCHAR[], regionid))) "
    "AS is_subregion, "
    "arg_max(power, CASE type WHEN 'MEASUREMENT' THEN 1 ELSE 0 END) AS mw, "
    "arg_max(type, CASE type WHEN 'MEASUREMENT' THEN 1 ELSE 0 END) AS type "
    "FROM " + _parts("files") + " "
    "WHERE power IS NOT NULL AND interval_datetime > $start AND interval_datetime <= $end "
    "GROUP BY interval_datetime, regionid"
)
"""Half-hourly rooftop PV per region *and* sub-region (MEASUREMENT preferred over SATELLITE),
each row on its own: never to be summed into its parent region."""

RENEWABLE_HALF_HOURS = (
    "WITH g30 AS (SELECT settlementdate AS interval, duid, scadavalue AS mw, intervals AS n "
    "FROM " + _parts("files30") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end), "
    "have AS (SELECT DISTINCT interval FROM g30), "
    "f5 AS (SELECT " + _HALF_HOUR_OF + " AS interval, duid, scadavalue "
    "FROM " + _parts("files5") + " "
    "WHERE settlementdate > $start AND settlementdate <= $end), "
    "g5 AS (SELECT interval, duid, avg(scadavalue) AS mw, count(scadavalue) AS n FROM f5 "
    "WHERE interval NOT IN (SELECT interval FROM have) GROUP BY ALL), "
    "halves AS (SELECT * FROM g30 UNION ALL SELECT * FROM g5) "
    "SELECT h.interval, coalesce(u.region, 'unknown') AS region, "
    "coalesce(u.fuel, 'unknown') AS fuel, sum(h.mw) AS mw, CAST(min(h.n) AS BIGINT) AS intervals "
    "FROM halves AS h LEFT JOIN units AS u ON u.duid = h.duid GROUP BY ALL"
)
"""Half-hourly MW by region and fuel over all of (start, end]: 30-minute SCADA, and the
half-hourly means of 5-minute SCADA for half-hours the 30-minute table lacks."""
