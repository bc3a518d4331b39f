"""Price answers for the dashboard: the market now (price, status, recent averages) and price
analytics over a range (time-of-day profile, duration curve, distribution, counts).

Prices are the pricing run's (INTERVENTION = 0). The analytics read every 5-minute price of
the range and, for half-hours with no 5-minute price at all, the 30-minute mean, each weighted
by its length: a 30-minute row counts six times a 5-minute one (a half-hour mean can hide a
5-minute spike; those rows say so with ``minutes`` 30 in `all_prices`). Completeness as in
`price_stats`: ``intervals`` is how many 5-minute prices an answer stands on (a merged
half-hour its stored count, 6 when whole), ``expected`` the 5-minute intervals of the range up
to the newest price in the store (the live edge is not a gap), ``complete`` ``intervals >=
expected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from nemstream_market import MARKET_FLOOR_PRICE, MARKET_PRICE_CAPS, market_price_cap, naive_nem
from nemstream_query import _sql
from nemstream_query._answer import FIVE_MINUTES
from nemstream_query._engine import Engine
from nemstream_query._generation import newest
from nemstream_query._resolution import align_down, expected

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
STEP = timedelta(minutes=FIVE_MINUTES)

PRICE_NOW_SCHEMA = {
    "region": pl.String(),
    "interval": pl.Datetime("us"),
    "rrp": pl.Float64(),
    "previous_rrp": pl.Float64(),
    "change": pl.Float64(),
    "avg_1h": pl.Float64(),
    "avg_24h": pl.Float64(),
    "intervals_1h": pl.Int64(),
    "intervals_24h": pl.Int64(),
    "complete": pl.Boolean(),
    "price_status": pl.String(),
    "apcflag": pl.Int64(),
    "marketsuspendedflag": pl.Int64(),
    "status": pl.String(),
    "cap": pl.Float64(),
}
"""Columns of `price_now`."""

STATUSES = ("suspended", "administered", "at_cap", "at_floor", "not_firm", "firm")
"""A price's status, strongest first (`status`)."""

RECENT_SCHEMA = {"interval": pl.Datetime("us"), "region": pl.String(), "rrp": pl.Float64()}
ALL_PRICES_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "rrp": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
}
_COMPLETENESS = {"intervals": pl.Int64(), "expected": pl.Int64(), "complete": pl.Boolean()}
PROFILE_SCHEMA = {
    "region": pl.String(),
    "time_of_day": pl.String(),
    "rrp": pl.Float64(),
    **_COMPLETENESS,
}
DURATION_SCHEMA = {
    "region": pl.String(),
    "share_of_time": pl.Float64(),
    "rrp": pl.Float64(),
    **_COMPLETENESS,
}
DISTRIBUTION_SCHEMA = {
    "region": pl.String(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "count": pl.Int64(),
    "share": pl.Float64(),
}
COUNTS_SCHEMA = {
    "region": pl.String(),
    "negative": pl.Int64(),
    "at_least_300": pl.Int64(),
    "at_least_1000": pl.Int64(),
    "at_least_10000": pl.Int64(),
    **_COMPLETENESS,
}

PRICE_BINS: tuple[float, ...] = (
    MARKET_FLOOR_PRICE,
    -300.0,
    -100.0,
    -50.0,
    0.0,
    25.0,
    50.0,
    75.0,
    100.0,
    150.0,
    200.0,
    300.0,
    500.0,
    1_000.0,
    5_000.0,
    10_000.0,
)
"""Lower edges ($/MWh) of `price_distribution`'s default bins; the last bin runs to the market
price cap (the highest of the range's financial years)."""


def cap_of(intervals: pl.Series) -> pl.Series:
    """The market price cap of each interval's financial year (null where unknown)."""
    caps = {at: market_price_cap(at) for at in intervals.unique().to_list() if at is not None}
    return intervals.replace_strict(caps, default=None, return_dtype=pl.Float64).alias("cap")


def status() -> pl.Expr:
    """A price's status, in precedence order: ``suspended`` (market suspended), ``administered``
    (administered price cap applied), ``at_cap`` (RRP at or above the market price cap of its
    financial year), ``at_floor`` (at the market floor price), ``not_firm`` (a price status
    other than FIRM), else ``firm``. Needs rrp, cap, apcflag, marketsuspendedflag,
    price_status."""
    state = pl.col("price_status").str.strip_chars().str.to_uppercase()
    return (
        pl.when(pl.col("marketsuspendedflag") == 1)
        .then(pl.lit("suspended"))
        .when(pl.col("apcflag") == 1)
        .then(pl.lit("administered"))
        .when(pl.col("cap").is_not_null() & (pl.col("rrp") >= pl.col("cap")))
        .then(pl.lit("at_cap"))
        .when(pl.col("rrp") <= MARKET_FLOOR_PRICE)
        .then(pl.lit("at_floor"))
        .when(state.is_not_null() & (state != "FIRM"))
        .then(pl.lit("not_firm"))
        .otherwise(pl.lit("firm"))
        .alias("status")
    )


def _edge(engine: Engine, end: datetime | None) -> datetime | None:
    """The newest 5-minute price interval at or before `end` (default: the newest stored)."""
    stored = engine.latest("prices5")
    if stored is None:
        return None
    edge = stored if end is None else min(naive_nem(end), stored)
    return align_down(edge, FIVE_MINUTES)


def price_now(
    engine: Engine, end: datetime | None = None, *, regions: Sequence[str] = ()
) -> pl.DataFrame:
    """One row per region for its newest interval at or before `end`: the price, the one
    before, time-weighted means over the hour (12 intervals) and the day (288) ending there
    with how many prices each stands on (``complete``: all 288), and the price's status."""
    edge = _edge(engine, end)
    if edge is None:
        return pl.DataFrame(schema=PRICE_NOW_SCHEMA)
    rows = engine.frame(
        _sql.PRICE_NOW,
        {
            # the empty stand-in has every column, so parts written before the status flags
            # read them as null even when no part in range has them
            "files": engine.files("prices5", edge - DAY, edge) + engine.empty("prices5"),
            "start": edge - DAY,
            "end": edge,
            "regions": list(regions),
        },
    )
    if rows.is_empty():
        return pl.DataFrame(schema=PRICE_NOW_SCHEMA)
    at = pl.col("interval") == pl.col("at")
    hour = pl.col("interval") > pl.col("at") - HOUR
    day = pl.col("interval") > pl.col("at") - DAY
    frame = (
        rows.with_columns(pl.col("interval").max().over("region").alias("at"))
        .group_by("region")
        .agg(
            pl.col("at").first().alias("interval"),
            pl.col("rrp").filter(at).first(),
            pl.col("rrp")
            .filter(pl.col("interval") == pl.col("at") - STEP)
            .first()
            .alias("previous_rrp"),
            pl.col("rrp").filter(hour).mean().alias("avg_1h"),
            pl.col("rrp").filter(day).mean().alias("avg_24h"),
            hour.sum().cast(pl.Int64).alias("intervals_1h"),
            day.sum().cast(pl.Int64).alias("intervals_24h"),
            pl.col("price_status").filter(at).first(),
            pl.col("apcflag").filter(at).first(),
            pl.col("marketsuspendedflag").filter(at).first(),
        )
    )
    frame = frame.with_columns(
        (pl.col("rrp") - pl.col("previous_rrp")).alias("change"),
        (pl.col("intervals_24h") >= DAY // STEP).alias("complete"),
        cap_of(frame["interval"]),
    ).with_columns(status())
    return frame.select(list(PRICE_NOW_SCHEMA)).cast(pl.Schema(PRICE_NOW_SCHEMA)).sort("region")


def recent_prices(
    engine: Engine, end: datetime | None = None, *, count: int = 5, regions: Sequence[str] = ()
) -> pl.DataFrame:
    """The last `count` 5-minute prices of each region at or before `end` (looking back at
    most `count` intervals and an hour more): interval, region, rrp."""
    edge = _edge(engine, end)
    if edge is None or count < 1:
        return pl.DataFrame(schema=RECENT_SCHEMA)
    start = edge - STEP * count - HOUR
    rows = engine.frame(
        _sql.PRICES5,
        {
            "files": engine.files("prices5", start, edge),
            "start": start,
            "end": edge,
            "regions": list(regions),
        },
    )
    return (
        rows.sort("region", "interval")
        .group_by("region", maintain_order=True)
        .tail(count)
        .select(list(RECENT_SCHEMA))
        .cast(pl.Schema(RECENT_SCHEMA))
    )


def all_prices(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = ()
) -> tuple[pl.DataFrame, int]:
    """Every price of (start, end] to weigh by time (see the module), and the 5-minute
    intervals the range expects up to the newest price."""
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "regions": list(regions),
        "files5": engine.files("prices5", start, end),
        "files30": engine.files("prices30", start, end),
    }
    frame = engine.frame(_sql.ALL_PRICES, params).cast(pl.Schema(ALL_PRICES_SCHEMA))
    edge = newest(engine, "prices5", "prices30")
    want = 0
    if edge is not None:
        want = len(expected(start, align_down(min(end, edge), FIVE_MINUTES), FIVE_MINUTES))
    return frame, want


def _completeness(frame: pl.DataFrame, want: int) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("intervals").cast(pl.Int64),
        pl.lit(want, pl.Int64).alias("expected"),
        (pl.col("intervals") >= want).alias("complete"),
    )


def _time_of_day(moment: pl.Expr, minutes: int) -> pl.Expr:
    """ "HH:MM" of the `minutes`-slot of the day an interval ending at `moment` falls in."""
    return (
        ((moment - STEP).dt.truncate(f"{minutes}m") + timedelta(minutes=minutes))
        .dt.strftime("%H:%M")
        .alias("time_of_day")
    )


def _day_order(column: str = "time_of_day") -> pl.Expr:
    """Sort key putting the slot ending at midnight ("00:00") last, as the day's end."""
    return pl.when(pl.col(column) == "00:00").then(pl.lit("24:00")).otherwise(pl.col(column))


def price_profile(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    minutes: int = 30,
    read: tuple[pl.DataFrame, int] | None = None,
) -> pl.DataFrame:
    """Mean RRP by time of day per region (slots of `minutes`, named by their end, "HH:MM"),
    weighted by time. A half-hour mean stands for each of its slots when slots are shorter;
    its count is shared among them. ``expected`` is per slot: the 5-minute intervals of that
    time of day in the range up to the newest price."""
    if minutes % FIVE_MINUTES or 1440 % minutes:
        raise ValueError(f"slots of {minutes} minutes do not fit the 5-minute grid of a day")
    frame, _ = read or all_prices(engine, start, end, regions=regions)
    if frame.is_empty():
        return pl.DataFrame(schema=PROFILE_SCHEMA)
    pieces = pl.max_horizontal(pl.col("minutes") // minutes, pl.lit(1, pl.Int64))
    slots = (
        frame.with_columns(pieces.alias("pieces"))
        .with_columns(pl.int_ranges(0, pl.col("pieces")).alias("k"))
        .explode("k")
        .with_columns(
            (pl.col("interval") - pl.duration(minutes=pl.col("k") * minutes)).alias("slot"),
            (pl.col("minutes") / pl.col("pieces")).alias("weight"),
        )
        .with_columns(_time_of_day(pl.col("slot"), minutes))
    )
    profile = slots.group_by("region", "time_of_day").agg(
        ((pl.col("rrp") * pl.col("weight")).sum() / pl.col("weight").sum()).alias("rrp"),
        (pl.col("intervals") / pl.col("pieces")).sum().round().cast(pl.Int64).alias("intervals"),
    )
    edge = newest(engine, "prices5", "prices30")
    grid = expected(start, align_down(min(end, edge or end), FIVE_MINUTES), FIVE_MINUTES)
    want = (
        pl.DataFrame({"interval": grid})
        .select(_time_of_day(pl.col("interval"), minutes))
        .group_by("time_of_day")
        .agg(pl.len().cast(pl.Int64).alias("expected"))
    )
    return (
        profile.join(want, on="time_of_day", how="left")
        .with_columns(
            pl.col("expected").fill_null(0),
            (pl.col("intervals") >= pl.col("expected").fill_null(0)).alias("complete"),
        )
        .sort("region", _day_order())
        .select(list(PROFILE_SCHEMA))
    )


def price_duration(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    points: int = 200,
    read: tuple[pl.DataFrame, int] | None = None,
) -> pl.DataFrame:
    """The price duration curve per region, sampled at `points` evenly spaced shares of time
    from 0 (the highest price) to 1 (the lowest): ``rrp`` is the price met or exceeded for
    ``share_of_time`` of the range, weighted by time."""
    if points < 2:
        raise ValueError("a duration curve needs at least 2 points")
    frame, want = read or all_prices(engine, start, end, regions=regions)
    if frame.is_empty():
        return pl.DataFrame(schema=DURATION_SCHEMA)
    shares = np.linspace(0.0, 1.0, points)
    parts = []
    for (region,), rows in (
        frame.sort("rrp", descending=True)
        .partition_by("region", as_dict=True, maintain_order=True)
        .items()
    ):
        weights = rows["minutes"].to_numpy().astype(float)
        cumulative = np.cumsum(weights) / weights.sum()
        index = np.minimum(np.searchsorted(cumulative, shares, side="left"), rows.height - 1)
        parts.append(
            pl.DataFrame(
                {
                    "region": [str(region)] * points,
                    "share_of_time": shares,
                    "rrp": rows["rrp"].to_numpy()[index],
                    "intervals": [int(rows["intervals"].sum())] * points,
                }
            )
        )
    curve = _completeness(pl.concat(parts), want)
    return curve.sort("region", "share_of_time").select(list(DURATION_SCHEMA))


def _bins(start: datetime, end: datetime, bins: Sequence[float] | None) -> list[float]:
    """Bin edges: `bins` (ascending, at least two), or `PRICE_BINS` up to the market price cap
    (the highest cap of the range's financial years, else the highest known)."""
    if bins is not None:
        edges = [float(b) for b in bins]
        if len(edges) < 2 or any(b >= a for a, b in zip(edges[1:], edges, strict=False)):
            raise ValueError("bins must be at least two ascending edges")
        return edges
    caps = [c for c in (market_price_cap(start + STEP), market_price_cap(end)) if c is not None]
    return [*PRICE_BINS, max(caps) if caps else max(MARKET_PRICE_CAPS.values())]


def price_distribution(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    bins: Sequence[float] | None = None,
    read: tuple[pl.DataFrame, int] | None = None,
) -> pl.DataFrame:
    """Histogram of prices per region over fixed $/MWh bins (default: the floor, −300, −100,
    −50, 0, 25 ... 10,000, the cap): ``low`` ≤ price < ``high`` (the last bin includes its
    high; prices beyond the edges go to the end bins); ``count`` in 5-minute intervals of time
    (a half-hour counts 6), ``share`` of the region's time. Every bin is listed, empty or
    not."""
    edges = _bins(start, end, bins)
    frame, _ = read or all_prices(engine, start, end, regions=regions)
    if frame.is_empty():
        return pl.DataFrame(schema=DISTRIBUTION_SCHEMA)
    index = np.searchsorted(np.array(edges), frame["rrp"].to_numpy(), side="right") - 1
    binned = frame.with_columns(
        pl.Series("bin", np.clip(index, 0, len(edges) - 2), dtype=pl.Int64),
        (pl.col("minutes") // FIVE_MINUTES).alias("count"),
    )
    counts = binned.group_by("region", "bin").agg(pl.col("count").sum())
    grid = pl.DataFrame(
        {"bin": range(len(edges) - 1), "low": edges[:-1], "high": edges[1:]},
        schema={"bin": pl.Int64, "low": pl.Float64, "high": pl.Float64},
    )
    regions_seen = counts.select("region").unique()
    return (
        regions_seen.join(grid, how="cross")
        .join(counts, on=["region", "bin"], how="left")
        .with_columns(pl.col("count").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("count") / pl.col("count").sum().over("region")).alias("share"))
        .sort("region", "bin")
        .select(list(DISTRIBUTION_SCHEMA))
    )


def price_counts(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    read: tuple[pl.DataFrame, int] | None = None,
) -> pl.DataFrame:
    """Per region, the time at negative prices and at ≥ 300, ≥ 1,000 and ≥ 10,000 $/MWh, in
    5-minute intervals (a half-hour mean counts 6), with ``intervals``, ``expected`` and
    ``complete``."""
    frame, want = read or all_prices(engine, start, end, regions=regions)
    if frame.is_empty():
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    weight = pl.col("minutes") // FIVE_MINUTES

    def at(condition: pl.Expr, name: str) -> pl.Expr:
        return weight.filter(condition).sum().cast(pl.Int64).alias(name)

    counts = frame.group_by("region").agg(
        at(pl.col("rrp") < 0, "negative"),
        at(pl.col("rrp") >= 300, "at_least_300"),
        at(pl.col("rrp") >= 1_000, "at_least_1000"),
        at(pl.col("rrp") >= 10_000, "at_least_10000"),
        pl.col("intervals").sum(),
    )
    return _completeness(counts, want).sort("region").select(list(COUNTS_SCHEMA))


@dataclass(frozen=True, slots=True)
class PriceAnalytics:
    """The four price analytics of one range, from one read of its prices."""

    profile: pl.DataFrame
    duration: pl.DataFrame
    distribution: pl.DataFrame
    counts: pl.DataFrame


def price_analytics(
    engine: Engine, start: datetime, end: datetime, *, regions: Sequence[str] = ()
) -> PriceAnalytics:
    """`price_profile`, `price_duration`, `price_distribution` and `price_counts` with their
    defaults, reading the range's prices once instead of four times (a page shows all four)."""
    read = all_prices(engine, start, end, regions=regions)
    return PriceAnalytics(
        price_profile(engine, start, end, regions=regions, read=read),
        price_duration(engine, start, end, regions=regions, read=read),
        price_distribution(engine, start, end, regions=regions, read=read),
        price_counts(engine, start, end, regions=regions, read=read),
    )
