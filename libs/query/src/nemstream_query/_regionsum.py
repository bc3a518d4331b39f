"""Regional series beside generation and prices: semi-scheduled curtailment (from `regionsum5`)
and rooftop PV for every region and sub-region (from `rooftop`).

**Curtailment** is, per 5-minute interval and region of the pricing run (INTERVENTION = 0),
semi-scheduled availability (UIGF) less cleared MW, for solar and for wind. Cleared above
availability (a negative difference) is not curtailment: each 5-minute value is clipped at 0
before any averaging. Longer ranges are the mean MW of those values per half-hour or trading
day (the Policy's resolution); ``intervals`` counts the 5-minute values behind a row, and
``complete`` whether that is all its length holds. Intervals before AEMO published the
semi-scheduled split (REGIONSUM before version 5) have no value.

**Rooftop PV by region** gives each REGIONID on its own row, sub-regions (QLDC, QLDN, QLDS,
TASN, TASS) flagged with their parent region: a sub-region re-counts panels its region already
counts, so it is never added into it.

**Net imports** are a region's NETINTERCHANGE negated (AEMO counts export as positive): the
layer a generation stack needs so that supply adds up to demand, exports below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from nemstream_market import ROOFTOP_SUBREGIONS
from nemstream_query import _sql
from nemstream_query._answer import FIVE_MINUTES, Answer, with_complete
from nemstream_query._engine import Engine
from nemstream_query._resolution import Policy, Resolution, align_down, expected

HALF_HOUR = timedelta(minutes=30)
DAY = timedelta(days=1)

NEM = "NEM"
"""The region name of a NEM-wide total."""

CURTAILMENT_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "solar_mw": pl.Float64(),
    "wind_mw": pl.Float64(),
    "total_mw": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of `curtailment`."""

ROOFTOP_SCHEMA = {
    "interval": pl.Datetime("us"),
    "regionid": pl.String(),
    "parent_region": pl.String(),
    "is_subregion": pl.Boolean(),
    "mw": pl.Float64(),
    "type": pl.String(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of `rooftop_by_region`."""


NET_IMPORTS_SCHEMA = {
    "interval": pl.Datetime("us"),
    "region": pl.String(),
    "mw": pl.Float64(),
    "minutes": pl.Int64(),
    "intervals": pl.Int64(),
    "complete": pl.Boolean(),
}
"""Columns of `net_imports`."""


def _total(*columns: str) -> pl.Expr:
    """The sum of the columns, null only when all are null."""
    present = pl.any_horizontal(*(pl.col(c).is_not_null() for c in columns))
    return pl.when(present).then(pl.sum_horizontal(*columns))


def curtailment(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> Answer:
    """Curtailed solar and wind MW per interval and region over (start, end]: interval,
    region, solar_mw, wind_mw, total_mw, minutes, intervals, complete; with ``NEM`` among
    `regions`, also the NEM's sum (``intervals``: the fewest of any region)."""
    chosen = resolution or policy.choose(start, end)
    nem = NEM in regions
    frame = engine.frame(
        _sql.CURTAILMENT,
        {
            "files": engine.files("regionsum5", start, end),
            "start": start,
            "end": end,
            "regions": [] if nem else list(regions),
            "minutes": chosen.minutes,
        },
    ).with_columns(
        _total("solar_mw", "wind_mw").alias("total_mw"),
        pl.lit(chosen.minutes, pl.Int64).alias("minutes"),
    )
    coverage = _coverage(engine, frame, start, end)
    if nem and not frame.is_empty():
        total = frame.group_by("interval").agg(
            pl.lit(NEM).alias("region"),
            *(
                pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
                for c in ("solar_mw", "wind_mw", "total_mw")
            ),
            pl.col("minutes").first(),
            pl.col("intervals").min(),
        )
        named = [r for r in regions if r != NEM]
        kept = frame.filter(pl.col("region").is_in(named)) if named else frame.clear()
        frame = pl.concat([kept, total.select(kept.columns)])
    frame = with_complete(frame.cast({"intervals": pl.Int64})).select(list(CURTAILMENT_SCHEMA))
    return Answer(
        frame.cast(pl.Schema(CURTAILMENT_SCHEMA)).sort("interval", "region"),
        chosen,
        coverage,
        0,
        ("regionsum5",),
    )


def rooftop_by_region(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    include_subregions: bool = True,
    regions: Sequence[str] = (),
    resolution: Resolution | None = None,
) -> pl.DataFrame:
    """Rooftop PV MW per REGIONID over (start, end], MEASUREMENT preferred over SATELLITE
    (``type`` says which): interval, regionid, parent_region, is_subregion, mw, type, minutes,
    intervals, complete. `regions` selects by parent region. AEMO's estimate is a half-hour's
    average, not a mean of 5-minute values: a half-hour row is 6 of 6. Where the range asks for
    days (the Policy), a row is a trading day's mean of its half-hours (``type`` the day's
    least certain: SATELLITE if any half-hour is), ``intervals`` 6 per half-hour found."""
    chosen = resolution or policy.choose(start, end)
    frame = engine.frame(
        _sql.ROOFTOP_BY_REGION,
        {
            "files": engine.files("rooftop", start, end),
            "start": start,
            "end": end,
            "subregions": list(ROOFTOP_SUBREGIONS),
        },
    ).with_columns(
        pl.col("regionid").replace(ROOFTOP_SUBREGIONS).alias("parent_region"),
        pl.lit(30, pl.Int64).alias("minutes"),
        pl.lit(6, pl.Int64).alias("intervals"),
    )
    if not include_subregions:
        frame = frame.filter(~pl.col("is_subregion"))
    if regions:
        frame = frame.filter(pl.col("parent_region").is_in(list(regions)))
    if chosen is Resolution.DAILY:
        frame = frame.group_by(
            (pl.col("interval") - HALF_HOUR).dt.truncate("1d") + DAY,
            "regionid",
            "parent_region",
            "is_subregion",
        ).agg(
            pl.col("mw").mean(),
            pl.col("type").max(),  # "SATELLITE" > "MEASUREMENT": the least certain
            pl.lit(1440, pl.Int64).alias("minutes"),
            pl.col("intervals").sum(),
        )
    return (
        with_complete(frame)
        .select(list(ROOFTOP_SCHEMA))
        .cast(pl.Schema(ROOFTOP_SCHEMA))
        .sort("interval", "regionid")
    )


def net_imports(
    engine: Engine,
    policy: Policy,
    start: datetime,
    end: datetime,
    *,
    regions: Sequence[str],
    resolution: Resolution | None = None,
) -> Answer:
    """Net imports (MW, exports negative) per region and interval over (start, end], pricing
    run: interval, region, mw, minutes, intervals, complete. The NEM has none (its
    interconnectors net to their losses), so ``NEM`` and an empty `regions` give no rows."""
    chosen = resolution or policy.choose(start, end)
    named = [r for r in regions if r != NEM]
    if not named:
        empty = pl.DataFrame(schema=NET_IMPORTS_SCHEMA)
        return Answer(empty, chosen, 1.0, 0, ("regionsum5",))
    frame = engine.frame(
        _sql.NET_IMPORTS,
        {
            "files": engine.files("regionsum5", start, end),
            "start": start,
            "end": end,
            "regions": named,
            "minutes": chosen.minutes,
        },
    ).with_columns(pl.lit(chosen.minutes, pl.Int64).alias("minutes"))
    coverage = _coverage(engine, frame, start, end)
    frame = with_complete(frame.cast({"intervals": pl.Int64})).select(list(NET_IMPORTS_SCHEMA))
    return Answer(
        frame.cast(pl.Schema(NET_IMPORTS_SCHEMA)).sort("interval", "region"),
        chosen,
        coverage,
        0,
        ("regionsum5",),
    )


def _coverage(engine: Engine, frame: pl.DataFrame, start: datetime, end: datetime) -> float:
    """Share of the stored 5-minute regionsum intervals in (start, end] that the best-covered
    region's rows stand for, so a partial range says so."""
    edge = engine.latest("regionsum5")
    if edge is None:
        return 1.0
    want = len(expected(start, align_down(min(end, edge), FIVE_MINUTES), FIVE_MINUTES))
    per_region = frame.group_by("region").agg(pl.col("intervals").sum())["intervals"]
    seen = int(per_region.max() or 0) if per_region.len() else 0  # type: ignore[arg-type]
    return 1.0 if want == 0 else min(1.0, seen / want)
