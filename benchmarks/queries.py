"""The dashboard's queries on the scale store, beside the original design's approach, and the
peak memory of the query process and of the writer.

    uv run python benchmarks/queries.py [--dir .cache/bench] [--runs 20] [--peer-runs 3]

Builds (or reuses) the store of `scale.py`, then runs each query in three separate processes,
so each reports its own peak RSS:

* ``nemstream``: the query layer (`nemstream_query.Query`, cache off, so every run does the
  work; one cached repeat is reported apart) over the partitioned store and its daily rollup;
* ``duckdb one file``: DuckDB ``read_parquet`` over one unpartitioned file per table, computing
  from the raw rows (no rollup, no manifest pruning);
* ``pandas one file``: the original tool's way: ``pandas.read_parquet`` of one big file per
  table, then filter and group in pandas.

Then the writer (`python -m nemstream_writer`, a real nats-server) stores two hours of live
events for every unit after the store's end on a hard-linked copy of the store, compacting and
rolling up as it runs; its throughput and peak RSS (VmHWM) are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import livestore
import scale

QUERIES = [
    ("stack_24h", "24 h generation stack (5 min, by fuel, rooftop)"),
    ("fuel_7d", "7-day generation by fuel (30 min)"),
    ("fuel_1y", "1-year generation by fuel (daily)"),
    ("fuel_all", "all-time (5 y) generation by fuel (daily)"),
    ("prices_7d", "7-day regional prices (30 min)"),
    ("price_stats_1y", "price statistics, 1 year"),
    ("revenue_1y", "station revenue, 1 year"),
    ("price_now", "price cards: newest price, 1 h and 24 h means, status"),
    ("recent_prices", "the last 5 prices per region"),
    ("interconnectors_now", "interconnectors now: flow, direction, limits"),
    ("renewable_records", "renewable share records (the store's history)"),
    ("price_profile_1y", "time-of-day price profile, 1 year"),
    ("price_duration_1y", "price duration curve, 1 year"),
    ("price_distribution_1y", "price distribution, 1 year"),
    ("price_counts_1y", "negative and spike price counts, 1 year"),
    ("price_analytics_1y", "the four price analytics from one read, 1 year"),
    ("curtailment_7d", "solar and wind curtailment, 7 days (30 min)"),
    ("rooftop_regions_7d", "rooftop PV by region and sub-region, 7 days"),
    ("utilisation_7d", "utilisation by fuel, 7 days"),
    ("revenue_units_1y", "revenue by DUID, 1 year"),
    ("units_search", "unit search"),
    ("station_7d", "one unit's detail, 7 days"),
]
SIDES = ("nemstream", "duckdb one file", "pandas one file")


def _ranges(end: datetime) -> dict[str, tuple[datetime, datetime]]:
    day, week, year = timedelta(days=1), timedelta(days=7), timedelta(days=365)
    return {
        "stack_24h": (end - day, end),
        "fuel_7d": (end - week, end),
        "fuel_1y": (end - year, end),
        "fuel_all": (end - timedelta(days=round(365.25 * 5)), end),
        "prices_7d": (end - week, end),
        "price_stats_1y": (end - year, end),
        "revenue_1y": (end - year, end),
    }


# --- the three ways to answer -----------------------------------------------------------------


def ours(data: Path, end: datetime) -> dict[str, Callable[[], object]]:
    """The query layer."""
    from nemstream_query import Query, QuerySettings

    query = Query(QuerySettings(data_dir=data, query_cache_size=0))
    r = _ranges(end)
    first_duid = next(iter(query.units(limit=1)["duid"]), "NONE")
    return {
        "stack_24h": lambda: query.generation_by_fuel(*r["stack_24h"]),
        "fuel_7d": lambda: query.generation_by_fuel(*r["fuel_7d"]),
        "fuel_1y": lambda: query.generation_by_fuel(*r["fuel_1y"]),
        "fuel_all": lambda: query.generation_by_fuel(*r["fuel_all"]),
        "prices_7d": lambda: query.prices(*r["prices_7d"]).frame,
        "price_stats_1y": lambda: query.price_stats(*r["price_stats_1y"]),
        "revenue_1y": lambda: query.revenue_by_station(*r["revenue_1y"]),
        "price_now": lambda: query.price_now(end),
        "recent_prices": lambda: query.recent_prices(end),
        "interconnectors_now": lambda: query.interconnectors_now(end),
        "renewable_records": lambda: query.renewable_records(at=end),
        "price_profile_1y": lambda: query.price_profile(*r["price_stats_1y"]),
        "price_duration_1y": lambda: query.price_duration(*r["price_stats_1y"]),
        "price_distribution_1y": lambda: query.price_distribution(*r["price_stats_1y"]),
        "price_counts_1y": lambda: query.price_counts(*r["price_stats_1y"]),
        "price_analytics_1y": lambda: query.price_analytics(*r["price_stats_1y"]),
        "curtailment_7d": lambda: query.curtailment(*r["fuel_7d"]).frame,
        "rooftop_regions_7d": lambda: query.rooftop_by_region(*r["fuel_7d"]),
        "utilisation_7d": lambda: query.utilisation_by_fuel(*r["fuel_7d"]),
        "revenue_units_1y": lambda: query.revenue_by_unit(*r["revenue_1y"]),
        "units_search": lambda: query.units("wind"),
        "station_7d": lambda: query.station_detail(*r["fuel_7d"], duid=first_duid),
    }


_UNITS = "units"


def duckdb_flat(data: Path, peer: Path, end: datetime) -> dict[str, Callable[[], object]]:
    """DuckDB over one file per table, from the raw rows."""
    import duckdb
    import polars as pl

    conn = duckdb.connect()
    units = pl.read_parquet(data / "registry" / "units.parquet").select(
        "duid", "station_name", "region", "fuel"
    )
    conn.register("units_frame", units.to_arrow())
    conn.execute("CREATE TABLE units AS SELECT * FROM units_frame")
    f = {
        t: str(peer / f"{t}.parquet")
        for t in ("scada5", "scada30", "prices5", "prices30", "rooftop")
    }
    r = _ranges(end)

    def run(sql: str, **params: Any) -> Callable[[], object]:
        return lambda: conn.sql(sql, params=params).pl()

    by_fuel = (
        "SELECT s.settlementdate, coalesce(u.fuel, 'unknown') AS fuel, sum(scadavalue) AS mw "
        "FROM read_parquet($f) s LEFT JOIN units u USING (duid) "
        "WHERE s.settlementdate > $a AND s.settlementdate <= $b GROUP BY ALL"
    )
    daily = (
        "SELECT CAST(s.settlementdate - INTERVAL 30 MINUTE AS DATE) AS day, "
        "coalesce(u.fuel, 'unknown') AS fuel, sum(scadavalue) * 0.5 AS mwh "
        "FROM read_parquet($f) s LEFT JOIN units u USING (duid) "
        "WHERE s.settlementdate > $a AND s.settlementdate <= $b GROUP BY ALL"
    )
    stats = (
        "SELECT regionid, avg(rrp), min(rrp), max(rrp), stddev_pop(rrp), "
        "quantile_cont(rrp, 0.05), quantile_cont(rrp, 0.5), quantile_cont(rrp, 0.95), "
        "count(*) FILTER (WHERE rrp >= 300) / 12 AS hours_above_300 "
        "FROM read_parquet($f) WHERE intervention = 0 AND settlementdate > $a "
        "AND settlementdate <= $b GROUP BY regionid"
    )
    revenue = (
        "SELECT u.station_name, sum(s.scadavalue) / 12 AS mwh, "
        "sum(s.scadavalue * p.rrp) / 12 AS revenue "
        "FROM read_parquet($f) s JOIN units u USING (duid) "
        "JOIN read_parquet($p) p ON p.settlementdate = s.settlementdate "
        "AND p.regionid = u.region AND p.intervention = 0 "
        "WHERE s.settlementdate > $a AND s.settlementdate <= $b "
        "GROUP BY ALL ORDER BY revenue DESC LIMIT 50"
    )
    prices = (
        "SELECT settlementdate, regionid, rrp FROM read_parquet($f) "
        "WHERE settlementdate > $a AND settlementdate <= $b"
    )
    a, b = r["stack_24h"]
    return {
        "stack_24h": run(by_fuel, f=f["scada5"], a=a, b=b),
        "fuel_7d": run(by_fuel, f=f["scada30"], a=r["fuel_7d"][0], b=end),
        "fuel_1y": run(daily, f=f["scada30"], a=r["fuel_1y"][0], b=end),
        "fuel_all": run(daily, f=f["scada30"], a=r["fuel_all"][0], b=end),
        "prices_7d": run(prices, f=f["prices30"], a=r["prices_7d"][0], b=end),
        "price_stats_1y": run(stats, f=f["prices5"], a=r["price_stats_1y"][0], b=end),
        "revenue_1y": run(revenue, f=f["scada5"], p=f["prices5"], a=r["revenue_1y"][0], b=end),
    }


def pandas_flat(data: Path, peer: Path, end: datetime) -> dict[str, Callable[[], object]]:
    """The original design: read the whole file with pandas, then filter and group."""
    import pandas as pd

    units = pd.read_parquet(
        data / "registry" / "units.parquet", columns=["duid", "station_name", "region", "fuel"]
    )
    r = _ranges(end)

    def scada(table: str, name: str) -> Any:
        frame = pd.read_parquet(
            peer / f"{table}.parquet", columns=["settlementdate", "duid", "scadavalue"]
        )
        a, b = r[name]
        frame = frame[(frame.settlementdate > a) & (frame.settlementdate <= b)]
        return frame.merge(units, on="duid", how="left")

    def stack() -> object:
        gen = (
            scada("scada5", "stack_24h")
            .groupby(["settlementdate", "fuel"], dropna=False)
            .scadavalue.sum()
        )
        roof = pd.read_parquet(peer / "rooftop.parquet")
        a, b = r["stack_24h"]
        roof = roof[
            (roof.interval_datetime > a)
            & (roof.interval_datetime <= b)
            & ~roof.is_subregion
            & (roof.type == "MEASUREMENT")
        ]
        return gen, roof.groupby("interval_datetime").power.sum()

    def by_fuel_30() -> object:
        return (
            scada("scada30", "fuel_7d")
            .groupby(["settlementdate", "fuel"], dropna=False)
            .scadavalue.sum()
        )

    def daily(name: str) -> Callable[[], object]:
        def run() -> object:
            frame = scada("scada30", name)
            day = (frame.settlementdate - pd.Timedelta(minutes=30)).dt.date
            return frame.groupby([day, "fuel"], dropna=False).scadavalue.sum() * 0.5

        return run

    def prices_7d() -> object:
        frame = pd.read_parquet(peer / "prices30.parquet")
        a, b = r["prices_7d"]
        return frame[(frame.settlementdate > a) & (frame.settlementdate <= b)]

    def stats() -> object:
        frame = pd.read_parquet(peer / "prices5.parquet")
        a, b = r["price_stats_1y"]
        frame = frame[
            (frame.intervention == 0) & (frame.settlementdate > a) & (frame.settlementdate <= b)
        ]
        return frame.groupby("regionid").rrp.describe(percentiles=[0.05, 0.5, 0.95])

    def revenue() -> object:
        frame = scada("scada5", "revenue_1y")
        prices = pd.read_parquet(
            peer / "prices5.parquet", columns=["settlementdate", "regionid", "intervention", "rrp"]
        )
        prices = prices[prices.intervention == 0]
        frame = frame.merge(
            prices, left_on=["settlementdate", "region"], right_on=["settlementdate", "regionid"]
        )
        frame["revenue"] = frame.scadavalue * frame.rrp / 12
        return frame.groupby("station_name").revenue.sum().nlargest(50)

    return {
        "stack_24h": stack,
        "fuel_7d": by_fuel_30,
        "fuel_1y": daily("fuel_1y"),
        "fuel_all": daily("fuel_all"),
        "prices_7d": prices_7d,
        "price_stats_1y": stats,
        "revenue_1y": revenue,
    }


def worker(side: str, target: Path, end: datetime, runs: int) -> dict[str, Any]:
    """Time every query `runs` times in this process; report timings and peak RSS."""
    data, peer = target / "data", target / "peer"
    table = {
        "nemstream": lambda: ours(data, end),
        "duckdb one file": lambda: duckdb_flat(data, peer, end),
        "pandas one file": lambda: pandas_flat(data, peer, end),
    }[side]()
    out: dict[str, Any] = {"side": side, "times": {}}
    for name, _ in QUERIES:
        run = table.get(name)
        if run is None:  # the dashboard's newer queries have no one-file peer
            continue
        run()  # first run: file metadata into the OS cache, as on a dashboard in use
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            run()
            times.append(time.perf_counter() - began)
        out["times"][name] = times
    if side == "nemstream":
        from nemstream_query import Query, QuerySettings

        cached = Query(QuerySettings(data_dir=data))
        a, b = _ranges(end)["stack_24h"]
        cached.generation_by_fuel(a, b)
        began = time.perf_counter()
        cached.generation_by_fuel(a, b)
        out["cached_ms"] = (time.perf_counter() - began) * 1000
    out["maxrss_mb"] = livestore.vm_hwm_mb(os.getpid())  # ru_maxrss would carry the parent's over
    return out


# --- the writer ---------------------------------------------------------------------------------


async def writer_burst(target: Path, end: datetime, hours: int) -> dict[str, Any]:
    """Two hours of live events into a copy of the store through the real writer."""
    import numpy as np
    from nats.js.errors import NotFoundError

    from nemstream_bus import Bus, BusSettings, NatsServer, connect
    from nemstream_testing import free_port
    from nemstream_writer import WriterSettings, consumer_spec

    work = target / "writer"
    data = await livestore.linked_copy(target, work)
    units = livestore.registry_units(data)
    rng = np.random.default_rng(3)
    server = NatsServer(work / "nats")
    await server.start()
    env = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_NATS_URL": server.url,
        "NEMSTREAM_METRICS_PORT": str(free_port()),
        "NEMSTREAM_COMPACT_EVERY_S": "2",
        "NEMSTREAM_LOG_LEVEL": "WARNING",
    }
    bus: Bus = await connect(BusSettings(nats_url=server.url), name="bench")
    await bus.ensure_streams()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemstream_writer", env=env
    )
    try:
        durable = consumer_spec(WriterSettings()).durable
        while True:  # the writer binds its consumer once it has started
            try:
                await bus.js.consumer_info("NEM", durable)
                break
            except NotFoundError:
                await asyncio.sleep(0.2)
        began = time.perf_counter()
        sent = rows = 0
        for i in range(hours * 12):
            interval = end + timedelta(minutes=5 * (i + 1))
            messages, count = await livestore.publish_interval(bus, units, interval, rng)
            sent += messages
            rows += count
        while True:
            info = await bus.js.consumer_info("NEM", durable)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - began
        await asyncio.sleep(6)  # maintenance: compaction, the day's rollup
        peak = livestore.vm_hwm_mb(process.pid)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await bus.close()
        await server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"messages": sent, "rows": rows, "seconds": seconds, "peak_rss_mb": peak}


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    """Build or reuse the store, run the three sides and the writer, print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--writer-hours", type=int, default=2)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        end = datetime.fromisoformat(args.end)
        print(json.dumps(worker(args.worker, args.dir, end, args.runs)))
        return
    built = scale.ensure(args.dir)
    end = datetime.fromisoformat(str(built["end"]))
    rows = built["rows"]
    assert isinstance(rows, dict)
    print(f"store: {built['duids']} DUIDs, " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    results = {}
    for side in SIDES:
        runs = args.runs if side == "nemstream" else args.peer_runs
        print(f"running {side} ({runs} runs per query) ...", flush=True)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                side,
                "--dir",
                str(args.dir),
                "--end",
                end.isoformat(),
                "--runs",
                str(runs),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results[side] = json.loads(done.stdout.strip().splitlines()[-1])
    print()
    print("| query | nemstream p50 ms | p95 | duckdb 1 file p50 | p95 | pandas 1 file p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    for name, label in QUERIES:
        cells = []
        for side in SIDES:
            times = [t * 1000 for t in results[side]["times"].get(name, [])]
            if not times:
                cells += ["–", "–"]
                continue
            cells += [
                f"{statistics.median(times):,.0f}",
                f"{livestore.percentile(times, 0.95):,.0f}",
            ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print(
        "peak RSS of the query process: "
        + ", ".join(f"{s} {results[s]['maxrss_mb']:,.0f} MB" for s in SIDES)
    )
    print(f"cached repeat of the 24 h stack: {results['nemstream']['cached_ms']:.2f} ms")
    burst = asyncio.run(writer_burst(args.dir, end, args.writer_hours))
    print(
        f"writer: {burst['messages']} messages ({burst['rows']:,} rows, {args.writer_hours} h "
        f"of live 5-minute SCADA, prices, flows) stored in {burst['seconds']:.1f} s "
        f"({burst['messages'] / burst['seconds']:.0f} messages/s); "
        f"peak RSS {burst['peak_rss_mb']:,.0f} MB"
    )


if __name__ == "__main__":
    main()
