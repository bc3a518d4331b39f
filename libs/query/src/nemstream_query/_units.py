"""Unit answers: a unit picker, revenue per DUID, and utilisation of registered capacity per
fuel (one station's detail is `_station`).

Output is SCADA MW with negative values kept (battery charging, pumping, auxiliary load), so a
battery's energy and revenue can be negative. Revenue is MW × RRP of the unit's region ×
interval hours at the pricing run's price (INTERVENTION = 0), never MW × RRP: over trading
days it comes from the daily rollup, which computes exactly that from the 5-minute values.
Capacity is the unit registry's ``capacity_mw``; utilisation is mean MW ÷ capacity (a unit
the registry has no capacity for adds its MW but no capacity).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from nemstream_query import _generation, _sql
from nemstream_query._answer import FIVE_MINUTES
from nemstream_query._engine import Engine
from nemstream_query._generation import day_range, newest
from nemstream_query._resolution import Policy, Resolution, align_down, expected
from nemstream_store import DAILY

UNIT_SCHEMA = {
    "duid": pl.String(),
    "station_name": pl.String(),
    "region": pl.String(),
    "fuel": pl.String(),
    "capacity_mw": pl.Float64(),
}
"""Columns of `units`."""

_COMPLETENESS = {"intervals": pl.Int64(), "expected": pl.Int64(), "complete": pl.Boolean()}
REVENUE_BY_UNIT_SCHEMA = {
    "region": pl.String(),
    "fuel": pl.String(),
    "station_name": pl.String(),
    "duid": pl.String(),
    "gwh": pl.Float64(),
    "revenue_maud": pl.Float64(),
    "price_received": pl.Float64(),
    "mw": pl.Float64(),
    "capacity_mw": pl.Float64(),
    "utilisation": pl.Float64(),
    **_COMPLETENESS,
}
"""Columns of `revenue_by_unit`."""

UTILISATION_SCHEMA = {
    "region": pl.String(),
    "fuel": pl.String(),
    "mw": pl.Float64(),
    "mwh": pl.Float64(),
    "capacity_mw": pl.Float64(),
    "units": pl.Int64(),
    "utilisation": pl.Float64(),
    **_COMPLETENESS,
}
"""Columns of `utilisation_by_fuel` (``region`` only with ``by_region``)."""

# --- the unit picker ------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]


def rank(search: str, duid: str, station: str) -> int | None:
    """How well a unit matches `search` (lower is better), None for no match: 0 the DUID or
    station name exactly, 1 one of them starts with it, 2 one contains it, 3 every word of it
    starts a word of the station name or DUID (case and punctuation ignored)."""
    query = search.strip().lower()
    names = (duid.lower(), station.lower())
    if not query:
        return 3
    if query in names:
        return 0
    if any(n.startswith(query) for n in names):
        return 1
    if any(query in n for n in names):
        return 2
    words = _words(station) + _words(duid)
    wanted = _words(query)
    if wanted and all(any(w.startswith(q) for w in words) for q in wanted):
        return 3
    return None


def units(engine: Engine, search: str = "", *, limit: int = 50) -> pl.DataFrame:
    """Units of the registry matching `search` (see `rank`), best first, then by station name
    and DUID; all units (by station name) when `search` is empty."""
    registry = engine.frame(_sql.UNIT_LIST, {})
    if registry.is_empty():
        return pl.DataFrame(schema=UNIT_SCHEMA)
    ranks = [
        rank(search, duid, station or "")
        for duid, station in zip(registry["duid"], registry["station_name"], strict=True)
    ]
    return (
        registry.with_columns(pl.Series("rank", ranks, pl.Int64))
        .filter(pl.col("rank").is_not_null())
        .sort("rank", "station_name", "duid", nulls_last=True)
        .head(max(0, limit))
        .select(list(UNIT_SCHEMA))
        .cast(pl.Schema(UNIT_SCHEMA))
    )


# --- revenue and utilisation ---------------------------------------------------------------------


def window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The trading days of (start, end], as the midnights that start the first and the last."""
    first, last = day_range(start, end)
    return datetime.combine(first, datetime.min.time()), datetime.combine(last, datetime.min.time())


def _expected_days(engine: Engine, start: datetime, end: datetime) -> int:
    """5-minute intervals of the trading days of (start, end], up to the newest SCADA."""
    first, last = window(start, end)
    edge = newest(engine, "scada5", "scada30")
    if edge is None:
        return 0
    days_end = min(last + timedelta(days=1), edge)
    return len(expected(first, align_down(days_end, FIVE_MINUTES), FIVE_MINUTES))


def _expected_range(engine: Engine, start: datetime, end: datetime) -> int:
    """5-minute intervals of (start, end], up to the newest SCADA."""
    edge = newest(engine, "scada5", "scada30")
    if edge is None:
        return 0
    return len(expected(start, align_down(min(end, edge), FIVE_MINUTES), FIVE_MINUTES))


def revenue_by_unit(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = ()
) -> pl.DataFrame:
    """One row per DUID over the trading days of (start, end] (the daily rollup): energy
    (``gwh``), market revenue (``revenue_maud``, $M; null when no interval had a price), price
    received (revenue ÷ energy of the days with prices, $/MWh; null when that energy ≤ 0),
    mean MW over the intervals it reported, capacity and utilisation; ``intervals`` its
    5-minute intervals of SCADA (a half-hour counts six), ``expected`` those of the days up to
    the newest SCADA, ``complete``."""
    first, last = day_range(start, end)
    rows = engine.frame(
        _sql.REVENUE_BY_UNIT,
        {
            "files": engine.files(DAILY, *window(start, end)),
            "first": first,
            "last": last,
            "regions": list(regions),
        },
    )
    want = _expected_days(engine, start, end)
    mean = pl.when(pl.col("hours") > 0).then(pl.col("mwh") / pl.col("hours"))
    frame = rows.with_columns(
        (pl.col("mwh") / 1_000).alias("gwh"),
        pl.when(pl.col("priced_mwh").is_not_null())
        .then(pl.col("revenue") / 1_000_000)
        .alias("revenue_maud"),
        pl.when(pl.col("priced_mwh") > 0)
        .then(pl.col("revenue") / pl.col("priced_mwh"))
        .alias("price_received"),
        mean.alias("mw"),
        pl.when(pl.col("capacity_mw") > 0).then(mean / pl.col("capacity_mw")).alias("utilisation"),
        pl.lit(want, pl.Int64).alias("expected"),
        (pl.col("intervals") >= want).alias("complete"),
    )
    return (
        frame.select(list(REVENUE_BY_UNIT_SCHEMA))
        .cast(pl.Schema(REVENUE_BY_UNIT_SCHEMA))
        .sort("region", "fuel", "station_name", "duid")
    )


def utilisation_by_fuel(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    by_region: bool = False,
) -> pl.DataFrame:
    """Per fuel (and region with `by_region`) over (start, end]: mean MW (time-weighted over
    the intervals there are), energy, registered capacity of the units of that fuel that
    report SCADA in the range (the registry's ``capacity_mw``; ``units`` counts them) and
    utilisation = mean MW ÷ capacity. Rooftop PV is left out (it has no registered capacity).
    ``intervals`` is the 5-minute values the mean stands on (per interval, the fewest of any
    unit), ``expected`` the 5-minute intervals of the range up to the newest SCADA."""
    chosen = policy.choose(start, end)
    answer = _generation.generation(
        engine, policy, start, end, regions=regions, resolution=chosen, rooftop=False
    )
    keys = ["region", "fuel"] if by_region else ["fuel"]
    stack = _generation.by_fuel(answer, by_region=by_region)
    means = stack.group_by(keys).agg(
        ((pl.col("mw") * pl.col("minutes")).sum() / pl.col("minutes").sum()).alias("mw"),
        pl.col("mwh").sum(),
        pl.col("intervals").sum(),
    )
    params: dict[str, Any] = {"regions": list(regions)}
    if chosen is Resolution.DAILY:
        first, last = day_range(start, end)
        files = engine.files(DAILY, *window(start, end))
        params |= {"files": files, "first": first, "last": last}
        capacity = engine.frame(_sql.CAPACITY_DAILY, params)
    else:
        params |= {
            "files5": engine.files("scada5", start, end),
            "files30": engine.files("scada30", start, end),
            "start": start,
            "end": end,
        }
        capacity = engine.frame(_sql.CAPACITY_RECENT, params)
    capacity = capacity.group_by(keys).agg(pl.col("capacity_mw").sum(), pl.col("units").sum())
    want = _expected_range(engine, start, end)
    frame = means.join(capacity, on=keys, how="left").with_columns(
        pl.when(pl.col("capacity_mw") > 0)
        .then(pl.col("mw") / pl.col("capacity_mw"))
        .alias("utilisation"),
        pl.col("units").fill_null(0),
        pl.lit(want, pl.Int64).alias("expected"),
        (pl.col("intervals") >= want).alias("complete"),
    )
    schema = {k: v for k, v in UTILISATION_SCHEMA.items() if by_region or k != "region"}
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select(list(schema)).cast(pl.Schema(schema)).sort(keys)
