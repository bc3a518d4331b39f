"""Daily rollup per unit: energy (MWh) and revenue ($) for each trading day, so dashboards can
answer year and all-time questions from a few hundred thousand rows instead of tens of millions.

For every day and DUID: ``mwh = Σ MW × h`` and ``revenue = Σ MW × RRP × h`` with h = 5/60 for
5-minute SCADA priced at the 5-minute pricing-run RRP (INTERVENTION = 0) of the unit's region,
or h = 30/60 for 30-minute means priced at the 30-minute mean RRP on days without 5-minute data
(revenue is MW × RRP × hours, never MW × RRP). A trading day is the date the interval starts
on. When SCADA or prices change, the days they changed are recomputed (reading only the parts
that overlap those days) and the month's rollup part is replaced.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from nemstream_store._store import CLOSED_LEVEL, Store
from nemstream_store._tables import TABLES, scan_rows

DAILY = "daily_unit"
DAILY_SCHEMA = {
    "date": pl.Date(),
    "duid": pl.String(),
    "mwh": pl.Float64(),
    "revenue": pl.Float64(),
    "intervals5": pl.Int64(),
    "intervals30": pl.Int64(),
    "priced": pl.Int64(),
}
"""Columns of the rollup: ``priced`` counts intervals that had a price (revenue covers those)."""

DAILY_ROOFTOP = "daily_rooftop"
DAILY_ROOFTOP_SCHEMA = {
    "date": pl.Date(),
    "regionid": pl.String(),
    "mwh": pl.Float64(),
    "intervals": pl.Int64(),
}
"""Rooftop PV energy per NEM region (never sub-regions) and trading day: Σ MW × 0.5 h over the
half-hours, MEASUREMENT preferred, SATELLITE where there is no measurement."""

SOURCES = ("scada5", "scada30", "prices5", "prices30", "rooftop")


Window = tuple[datetime, datetime] | None  # intervals (start, end] to read; None: the month


def _month_files(store: Store, table: str, month: str, window: Window = None) -> list[str]:
    start, end = window if window else (None, None)
    return [
        str(store.folder(table) / p.file)
        for p in store.manifest(table).parts
        if p.month == month and p.overlaps(start, end)
    ]


def _scan(files: list[str], window: Window, time_column: str = "settlementdate") -> pl.LazyFrame:
    # parts live under store/<table>/month=YYYY-MM/: read them in their table's current schema
    table = TABLES[Path(files[0]).parents[1].name] if files else None
    frame = scan_rows(files, table.schema) if table is not None else pl.scan_parquet(files)
    if window is not None:
        frame = frame.filter(pl.col(time_column).is_between(*window, closed="right"))
    return frame


def _rooftop_daily(files: list[str], window: Window) -> pl.LazyFrame:
    half_hours = (
        _scan(files, window, "interval_datetime")
        .filter(~pl.col("is_subregion").fill_null(False) & pl.col("power").is_not_null())
        .sort("interval_datetime", "regionid", pl.col("type") != "MEASUREMENT")
        .group_by("interval_datetime", "regionid", maintain_order=True)
        .agg(pl.col("power").first())
    )
    return half_hours.group_by(
        (pl.col("interval_datetime") - timedelta(minutes=30)).dt.date().alias("date"), "regionid"
    ).agg((pl.col("power").sum() * 0.5).alias("mwh"), pl.len().cast(pl.Int64).alias("intervals"))


def _replace_month(
    store: Store,
    table: str,
    month: str,
    fresh: pl.DataFrame,
    days: set[date] | None,
    keys: list[str],
) -> None:
    old = {p.file for p in store.manifest(table).parts if p.month == month}
    if days:
        fresh = fresh.filter(pl.col("date").is_in(list(days)))
        if old:
            kept = pl.read_parquet([str(store.folder(table) / f) for f in sorted(old)])
            fresh = pl.concat([kept.filter(~pl.col("date").is_in(list(days))), fresh])
    frame = fresh.sort(keys)
    if frame.is_empty():
        if old:
            store._swap(table, old, [])
        return
    part = store._write_part(table, month, frame, level=CLOSED_LEVEL, time_column="date")
    store._swap(table, old, [part])


def _daily(
    scada: list[str],
    prices: list[str],
    regions: pl.DataFrame,
    minutes: int,
    price5: bool,
    window: Window,
) -> pl.LazyFrame:
    hours = minutes / 60
    energy = (
        _scan(scada, window)
        .select("settlementdate", "duid", "scadavalue")
        .join(regions.lazy(), on="duid", how="left")
    )
    if prices:
        price = _scan(prices, window)
        if price5:
            price = price.filter(pl.col("intervention") == 0)
        energy = energy.join(
            price.select("settlementdate", "regionid", "rrp"),
            on=["settlementdate", "regionid"],
            how="left",
        )
    else:
        energy = energy.with_columns(pl.lit(None, pl.Float64).alias("rrp"))
    return energy.group_by(
        (pl.col("settlementdate") - timedelta(minutes=minutes)).dt.date().alias("date"), "duid"
    ).agg(
        (pl.col("scadavalue").sum() * hours).alias("mwh"),
        ((pl.col("scadavalue") * pl.col("rrp")).sum() * hours).alias("revenue"),
        pl.len().cast(pl.Int64).alias("intervals"),
        pl.col("rrp").is_not_null().sum().cast(pl.Int64).alias("priced"),
    )


def rebuild_daily(
    store: Store, month: str, regions: pl.DataFrame, days: set[date] | None = None
) -> int:
    """Recompute a month of the daily rollup from the store (only `days` of it, if given);
    returns the rows recomputed."""
    regions = regions.select("duid", pl.col("region").alias("regionid")).unique("duid")
    window: Window = None
    if days:
        window = (
            datetime.combine(min(days), time()),
            datetime.combine(max(days), time()) + timedelta(days=1),
        )
    parts: list[pl.LazyFrame] = []
    five = _month_files(store, "scada5", month, window)
    if five:
        prices5 = _month_files(store, "prices5", month, window)
        parts.append(
            _daily(five, prices5, regions, 5, True, window).select(
                "date",
                "duid",
                "mwh",
                "revenue",
                pl.col("intervals").alias("intervals5"),
                pl.lit(0, pl.Int64).alias("intervals30"),
                "priced",
            )
        )
    thirty = _month_files(store, "scada30", month, window)
    if thirty:
        prices30 = _month_files(store, "prices30", month, window)
        half_hourly = _daily(thirty, prices30, regions, 30, False, window)
        if parts:
            half_hourly = half_hourly.join(
                parts[0].select("date", "duid"), on=["date", "duid"], how="anti"
            )
        parts.append(
            half_hourly.select(
                "date",
                "duid",
                "mwh",
                "revenue",
                pl.lit(0, pl.Int64).alias("intervals5"),
                pl.col("intervals").alias("intervals30"),
                "priced",
            )
        )
    fresh = (
        pl.concat(parts).collect().cast(DAILY_SCHEMA)  # type: ignore[arg-type]
        if parts
        else pl.DataFrame(schema=DAILY_SCHEMA)
    )
    _replace_month(store, DAILY, month, fresh, days, ["date", "duid"])
    roofs = _month_files(store, "rooftop", month, window)
    roof = (
        _rooftop_daily(roofs, window).collect().cast(DAILY_ROOFTOP_SCHEMA)  # type: ignore[arg-type]
        if roofs
        else pl.DataFrame(schema=DAILY_ROOFTOP_SCHEMA)
    )
    _replace_month(store, DAILY_ROOFTOP, month, roof, days, ["date", "regionid"])
    return fresh.height if not days else fresh.filter(pl.col("date").is_in(list(days))).height


def _written(part_file: str) -> int:
    """When a part was written (milliseconds, from its name)."""
    return int(part_file.rsplit("/", 1)[-1].split("-")[1])


def stale_months(store: Store) -> list[str]:
    """Months whose rollup is missing or older than a SCADA or price part of that month."""
    rolled = {p.month: _written(p.file) for p in store.manifest(DAILY).parts}
    newest: dict[str, int] = {}
    for table in SOURCES:
        for part in store.manifest(table).parts:
            newest[part.month] = max(newest.get(part.month, 0), _written(part.file))
    rolled_roof = {p.month: _written(p.file) for p in store.manifest(DAILY_ROOFTOP).parts}
    for month, written in rolled_roof.items():
        rolled[month] = min(written, rolled.get(month, written))
    data = {p.month for t in ("scada5", "scada30", "rooftop") for p in store.manifest(t).parts}
    return sorted(m for m in data if rolled.get(m, -1) < newest[m])
