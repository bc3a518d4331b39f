"""Daily rollup per unit: energy (MWh) and revenue ($) for each trading day, so dashboards can
answer year and all-time questions from a few hundred thousand rows instead of tens of millions.

For every day and DUID: ``mwh = Σ MW × h`` and ``revenue = Σ MW × RRP × h`` with h = 5/60 for
5-minute SCADA priced at the 5-minute pricing-run RRP (INTERVENTION = 0) of the unit's region,
or h = 30/60 for 30-minute means priced at the 30-minute mean RRP on days without 5-minute data
(revenue is MW × RRP × hours, never MW × RRP). A trading day is the date the interval starts
on. A month's rollup is rebuilt whenever its SCADA or prices change.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from nemstream_store._store import Store

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

SOURCES = ("scada5", "scada30", "prices5", "prices30")


def _month_files(store: Store, table: str, month: str) -> list[str]:
    return [
        str(store.folder(table) / p.file) for p in store.manifest(table).parts if p.month == month
    ]


def _daily(
    scada: list[str], prices: list[str], regions: pl.DataFrame, minutes: int, price5: bool
) -> pl.LazyFrame:
    hours = minutes / 60
    energy = (
        pl.scan_parquet(scada)
        .select("settlementdate", "duid", "scadavalue")
        .join(regions.lazy(), on="duid", how="left")
    )
    if prices:
        price = pl.scan_parquet(prices)
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


def rebuild_daily(store: Store, month: str, regions: pl.DataFrame) -> int:
    """Recompute one month of the daily rollup from the store; returns its rows."""
    regions = regions.select("duid", pl.col("region").alias("regionid")).unique("duid")
    parts: list[pl.LazyFrame] = []
    five = _month_files(store, "scada5", month)
    if five:
        parts.append(
            _daily(five, _month_files(store, "prices5", month), regions, 5, True).select(
                "date",
                "duid",
                "mwh",
                "revenue",
                pl.col("intervals").alias("intervals5"),
                pl.lit(0, pl.Int64).alias("intervals30"),
                "priced",
            )
        )
    thirty = _month_files(store, "scada30", month)
    if thirty:
        half_hourly = _daily(thirty, _month_files(store, "prices30", month), regions, 30, False)
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
    old = {p.file for p in store.manifest(DAILY).parts if p.month == month}
    if not parts:
        if old:
            store._swap(DAILY, old, [])
        return 0
    frame = pl.concat(parts).collect().cast(DAILY_SCHEMA).sort("date", "duid")  # type: ignore[arg-type]
    if frame.is_empty():
        return 0
    part = store._write_part(DAILY, month, frame, compacted=True, time_column="date")
    store._swap(DAILY, old, [part])
    return frame.height
