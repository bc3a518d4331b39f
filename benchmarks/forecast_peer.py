"""The peer of `forecasts.py`: the same forecast answers computed by polars over the same
parquet files (`pl.scan_parquet`, lazy, predicate pushdown, every core), no nemstream code but
the store's manifest listing of the files."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from nemstream_store import TableReader


def _scan(reader: TableReader, table: str) -> pl.LazyFrame:
    return pl.scan_parquet(reader.files(table), hive_partitioning=False)


def _lead() -> pl.Expr:
    return (
        ((pl.col("interval_datetime") - pl.col("run_datetime")).dt.total_minutes())
        .cast(pl.Int64)
        .alias("lead_minutes")
    )


def peer_latest(reader: TableReader, at: datetime, hours: float) -> pl.DataFrame:
    """The newest P5MIN run at `at`, then the newest pre-dispatch run beyond it."""
    until = at + timedelta(hours=hours)
    out, after = [], datetime.min
    for table, back in (("p5min", timedelta(hours=1)), ("predispatch", timedelta(days=2, hours=7))):
        scan = _scan(reader, table).filter(pl.col("intervention") == 0)
        run = (
            scan.filter(pl.col("run_datetime").is_between(at - back, at, closed="right"))
            .select(pl.col("run_datetime").max())
            .collect()
            .item()
        )
        rows = scan.filter(
            (pl.col("run_datetime") == run)
            & (pl.col("interval_datetime") >= at)
            & (pl.col("interval_datetime") > after)
            & (pl.col("interval_datetime") <= until)
        ).collect()
        if rows.height:
            after = rows["interval_datetime"].max()  # type: ignore[assignment]
        out.append(rows.select("run_datetime", "interval_datetime", "regionid", "rrp"))
    return pl.concat(out).sort("interval_datetime", "regionid")


def peer_evolution(reader: TableReader, interval: datetime) -> pl.DataFrame:
    """Every run's forecast of `interval` (P5MIN) and of its half hour, with the actuals."""
    half = interval + timedelta(minutes=(-interval.minute) % 30)
    parts = []
    for table, target, actual, column in (
        ("p5min", interval, "prices5", "settlementdate"),
        ("predispatch", half, "prices30", "settlementdate"),
    ):
        rows = _scan(reader, table).filter(
            (pl.col("intervention") == 0)
            & (pl.col("interval_datetime") == target)
            & (pl.col("run_datetime") > target - timedelta(days=2, hours=7))
        )
        real = _scan(reader, actual).filter(pl.col(column) == target)
        if actual == "prices5":
            real = real.filter(pl.col("intervention") == 0)
        joined = rows.join(
            real.select(
                pl.col(column).alias("interval_datetime"), "regionid", pl.col("rrp").alias("actual")
            ),
            on=["interval_datetime", "regionid"],
            how="left",
        )
        parts.append(joined.select("run_datetime", "regionid", _lead(), "rrp", "actual").collect())
    return pl.concat(parts)


def peer_accuracy(reader: TableReader, start: datetime, end: datetime, source: str) -> pl.DataFrame:
    """Count, MAE, bias, $300 and $1,000 spikes and hits by region and lead."""
    back = timedelta(hours=1) if source == "p5min" else timedelta(days=2, hours=7)
    forecasts = _scan(reader, source).filter(
        (pl.col("intervention") == 0)
        & (pl.col("interval_datetime") > start)
        & (pl.col("interval_datetime") <= end)
        & (pl.col("run_datetime") > start - back)
    )
    actual = _scan(reader, "prices5" if source == "p5min" else "prices30").filter(
        (pl.col("settlementdate") > start) & (pl.col("settlementdate") <= end)
    )
    if source == "p5min":
        actual = actual.filter(pl.col("intervention") == 0)
    else:
        actual = actual.filter(pl.col("intervals") >= 6)
    pairs = forecasts.join(
        actual.select(
            pl.col("settlementdate").alias("interval_datetime"),
            "regionid",
            pl.col("rrp").alias("actual"),
        ),
        on=["interval_datetime", "regionid"],
    ).with_columns(_lead(), (pl.col("rrp") - pl.col("actual")).alias("e"))
    spikes = []
    for x in (300, 1000):
        spikes += [
            (pl.col("actual") >= x).sum().alias(f"spikes_{x}"),
            ((pl.col("actual") >= x) & (pl.col("rrp") >= x)).sum().alias(f"hits_{x}"),
            ((pl.col("rrp") >= x) & (pl.col("actual") < x)).sum().alias(f"false_alarms_{x}"),
        ]
    return (
        pairs.group_by(pl.col("regionid").alias("region"), "lead_minutes")
        .agg(
            pl.len().alias("count"),
            pl.col("e").abs().mean().alias("mae"),
            pl.col("e").mean().alias("bias"),
            *spikes,
        )
        .sort("region", "lead_minutes")
        .collect()
    )
