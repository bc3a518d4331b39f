"""Renewable share records: the highest share of renewable generation each region, and the NEM
as a whole, has had, overall and for one hour of the day.

The share is `renewable_share`'s: wind, solar, hydro, biomass and rooftop PV over all
generating MW including rooftop PV, each fuel's net MW below zero counted as zero, batteries on
neither side (for the NEM, fuels are summed over the regions first).

**"All-time" is the store's history**, at half-hour resolution: every half-hour of the
30-minute SCADA table, and half-hours made from 5-minute SCADA where that table has none. The
daily rollup keeps energy per day, not shares per interval, so history older than the store's
half-hourly and 5-minute SCADA is not searched; nor are 5-minute peaks (a 5-minute share can
exceed its half-hour's). A half-hour counts only when it is complete: every unit's value is a
mean of all six 5-minute values, and rooftop PV is there for the region (for the NEM, for every
region with generation in it) - a half-hour without rooftop PV would understate the share.

History does not change once a month is over, so each month's best half-hours per region and
hour of day are kept (`MonthMemo`) under the names of the parts that month is made of (parts
are never rewritten in place: a compaction or a correction gives new names). New data costs one
month's work, not the history's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta

import polars as pl

from nemstream_market import naive_nem
from nemstream_query import _sql
from nemstream_query._answer import Answer, with_complete
from nemstream_query._engine import Engine
from nemstream_query._generation import ROOFTOP, newest, renewable_share
from nemstream_query._regionsum import NEM
from nemstream_query._resolution import Resolution
from nemstream_store import Manifest

TABLES = ("scada5", "scada30", "rooftop")
"""Tables the records are read from."""

RECORDS_SCHEMA = {
    "region": pl.String(),
    "record_share": pl.Float64(),
    "record_interval": pl.Datetime("us"),
    "renewable_mw": pl.Float64(),
    "total_mw": pl.Float64(),
    "hour": pl.Int64(),
    "hour_record_share": pl.Float64(),
    "hour_record_interval": pl.Datetime("us"),
    "half_hours": pl.Int64(),
    "since": pl.Datetime("us"),
    "until": pl.Datetime("us"),
}
"""Columns of `renewable_records`: the record (``record_share``, 0-1, its half-hour
``record_interval`` and that half-hour's renewable and total MW), the record for ``hour`` of
the day (``hour_record_share``, ``hour_record_interval``; null when no complete half-hour of
that hour), and what was searched (``half_hours`` complete half-hours from ``since`` to
``until``)."""

_BEST_SCHEMA = {
    "region": pl.String(),
    "hour": pl.Int64(),
    "share": pl.Float64(),
    "interval": pl.Datetime("us"),
    "renewable_mw": pl.Float64(),
    "total_mw": pl.Float64(),
    "half_hours": pl.Int64(),
    "since": pl.Datetime("us"),
    "until": pl.Datetime("us"),
}

_ONE = timedelta(microseconds=1)


class MonthMemo:
    """Each month's best half-hours, keyed by the month and the parts it is made of (least
    recently used dropped beyond `size`); safe to share between threads."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pl.DataFrame | None:
        """The month's rows, if kept."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, rows: pl.DataFrame) -> None:
        """Keep a month's rows."""
        with self._lock:
            self._kept[key] = rows
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def hour_of(moment: pl.Expr) -> pl.Expr:
    """Hour of the day an interval ending at `moment` falls in (ending 14:05 or 14:30: 14)."""
    return (moment - _ONE).dt.hour().cast(pl.Int64)


def _months(engine: Engine) -> dict[str, dict[str, list[str]]]:
    """Part files per month and table, for months with SCADA."""
    months: dict[str, dict[str, list[str]]] = {}
    for table in TABLES:
        folder = engine.store_dir / table
        for part in Manifest.load(folder).parts:
            files = months.setdefault(part.month, {t: [] for t in TABLES})
            files[table].append(str(folder / part.file))
    return {m: f for m, f in months.items() if f["scada5"] or f["scada30"]}


def _window(month: str) -> tuple[datetime, datetime]:
    """Intervals ending in (start, end] of a month partition."""
    start = datetime.strptime(month, "%Y-%m")
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def _best(shares: pl.DataFrame) -> pl.DataFrame:
    """Per region and hour: the highest share (the earliest half-hour on a tie) and what was
    searched."""
    ranked = shares.sort("share", "interval", descending=[True, False])
    return ranked.group_by("region", "hour").agg(
        pl.col("share").first(),
        pl.col("interval").first(),
        pl.col("renewable_mw").first(),
        pl.col("total_mw").first(),
        pl.col("half_hours").sum(),
        pl.col("since").min(),
        pl.col("until").max(),
    )


def _month(engine: Engine, month: str, files: dict[str, list[str]]) -> pl.DataFrame:
    """The best complete half-hours of one month, per region (and NEM) and hour of day."""
    start, end = _window(month)
    window = {"start": start, "end": end}
    gen = engine.frame(
        _sql.RENEWABLE_HALF_HOURS,
        window
        | {
            "files5": files["scada5"] or engine.empty("scada5"),
            "files30": files["scada30"] or engine.empty("scada30"),
        },
    )
    roof = engine.frame(
        _sql.ROOFTOP, window | {"files": files["rooftop"] or engine.empty("rooftop"), "regions": []}
    ).with_columns(pl.lit(ROOFTOP).alias("fuel"), pl.lit(6, pl.Int64).alias("intervals"))
    rows = pl.concat(
        [
            gen.select("interval", "region", "fuel", "mw", pl.col("intervals").cast(pl.Int64)),
            roof.select("interval", "region", "fuel", "mw", "intervals"),
        ]
    ).with_columns(pl.lit(30, pl.Int64).alias("minutes"))
    answer = Answer(with_complete(rows), Resolution.THIRTY)
    generating = gen.filter(pl.col("region") != "unknown").select("interval", "region").unique()
    roofed = roof.select("interval", "region").unique()
    covered = generating.join(roofed, on=["interval", "region"], how="semi")
    by_region = renewable_share(answer, by_region=True).join(
        covered, on=["interval", "region"], how="semi"
    )
    uncovered = generating.join(roofed, on=["interval", "region"], how="anti")
    nem = (
        renewable_share(answer)
        .join(generating.select("interval").unique(), on="interval", how="semi")
        .join(uncovered.select("interval").unique(), on="interval", how="anti")
        .with_columns(pl.lit(NEM).alias("region"))
    )
    keep = ["interval", "region", "share", "renewable_mw", "total_mw"]
    shares = (
        pl.concat(
            [by_region.filter(pl.col("complete")), nem.filter(pl.col("complete"))], how="diagonal"
        )
        .filter(pl.col("total_mw") > 0)
        .select(keep)
        .with_columns(
            hour_of(pl.col("interval")).alias("hour"),
            pl.lit(1, pl.Int64).alias("half_hours"),
            pl.col("interval").alias("since"),
            pl.col("interval").alias("until"),
        )
    )
    if shares.is_empty():
        return pl.DataFrame(schema=_BEST_SCHEMA)
    return _best(shares).select(list(_BEST_SCHEMA)).cast(pl.Schema(_BEST_SCHEMA))


def renewable_records(
    engine: Engine, memo: MonthMemo, *, regions: Sequence[str] = (), at: datetime | None = None
) -> pl.DataFrame:
    """Per region (and ``NEM``): the highest renewable share of the store's history with its
    half-hour, and the highest for the hour of day of `at` (default: the newest SCADA
    interval). See the module for what counts."""
    parts = []
    for month, files in sorted(_months(engine).items()):
        key = (month, *(tuple(files[t]) for t in TABLES), engine.units_version)
        best = memo.get(key)
        if best is None:
            best = _month(engine, month, files)
            memo.put(key, best)
        parts.append(best)
    hours = pl.concat(parts) if parts else pl.DataFrame(schema=_BEST_SCHEMA)
    if hours.is_empty():
        return pl.DataFrame(schema=RECORDS_SCHEMA)
    by_hour = _best(hours)
    overall = (
        _best(by_hour.with_columns(pl.lit(0, pl.Int64).alias("hour")))
        .drop("hour")
        .rename({"share": "record_share", "interval": "record_interval"})
    )
    moment = at if at is not None else newest(engine, "scada5", "scada30")
    hour = (naive_nem(moment) - _ONE).hour if moment is not None else None
    of_hour = by_hour.filter(pl.col("hour") == hour).select(
        "region",
        pl.col("share").alias("hour_record_share"),
        pl.col("interval").alias("hour_record_interval"),
    )
    frame = overall.join(of_hour, on="region", how="left").with_columns(
        pl.lit(hour, pl.Int64).alias("hour")
    )
    if regions:
        frame = frame.filter(pl.col("region").is_in(list(regions)))
    return (
        frame.select(list(RECORDS_SCHEMA))
        .cast(pl.Schema(RECORDS_SCHEMA))
        .sort(pl.col("region") == NEM, "region")
    )
