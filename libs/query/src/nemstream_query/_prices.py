"""Regional prices and interconnector flows.

Prices are the pricing run's (INTERVENTION = 0). A 5-minute series falls back to 30-minute
means for half-hours with no 5-minute price; a 30-minute series to the half-hourly mean of the
5-minute prices where the 30-minute table has none; a daily series is the time-weighted mean of
the half-hours. Statistics use the finest prices there are, each weighted by its length.

Every row says how many 5-minute pricing-run prices it stands on (``intervals``) and whether
that is all its length holds (``complete``): see `price_series`, `price_stats` and
`interconnector_flows` for what the count is per answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from nemstream_query import _sql
from nemstream_query._answer import FIVE_MINUTES, Answer, complete, fill_ranges, with_complete
from nemstream_query._engine import Engine
from nemstream_query._generation import newest
from nemstream_query._resolution import (
    HALF_HOUR,
    Policy,
    Resolution,
    align_down,
    expected,
)

PRICE_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "rrp": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of a price series: ``intervals`` the 5-minute prices behind the row, ``complete``
whether that is every one its ``minutes`` hold."""


def _shape(frame: pl.DataFrame, minutes: int) -> pl.DataFrame:
    shaped = frame.with_columns(
        pl.lit(minutes, pl.Int64).alias("minutes"), pl.col("intervals").cast(pl.Int64)
    )
    return with_complete(shaped).select(list(PRICE_SCHEMA))


def price_series(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> Answer:
    """RRP ($/MWh) by interval and region over (start, end]: interval, region, rrp, minutes,
    intervals, complete.

    ``intervals`` is how many 5-minute pricing-run prices the row's value stands on: 1 for a
    5-minute row; for a half-hour, the count the aggregator stored with its mean (``prices30``)
    or the count of 5-minute prices averaged when the half-hour is made from them (6 when
    whole); for a trading day, the sum over its half-hours, of 288. ``complete`` is
    ``intervals >= minutes / 5``: a half-hour averaged from 4 prices is 4, not complete (its
    mean stands in for the whole half-hour all the same, in the daily mean too)."""
    chosen = resolution or policy.choose(start, end)
    read = Resolution.THIRTY if chosen is Resolution.DAILY else chosen
    params: dict[str, Any] = {"start": start, "end": end, "regions": list(regions)}
    primary, other = ("prices5", "prices30") if read is Resolution.FIVE else ("prices30", "prices5")
    sql = _sql.PRICES5 if read is Resolution.FIVE else _sql.PRICES30
    frame = _shape(
        engine.frame(sql, {**params, "files": engine.files(primary, start, end)}), read.minutes
    )
    done = complete(
        frame,
        read,
        start,
        end,
        newest(engine, primary, other),
        policy.threshold,
        (primary, other),
        lambda halves: _fill(engine, params, read, halves),
    )
    frame = done.frame
    if chosen is Resolution.DAILY:
        frame = (
            frame.group_by(
                (pl.col("interval") - timedelta(minutes=1)).dt.date().alias("date"), "region"
            )
            .agg(
                ((pl.col("rrp") * pl.col("minutes")).sum() / pl.col("minutes").sum()).alias("rrp"),
                pl.col("intervals").sum(),
            )
            .select(
                (pl.col("date").cast(pl.Datetime("us")) + timedelta(days=1)).alias("interval"),
                "region",
                "rrp",
                pl.lit(Resolution.DAILY.minutes, pl.Int64).alias("minutes"),
                pl.col("intervals").cast(pl.Int64),
            )
            .pipe(with_complete)
        )
    return Answer(
        frame.sort("interval", "region"), chosen, done.coverage, done.filled, tuple(done.sources)
    )


def _fill(
    engine: Engine, params: dict[str, Any], read: Resolution, halves: pl.Series
) -> pl.DataFrame:
    parts = []
    for a, b in fill_ranges(halves):
        table, sql = (
            ("prices30", _sql.PRICES30)
            if read is Resolution.FIVE
            else ("prices5", _sql.PRICES5_AS_30)
        )
        parts.append(
            engine.frame(sql, {**params, "files": engine.files(table, a, b), "start": a, "end": b})
        )
    if not parts:
        return pl.DataFrame(schema=PRICE_SCHEMA)
    return _shape(pl.concat(parts).filter(pl.col("interval").is_in(halves.implode())), 30)


def price_stats(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = ()
) -> pl.DataFrame:
    """Per region over (start, end]: time-weighted mean, min, max, spread, quantiles, and the
    hours at negative, ≥ 300 and ≥ 1,000 $/MWh prices.

    Completeness: ``intervals`` is how many 5-minute pricing-run prices the statistics stand on
    (a 5-minute price counts 1, a half-hour merged in for a gap its stored count, 6 when
    whole); ``expected`` is the 5-minute intervals of the range up to the newest price in the
    store (the live edge is not a gap); ``complete`` is ``intervals >= expected``."""
    files5 = engine.files("prices5", start, end)
    params: dict[str, Any] = {"start": start, "end": end, "regions": list(regions)}
    sql = _sql.PRICE_STATS
    edge = newest(engine, "prices5", "prices30")
    want = 0
    if edge is not None:  # half-hours are merged in only where 5-minute prices are missing
        edge = align_down(min(end, edge), FIVE_MINUTES)
        want = len(expected(start, edge, FIVE_MINUTES))
        present = engine.frame(_sql.PRICES5_INTERVALS, {**params, "files": files5}).item()
        if present >= want:
            sql = _sql.PRICE_STATS_5
    if sql is _sql.PRICE_STATS:
        params["files30"] = engine.files("prices30", start, end)
    stats = engine.frame(sql, {**params, "files5": files5})
    if stats.is_empty():
        stats = stats.drop("q").with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("p05", "median", "p95")
        )
    else:
        quantiles = pl.col("q").list
        stats = (
            stats.with_columns(
                quantiles.get(0).alias("p05"),
                quantiles.get(1).alias("median"),
                quantiles.get(2).alias("p95"),
            )
            .drop("q")
            .sort("region")
        )
    return stats.select(  # the completeness columns last, after the statistics
        pl.exclude("intervals"),
        pl.col("intervals").cast(pl.Int64),
        pl.lit(want, pl.Int64).alias("expected"),
        (pl.col("intervals") >= want).fill_null(False).alias("complete"),
    )


def interconnector_flows(engine: Engine, policy: Policy, start: datetime, end: datetime) -> Answer:
    """Metered flow per interconnector; at 5 minutes with target flow and export/import limits.

    After the flow columns: ``minutes`` (the row's length), ``intervals`` (5-minute metered
    flows the value stands on: 1 at 5 minutes; the aggregator's count for a half-hour's mean,
    6 when whole; for a trading day the sum over its half-hours, of 288) and ``complete``
    (``intervals >= minutes / 5``)."""
    chosen = policy.choose(start, end)
    params = {"start": start, "end": end}
    if chosen is Resolution.FIVE:
        frame = engine.frame(
            _sql.INTERCONNECTOR5, {**params, "files": engine.files("interconnector5", start, end)}
        ).with_columns(
            pl.lit(chosen.minutes, pl.Int64).alias("minutes"),
            pl.lit(1, pl.Int64).alias("intervals"),
        )
        return Answer(
            with_complete(frame).sort("interval", "interconnectorid"),
            chosen,
            sources=("interconnector5",),
        )
    frame = engine.frame(
        _sql.INTERCONNECTOR30, {**params, "files": engine.files("interconnector30", start, end)}
    )
    if chosen is Resolution.DAILY:
        frame = (
            frame.group_by(
                (pl.col("interval") - HALF_HOUR).dt.date().alias("date"), "interconnectorid"
            )
            .agg(pl.col("meteredmwflow").mean(), pl.col("intervals").sum())
            .select(
                (pl.col("date").cast(pl.Datetime("us")) + timedelta(days=1)).alias("interval"),
                "interconnectorid",
                "meteredmwflow",
                pl.lit(Resolution.DAILY.minutes, pl.Int64).alias("minutes"),
                "intervals",
            )
        )
    else:
        frame = frame.select(
            "interval",
            "interconnectorid",
            "meteredmwflow",
            pl.lit(Resolution.THIRTY.minutes, pl.Int64).alias("minutes"),
            "intervals",
        )
    frame = with_complete(frame.with_columns(pl.col("intervals").cast(pl.Int64)))
    return Answer(frame.sort("interval", "interconnectorid"), chosen, sources=("interconnector30",))
