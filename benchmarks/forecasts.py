"""The forecast queries on a year of forecast runs, beside polars over the same parquet.

    uv run python benchmarks/forecasts.py [--dir .cache/bench-forecasts] [--runs 7] [--force]

Builds (or reuses) under ``DIR/data`` a store generated here at run time, never committed:

* ``p5min``: a year of 5-minute pre-dispatch runs, 288 a day, each 12 intervals × 5 regions
  (≈ 6.3 M rows);
* ``predispatch``: a year of 30-minute pre-dispatch runs, 48 a day, each from its run to the
  end of the next trading day (49-96 half hours, as AEMO's; ≈ 6.3 M rows);
* ``prices5`` (a year of 5-minute prices, 5 regions) and ``prices30`` (their half-hour means,
  as the aggregator stores them), the actuals accuracy is measured against;

one part per table and month, written with the store library (`Store.add_part`) as the
writer's compaction leaves closed months. Prices: a daily shape per region with noise and rare
spikes ($300-$3,000); forecasts: the actual price plus an error growing with lead, spikes
forecast with a probability falling with lead. Realistic enough for timing; not data.

Then it times, in interleaved rounds (every query of ours, then the peer's, per round; one
untimed round first), p50 and p95 of ``--runs`` rounds:

* ``nemstream``: `nemstream_query.Query` (answer cache off). Accuracy keeps each whole
  month's error sums by the parts read (the month memo), so a repeated year reads only
  changed months: ``accuracy_*`` is that warm case, ``accuracy_*_cold`` computes every month again;
* ``polars``: the same answers with `pl.scan_parquet` over the same files (lazy, predicate
  pushdown, every core), given the run time ours finds in the manifests. Answers are checked
  equal before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from nemstream_query import SOURCES, Query, QuerySettings, Source, forecast_accuracy
from nemstream_store import TABLES, Store, TableReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_peer import peer_accuracy, peer_evolution, peer_latest

REGIONS = ("NSW1", "QLD1", "SA1", "TAS1", "VIC1")
START = datetime(2025, 1, 1)
DAYS = 365
TARGET_MS = 200.0
BASE = np.array([95.0, 80.0, 110.0, 70.0, 90.0])


def _shaped(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The table's columns in its schema (the columns not generated null)."""
    schema = TABLES[table].schema
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items()
    )


def _write(store: Store, table: str, frame: pl.DataFrame) -> int:
    """One part per month, sorted by the table's key (as compaction leaves a closed month)."""
    time_column = TABLES[table].time
    frame = _shaped(table, frame).sort(list(TABLES[table].key))
    months = frame.with_columns(
        (pl.col(time_column) - timedelta(minutes=1)).dt.strftime("%Y-%m").alias("_month")
    )
    for _, part in months.group_by("_month", maintain_order=True):
        store.add_part(table, part.drop("_month"))
    return frame.height


def build(data: Path, seed: int) -> dict[str, int]:
    """Generate and store the year (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = DAYS * 288
    steps = np.arange(1, n + 13)
    times = np.datetime64(START, "us") + steps * np.timedelta64(5, "m")
    minute_of_day = (steps * 5) % 1440
    shape = 1 + 0.35 * np.sin((minute_of_day - 7 * 60) / 1440 * 2 * np.pi)
    prices = BASE[None, :] * shape[:, None] + rng.normal(0, 12, (n + 12, 5))
    spikes = rng.random((n + 12, 5)) < 0.004
    prices[spikes] = rng.uniform(300, 3000, int(spikes.sum()))
    store = Store(data / "store")
    counts: dict[str, int] = {}
    try:
        five = pl.DataFrame(
            {
                "settlementdate": np.repeat(times[:n], 5),
                "regionid": np.tile(REGIONS, n),
                "intervention": 0,
                "rrp": prices[:n].ravel(),
                "source_file": "generated",
            }
        )
        counts["prices5"] = _write(store, "prices5", five)
        halves = prices[:n].reshape(-1, 6, 5).mean(axis=1)  # (n/6, 5)
        half_times = times[5:n:6]
        thirty = pl.DataFrame(
            {
                "settlementdate": np.repeat(half_times, 5),
                "regionid": np.tile(REGIONS, len(half_times)),
                "rrp": halves.ravel(),
                "intervals": 6,
                "source_file": "generated",
            }
        )
        counts["prices30"] = _write(store, "prices30", thirty)
        counts["p5min"] = _p5min(store, rng, times, prices, n)
        counts["predispatch"] = _predispatch(store, rng, half_times, halves)
    finally:
        store.close()
    return counts


def _p5min(
    store: Store, rng: np.random.Generator, times: np.ndarray, prices: np.ndarray, n: int
) -> int:
    """Run i (at times[i]) forecasts times[i..i+11]: the actual plus an error growing with
    lead; a spike is forecast with a probability falling with lead."""
    total = 0
    for first in range(0, n, 288 * 31):  # a month of runs at a time
        runs = np.arange(first, min(first + 288 * 31, n))
        lead = np.arange(12)
        at = runs[:, None] + lead[None, :]  # (runs, 12)
        actual = prices[at]  # (runs, 12, 5)
        calm = np.where(actual >= 300, BASE[None, None, :], actual)
        seen = rng.random(actual.shape) < (0.85 - 0.06 * lead)[None, :, None]
        forecast = (
            np.where(seen, actual, calm)
            + rng.normal(0, 1, actual.shape) * (2 + 1.5 * lead)[None, :, None]
        )
        count = forecast.size
        run_times = np.repeat(times[runs], 12 * 5)
        frame = pl.DataFrame(
            {
                "run_datetime": pl.Series(run_times, dtype=pl.Datetime("us")),
                "interval_datetime": pl.Series(
                    np.repeat(times[at].ravel(), 5), dtype=pl.Datetime("us")
                ),
                "regionid": np.tile(REGIONS, count // 5),
                "intervention": 0,
                "rrp": forecast.ravel(),
                "totaldemand": rng.uniform(1000, 12000, count),
                "source_file": "generated",
            }
        )
        total += _write(store, "p5min", frame)
    return total


def _predispatch(
    store: Store, rng: np.random.Generator, half_times: np.ndarray, halves: np.ndarray
) -> int:
    """Run m (at half hour m) forecasts every half hour to the end of the next trading day
    (04:00 two trading-day starts on), from the half-hour means plus a growing error."""
    total = 0
    runs = len(half_times)
    ends = []
    for when in half_times.astype(datetime):  # a trading day starts at 04:00: its end + a day
        day = (when - timedelta(hours=4, microseconds=1)).date()
        ends.append(datetime.combine(day, datetime.min.time()) + timedelta(hours=52))
    length = np.array(
        [
            int((e - t).total_seconds() // 1800) + 1
            for e, t in zip(ends, half_times.astype(datetime), strict=True)
        ]
    )
    padded = np.concatenate([halves, halves[: int(length.max())]])
    padded_times = half_times[0] + np.arange(runs + int(length.max())) * np.timedelta64(30, "m")
    run_times = half_times.astype(datetime)
    for first in range(0, runs, 48 * 31):
        chosen = np.arange(first, min(first + 48 * 31, runs))
        counts = length[chosen]
        run_of = np.repeat(chosen, counts)
        lead = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        actual = padded[run_of + lead]  # (rows, 5)
        error = rng.normal(0, 1, actual.shape) * (5 + 0.6 * lead)[:, None]
        forecast = np.where(actual >= 300, BASE[None, :] * 1.5, actual) + error
        rows = forecast.size
        seqno = np.array(
            [int(f"{(run_times[m] - timedelta(hours=4, microseconds=1)):%Y%m%d}00") for m in chosen]
        )
        frame = pl.DataFrame(
            {
                "run_datetime": pl.Series(
                    np.repeat(half_times[run_of], 5), dtype=pl.Datetime("us")
                ),
                "interval_datetime": pl.Series(
                    np.repeat(padded_times[run_of + lead], 5), dtype=pl.Datetime("us")
                ),
                "regionid": np.tile(REGIONS, rows // 5),
                "intervention": 0,
                "rrp": forecast.ravel(),
                "predispatchseqno": np.repeat(np.repeat(seqno, counts), 5),
                "periodid": np.repeat(lead + 1, 5),
                "source_file": "generated",
            }
        )
        total += _write(store, "predispatch", frame)
    return total


def ensure(root: Path, *, seed: int, force: bool) -> dict[str, Any]:
    """Build the store unless a build with the same settings is there."""
    marker = root / "built.json"
    if not force and marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        if built.get("seed") == seed and built.get("days") == DAYS:
            return built
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    began = time.perf_counter()
    counts = build(root / "data", seed)
    built = {"seed": seed, "days": DAYS, "rows": counts, "build_s": time.perf_counter() - began}
    size = sum(f.stat().st_size for f in (root / "data" / "store").rglob("*.parquet"))
    built["parquet_mb"] = round(size / 1e6, 1)
    marker.write_text(json.dumps(built))
    return built


ACCURACY_CHECKED = ["count", "mae", "bias", "spikes_300", "hits_300", "false_alarms_1000"]


def _check(name: str, ours: pl.DataFrame, peer: pl.DataFrame, columns: list[str]) -> None:
    """The peer computes the same answer (same rows, same values)."""
    assert ours.height == peer.height, (name, ours.height, peer.height)
    for column in columns:
        a, b = ours[column].to_numpy(), peer[column].to_numpy()
        assert np.allclose(a, b, equal_nan=True), (name, column)


Timed = tuple[Callable[[], pl.DataFrame], Callable[[], pl.DataFrame]]


def _accuracy_pair(
    query: Query,
    reader: TableReader,
    source: Source,
    bounds: tuple[datetime, datetime],
    *,
    cold: bool = False,
) -> Timed:
    """Ours and the peer's accuracy of one source over `bounds` (`cold`: ours without the
    month memo, every month read and computed again)."""
    if cold:
        return (
            lambda: forecast_accuracy(query.engine, *bounds, source=source),
            lambda: peer_accuracy(reader, *bounds, source),
        )
    return (
        lambda: query.forecast_accuracy(*bounds, source=source),
        lambda: peer_accuracy(reader, *bounds, source),
    )


def main() -> None:
    """Build (or reuse) the store, check the peer's answers, time both, print JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path(".cache/bench-forecasts"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    built = ensure(args.dir, seed=args.seed, force=args.force)
    data = args.dir / "data"
    query = Query(QuerySettings(data_dir=data, query_cache_size=0))
    reader = TableReader(data / "store")
    newest = query.newest_forecast_run()
    assert newest is not None
    target = datetime(2025, 7, 15, 18, 5)
    month = (datetime(2025, 6, 1), datetime(2025, 7, 1))
    year = (START, START + timedelta(days=DAYS))
    queries: dict[str, Timed] = {
        "latest_24h": (
            lambda: query.latest_forecast(hours=24),
            lambda: peer_latest(reader, newest, 24),
        ),
        "evolution": (
            lambda: query.forecast_evolution(target),
            lambda: peer_evolution(reader, target),
        ),
        **{
            f"accuracy_{source}_{span}": _accuracy_pair(query, reader, source, bounds)
            for source in SOURCES
            for span, bounds in (("month", month), ("year", year))
        },
        **{
            f"accuracy_{source}_{span}_cold": _accuracy_pair(
                query, reader, source, bounds, cold=True
            )
            for source in SOURCES
            for span, bounds in (("month", month), ("year", year))
        },
    }
    checks = {
        "latest_24h": ["rrp"],
        "evolution": ["rrp", "actual"],
    }
    for name, (ours, peer) in queries.items():  # the untimed round, and the answers checked
        mine, theirs = ours(), peer()
        if name == "latest_24h":
            mine = mine.sort("interval", "region")
        elif name == "evolution":
            mine = mine.sort("run", "region", "lead_minutes")
            theirs = theirs.sort("run_datetime", "regionid", "lead_minutes")
        else:
            mine = mine.sort("region", "lead_minutes")
        _check(
            name,
            mine,
            theirs,
            checks.get(
                name, ["count", "mae", "bias", "spikes_300", "hits_300", "false_alarms_1000"]
            ),
        )
    times: dict[str, dict[str, list[float]]] = {n: {"nemstream": [], "polars": []} for n in queries}
    for _ in range(args.runs):
        for name, (ours, peer) in queries.items():
            for who, run in (("nemstream", ours), ("polars", peer)):
                began = time.perf_counter()
                run()
                times[name][who].append((time.perf_counter() - began) * 1000)
    query.close()
    report: dict[str, Any] = {
        "store": built,
        "machine": {"cores": os.cpu_count(), "load_before": load_before},
        "runs": args.runs,
        "target_p95_ms": TARGET_MS,
        "queries": {},
    }
    for name, by in times.items():
        row: dict[str, Any] = {}
        for who, values in by.items():
            cut = statistics.quantiles(values, n=20, method="inclusive")
            row[who] = {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(cut[18], 1)}
        row["meets_target"] = row["nemstream"]["p95_ms"] <= TARGET_MS
        report["queries"][name] = row
    report["machine"]["load_after"] = os.getloadavg()
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
