"""Generation by fuel and region, renewable share and station revenue.

Generation is net MW per fuel (negative SCADA — charging, pumping, auxiliary load — is kept and
nets off), rooftop PV added as fuel ``rooftop_solar`` from the region totals (never the
sub-regions). Each row says the minutes it spans, so energy is ``mw × minutes / 60`` MWh
whatever mix of resolutions filled the range.

Each row also says how many 5-minute values stand behind it (``intervals``) and whether that is
every one its minutes hold (``complete``, ``intervals >= minutes / 5``). A row sums units, so
its count is the *fewest* any unit in it had: 1 at 5 minutes; for a half-hour the smallest
count the aggregator stored with a unit's mean (or the smallest number of 5-minute values
averaged when the half-hour is made from them), 6 when every unit had all six; for a trading
day the smallest number of 5-minute intervals a unit has in the daily rollup (a half-hour
counted as six: the rollup does not keep the half-hours' own counts), of 288. Rooftop PV is
AEMO's half-hourly estimate, not a mean of 5-minute values: a half-hour is 6 of 6 (1 of 1 for
its 5-minute shape), a day the half-hours it has × 6, of 288.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from nemstream_query import _sql
from nemstream_query._answer import FIVE_MINUTES, Answer, complete, fill_ranges, with_complete
from nemstream_query._engine import Engine
from nemstream_query._resolution import (
    Policy,
    Resolution,
    align_down,
    expected,
)
from nemstream_query._rooftop import five_minute
from nemstream_store import DAILY, DAILY_ROOFTOP

ROOFTOP = "rooftop_solar"
RENEWABLE = frozenset({"wind", "solar", "hydro", "biomass", ROOFTOP})
"""Fuels counted as renewable. Batteries are storage, counted neither way."""
STORAGE = frozenset({"battery"})

GENERATION_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "fuel": pl.String(),
    "mw": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of generation rows (`generation`): see the module for ``intervals`` and
``complete``."""


def day_range(start: datetime, end: datetime) -> tuple[date, date]:
    """Trading days (interval-start dates) whose intervals fall in (start, end]."""
    return (start + timedelta(microseconds=1)).date(), (end - timedelta(microseconds=1)).date()


def newest(engine: Engine, *tables: str) -> datetime | None:
    """The newest interval any of the tables holds."""
    found = [t for t in (engine.latest(name) for name in tables) if t is not None]
    return max(found) if found else None


def _shape(frame: pl.DataFrame, minutes: int) -> pl.DataFrame:
    """Rows of one length; rows without a count stand for their whole length."""
    count = (
        pl.col("intervals").cast(pl.Int64)
        if "intervals" in frame.columns
        else pl.lit(minutes // FIVE_MINUTES, pl.Int64).alias("intervals")
    )
    shaped = frame.with_columns(pl.lit(minutes, pl.Int64).alias("minutes"), count)
    return with_complete(shaped).select(list(GENERATION_SCHEMA))


def _rooftop(
    engine: Engine, params: dict[str, Any], resolution: Resolution, start: datetime, end: datetime
) -> pl.DataFrame:
    margin = timedelta(hours=1) if resolution is Resolution.FIVE else timedelta(0)
    half = engine.frame(
        _sql.ROOFTOP,
        {
            **params,
            "files": engine.files("rooftop", start - margin, end + margin),
            "start": start - margin,
            "end": end + margin,
        },
    )
    if resolution is Resolution.THIRTY or half.is_empty():
        return _shape(half.with_columns(pl.lit(ROOFTOP).alias("fuel")), 30)
    parts = []
    for (region,), rows in half.partition_by("region", as_dict=True).items():
        series = five_minute(
            rows.select(pl.col("interval").alias("interval_datetime"), "mw").rename({"mw": "power"})
        )
        parts.append(
            series.select(
                pl.col("interval_datetime").alias("interval"),
                pl.lit(region).alias("region"),
                pl.lit(ROOFTOP).alias("fuel"),
                pl.col("power").alias("mw"),
            )
        )
    five = pl.concat(parts).filter(pl.col("interval").is_between(start, end, closed="right"))
    return _shape(five, 5)


def _daily(
    engine: Engine, params: dict[str, Any], start: datetime, end: datetime, rooftop: bool
) -> Answer:
    first, last = day_range(start, end)
    window = (
        datetime.combine(first, datetime.min.time()),
        datetime.combine(last, datetime.min.time()),
    )
    daily = engine.frame(
        _sql.GENERATION_DAILY,
        {
            "regions": params["regions"],
            "files": engine.files(DAILY, *window),
            "first": first,
            "last": last,
        },
    )
    frames = [daily]
    if rooftop:
        roof = engine.frame(
            _sql.ROOFTOP_DAILY,
            {
                "regions": params["regions"],
                "files": engine.files(DAILY_ROOFTOP, *window),
                "first": first,
                "last": last,
            },
        )
        frames.append(roof.with_columns(pl.lit(ROOFTOP).alias("fuel")))
    joined = pl.concat(
        [
            f.select("date", "region", "fuel", "mwh", pl.col("intervals").cast(pl.Int64))
            for f in frames
        ]
    )
    frame = joined.select(
        (pl.col("date").cast(pl.Datetime("us")) + timedelta(days=1)).alias("interval"),
        "region",
        "fuel",
        (pl.col("mwh") / 24).alias("mw"),
        pl.lit(Resolution.DAILY.minutes, pl.Int64).alias("minutes"),
        "intervals",
    ).pipe(with_complete)
    edge = newest(engine, DAILY)
    days = daily["date"].n_unique()
    want = 0 if edge is None else max(0, (min(last, edge.date()) - first).days + 1)
    return Answer(frame, Resolution.DAILY, 1.0 if want == 0 else min(1.0, days / want), 0, (DAILY,))


def generation(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
    rooftop: bool = True,
) -> Answer:
    """MW by interval, region and fuel over (start, end], at the range's resolution:
    interval, region, fuel, mw, minutes, intervals, complete (see the module for the count)."""
    chosen = resolution or policy.choose(start, end)
    params: dict[str, Any] = {"start": start, "end": end, "regions": list(regions)}
    if chosen is Resolution.DAILY:
        return _daily(engine, params, start, end, rooftop)
    primary, other = ("scada5", "scada30") if chosen is Resolution.FIVE else ("scada30", "scada5")
    sql = _sql.GENERATION if chosen is Resolution.FIVE else _sql.GENERATION30
    frame = _shape(
        engine.frame(sql, {**params, "files": engine.files(primary, start, end)}),
        chosen.minutes,
    )
    done = complete(
        frame,
        chosen,
        start,
        end,
        newest(engine, primary, other),
        policy.threshold,
        (primary, other),
        lambda halves: _fill(engine, params, chosen, halves),
    )
    frame, sources = done.frame, done.sources
    if rooftop:
        frame = pl.concat([frame, _rooftop(engine, params, chosen, start, end)])
        sources.append("rooftop")
    return Answer(
        frame.sort("interval", "region", "fuel"),
        chosen,
        done.coverage,
        done.filled,
        tuple(sources),
    )


def _fill(
    engine: Engine, params: dict[str, Any], chosen: Resolution, halves: pl.Series
) -> pl.DataFrame:
    """Half-hours from the other resolution, exactly those missing."""
    parts = []
    for a, b in fill_ranges(halves):
        if chosen is Resolution.FIVE:  # 30-minute means stand for whole missing half-hours
            rows = engine.frame(
                _sql.GENERATION30,
                {**params, "files": engine.files("scada30", a, b), "start": a, "end": b},
            )
        else:  # 5-minute values averaged per unit into the missing half-hours
            rows = engine.frame(
                _sql.GENERATION_5_AS_30,
                {**params, "files": engine.files("scada5", a, b), "start": a, "end": b},
            )
        parts.append(rows)
    if not parts:
        return pl.DataFrame(schema=GENERATION_SCHEMA)
    extra = pl.concat(parts).filter(pl.col("interval").is_in(halves.implode()))
    return _shape(extra, 30)


def by_fuel(answer: Answer, *, by_region: bool = False) -> pl.DataFrame:
    """Sum regions away (unless `by_region`) and add energy: interval, [region,] fuel, mw,
    minutes, mwh, intervals, complete. ``intervals`` is the fewest 5-minute values any unit
    summed into the row had (see the module); ``complete`` whether every part was whole."""
    keys = ["interval", "region", "fuel"] if by_region else ["interval", "fuel"]
    return (
        answer.frame.group_by(keys)
        .agg(
            pl.col("mw").sum(),
            pl.col("minutes").first(),
            pl.col("intervals").min(),
            pl.col("complete").all(),
        )
        .select(
            *keys,
            "mw",
            "minutes",
            (pl.col("mw") * pl.col("minutes") / 60).alias("mwh"),
            "intervals",
            "complete",
        )
        .sort(keys)
    )


def renewable_share(answer: Answer, *, by_region: bool = False) -> pl.DataFrame:
    """Renewable share of generation per interval: renewable MW over all generating MW.

    Fuels' net MW below zero (pumping, charging) count as zero; batteries are left out of both
    sides, since storage only moves energy others generated. ``intervals`` is the fewest
    5-minute values behind any fuel in the interval, ``complete`` whether all were whole."""
    keys = ["interval", "region"] if by_region else ["interval"]
    frame = by_fuel(answer, by_region=by_region).filter(~pl.col("fuel").is_in(list(STORAGE)))
    positive = pl.col("mw").clip(lower_bound=0)
    return (
        frame.group_by(keys)
        .agg(
            positive.filter(pl.col("fuel").is_in(list(RENEWABLE))).sum().alias("renewable_mw"),
            positive.sum().alias("total_mw"),
            pl.col("minutes").first(),
            pl.col("intervals").min(),
            pl.col("complete").all(),
        )
        .select(
            *keys,
            "renewable_mw",
            "total_mw",
            "minutes",
            (pl.col("renewable_mw") / pl.col("total_mw")).alias("share"),
            (pl.col("renewable_mw") * pl.col("minutes") / 60).alias("renewable_mwh"),
            (pl.col("total_mw") * pl.col("minutes") / 60).alias("total_mwh"),
            "intervals",
            "complete",
        )
        .sort(keys)
    )


def revenue_by_station(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = (), limit: int = 50
) -> pl.DataFrame:
    """Energy (MWh) and market revenue ($) per station over the trading days of (start, end].

    Completeness, after the money: ``intervals`` is the fewest 5-minute intervals of SCADA any
    of the station's units has in the daily rollup over those days (a half-hour counted as
    six); ``expected`` the 5-minute intervals of those trading days up to the newest SCADA in
    the store; ``complete`` is ``intervals >= expected`` (a day with gaps, or a unit missing
    days, makes energy, revenue and the price received partial)."""
    first, last = day_range(start, end)
    window = (
        datetime.combine(first, datetime.min.time()),
        datetime.combine(last, datetime.min.time()),
    )
    edge = newest(engine, "scada5", "scada30")
    want = 0
    if edge is not None:
        days_end = min(window[1] + timedelta(days=1), edge)
        want = len(expected(window[0], align_down(days_end, FIVE_MINUTES), FIVE_MINUTES))
    stations = engine.frame(
        _sql.REVENUE_BY_STATION,
        {
            "files": engine.files(DAILY, *window),
            "first": first,
            "last": last,
            "regions": list(regions),
            "limit": limit,
        },
    )
    return stations.with_columns(
        pl.col("intervals").cast(pl.Int64),
        pl.lit(want, pl.Int64).alias("expected"),
        (pl.col("intervals") >= want).fill_null(False).alias("complete"),
    )
