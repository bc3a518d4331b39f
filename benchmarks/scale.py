"""Build a store at the scale of the original system and beyond, for `queries.py`.

    uv run python benchmarks/scale.py [--dir .cache/bench] [--force]

What it builds under ``DIR/data`` (a data directory as the services use it), generated here at
run time and never committed:

* ``scada30``: 5 years of 30-minute SCADA for every DUID of the real unit registry (built from
  the registration list in the samples), ≈ 45-50 M rows; ``scada5``: the last year at 5 minutes,
  ≈ 55-60 M rows (its half-hours are the 30-minute means, as the aggregator makes them);
* ``prices5`` (1 year) and ``prices30`` (5 years) for the five regions, ``interconnector5`` and
  ``interconnector30`` for the real interconnectors, ``rooftop`` (5 years, regions and
  sub-regions, both estimate types), and the ``daily_unit`` rollup the writer keeps;
* one part per table and month, as the writer's compaction leaves closed months;
* ``DIR/peer``: the same rows as one big parquet file per table, the original design's layout.

Values are shaped from the real samples: each unit's level from its real MW in the real SCADA
file (or its fuel's usual level), solar farms and rooftop PV following the real rooftop PV
day shape of its region (December 2019), prices following the real 5-minute price day shape
(March 2026 archive) with noise and rare spikes, flows around the real interconnector flows and
limits of the real DispatchIS file. Shapes are realistic enough for timing; they are not data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from nemstream_market import REGIONS as NEM_REGIONS
from nemstream_market import ROOFTOP_SUBREGIONS
from nemstream_mms import read_report, views
from nemstream_registry import build_registry, write_registry
from nemstream_store import CLOSED_LEVEL, TABLES, Store, rebuild_daily
from nemstream_testing import names

MIN5, MIN30 = timedelta(minutes=5), timedelta(minutes=30)
REGIONS = list(NEM_REGIONS)
SUBREGIONS = dict(ROOFTOP_SUBREGIONS)
LIST = names.REGISTRATION_LIST
SCADA = names.SCADA
ROOFTOP = names.ROOFTOP_MONTH
PRICES = names.PRICE_ARCHIVE
DISPATCHIS = names.DISPATCHIS_2025
VERSION = 3  # bump when the layout changes, so an old build is not reused


def samples_dir() -> Path:
    """The real samples (NEMSTREAM_SAMPLES_DIR or ../shared/nemweb)."""
    configured = os.environ.get("NEMSTREAM_SAMPLES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "nemweb"


@dataclass(frozen=True, slots=True)
class Shapes:
    """What the generated values are shaped from, all read from real files."""

    units: pl.DataFrame  # duid, region, fuel, capacity, level (share of capacity), sign
    solar_day: dict[str, np.ndarray]  # region -> 48 half-hour shares of its peak
    rooftop_peak: dict[str, float]  # region or sub-region -> MW peak
    price_day: dict[str, np.ndarray]  # region -> 288 five-minute prices
    price_noise: dict[str, float]
    flows: pl.DataFrame  # interconnectorid, meteredmwflow, exportlimit, importlimit


_LEVEL = {"coal": 0.7, "gas": 0.15, "hydro": 0.3, "wind": 0.35, "solar": 0.25, "battery": 0.0}


def read_shapes(root: Path, registry: pl.DataFrame) -> Shapes:
    """Unit levels, day shapes and flows from the real samples."""
    scada = views.unit_scada(read_report(root / SCADA)).select("duid", "scadavalue")
    units = (
        registry.select(
            "duid",
            pl.col("region").fill_null("NSW1"),
            pl.col("fuel").fill_null("other"),
            pl.col("capacity_mw").fill_null(pl.col("max_capacity_mw")).fill_null(30.0),
        )
        .filter(pl.col("region").is_in(REGIONS))
        .join(scada, on="duid", how="left")
        .with_columns(
            (pl.col("scadavalue") / pl.col("capacity_mw"))
            .clip(0.02, 1.0)
            .fill_null(pl.col("fuel").replace_strict(_LEVEL, default=0.4))
            .alias("level")
        )
        .sort("duid")
    )
    rooftop = views.rooftop_actual(read_report(root / ROOFTOP)).filter(
        pl.col("type") == "MEASUREMENT"
    )
    by_slot = rooftop.group_by(
        "regionid",
        (
            pl.col("interval_datetime").dt.hour() * 2
            + pl.col("interval_datetime").dt.minute() // 30
        ).alias("slot"),
    ).agg(pl.col("power").mean())
    solar_day: dict[str, np.ndarray] = {}
    rooftop_peak: dict[str, float] = {}
    for (region,), rows in by_slot.partition_by("regionid", as_dict=True).items():
        curve = np.zeros(48)
        curve[rows["slot"].to_numpy()] = rows["power"].to_numpy()
        curve = np.roll(curve, -1)  # slot of the interval ending -> slot it covers
        peak = float(curve.max()) or 1.0
        rooftop_peak[str(region)] = peak
        solar_day[str(region)] = curve / peak
    prices = views.pricing_run(views.dispatch_price(read_report(root / PRICES)))
    price_day: dict[str, np.ndarray] = {}
    price_noise: dict[str, float] = {}
    for region in REGIONS:
        own = prices.filter(pl.col("regionid") == (region if region in ("NSW1", "SA1") else "NSW1"))
        slot = (
            (
                own["settlementdate"].dt.hour().cast(pl.Int32) * 60
                + own["settlementdate"].dt.minute()
            )
            // 5
        ).to_numpy()
        values = own["rrp"].to_numpy()
        day = np.array([values[slot == s].mean() for s in range(288)])
        price_day[region] = day
        price_noise[region] = float(np.std(values - day[slot]))
    flows = views.dispatch_interconnector(read_report(root / DISPATCHIS)).filter(
        pl.col("intervention") == 0
    )
    return Shapes(
        units,
        solar_day,
        rooftop_peak,
        price_day,
        price_noise,
        flows.select("interconnectorid", "meteredmwflow", "exportlimit", "importlimit").unique(
            "interconnectorid"
        ),
    )


def _slots(times: np.ndarray, minutes: int) -> np.ndarray:
    """Index of each interval (ending) in its day at `minutes` resolution."""
    start = times - np.timedelta64(minutes, "m")
    of_day = (start - start.astype("datetime64[D]")).astype("timedelta64[m]").astype(np.int64)
    result: np.ndarray = of_day // minutes
    return result


def _season(times: np.ndarray) -> np.ndarray:
    """1 in midsummer (late December), 0.55 in midwinter."""
    doy = (times.astype("datetime64[D]") - times.astype("datetime64[Y]")).astype(np.int64)
    result: np.ndarray = 0.775 + 0.225 * np.cos(2 * np.pi * (doy + 10) / 365.25)
    return result


def prices_for(
    shapes: Shapes, times: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """RRP per region at the given interval endings (5- or 30-minute grid)."""
    minutes = int((times[1] - times[0]).astype("timedelta64[m]").astype(np.int64))
    slot5 = _slots(times, minutes) * (minutes // 5)
    out = {}
    for region in REGIONS:
        base = shapes.price_day[region][slot5] * (1.6 - 0.6 * _season(times))
        noise = rng.normal(0, shapes.price_noise[region] / np.sqrt(minutes / 5), len(times))
        spikes = rng.random(len(times)) < 0.0008 * minutes / 5
        values = base + noise + spikes * rng.uniform(2000, 15000, len(times))
        out[region] = np.clip(values, -1000, 17500)
    return out


def scada_for(
    shapes: Shapes, times: np.ndarray, price: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """MW per interval (rows) and unit (columns)."""
    units = shapes.units
    minutes = int((times[1] - times[0]).astype("timedelta64[m]").astype(np.int64))
    slot30 = _slots(times, minutes) * minutes // 30
    season = _season(times)[:, None]
    capacity = units["capacity_mw"].to_numpy()[None, :]
    level = units["level"].to_numpy()[None, :]
    fuel = units["fuel"].to_numpy()
    region = units["region"].to_numpy()
    hour = (slot30 / 2.0)[:, None]
    n, m = len(times), units.height
    out = np.empty((n, m))
    steady = np.clip(level + rng.normal(0, 0.03, (n, m)), 0, 1)
    out[:] = capacity * steady
    for name in REGIONS:
        here = region == name
        solar = here & (fuel == "solar")
        out[:, solar] = (
            capacity[:, solar]
            * (shapes.solar_day[name][slot30][:, None] * season)
            * rng.uniform(0.6, 1.0, (n, 1))
        )
        peaking = here & np.isin(fuel, ["gas", "liquid"])
        expensive = (price[name] > np.quantile(price[name], 0.8))[:, None]
        out[:, peaking] = (
            capacity[:, peaking] * expensive * rng.uniform(0.3, 0.9, (n, peaking.sum()))
        )
    wind = fuel == "wind"
    if wind.any():
        walk = np.empty((n, wind.sum()))
        state = rng.uniform(0.1, 0.6, wind.sum())
        shocks = rng.normal(0, 0.06 * np.sqrt(minutes / 5), (n, wind.sum()))
        for i in range(n):
            state = np.clip(0.98 * state + 0.02 * 0.35 + shocks[i], 0, 1)
            walk[i] = state
        out[:, wind] = capacity[:, wind] * walk
    battery = fuel == "battery"
    charge = ((hour >= 10) & (hour < 15)) * -0.45
    discharge = ((hour >= 17) & (hour < 21)) * 0.65
    out[:, battery] = (
        capacity[:, battery] * (charge + discharge) * rng.uniform(0.5, 1.0, (n, battery.sum()))
    )
    return out


def _frame(
    times: np.ndarray, keys: list[str], key: str, values: np.ndarray, measure: str
) -> pl.DataFrame:
    n, m = values.shape
    return pl.DataFrame(
        {
            "settlementdate": np.repeat(times, m).astype("datetime64[us]"),
            key: pl.Series(keys, dtype=pl.String).gather(np.tile(np.arange(m), n)),
            measure: values.ravel(),
        }
    )


def conform(table: str, frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rows in a store table's schema: missing columns null, `source_file` set."""
    schema = TABLES[table].schema
    frame = frame.with_columns(pl.lit(source).alias("source_file"))
    return frame.select(
        [
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
            for c, t in schema.items()
        ]
    )


def _months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end] chunks of the range, split at month boundaries."""
    out, cursor = [], start
    while cursor < end:
        following = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append((cursor, min(following, end)))
        cursor = following
    return out


def _grid(start: datetime, end: datetime, step: timedelta) -> np.ndarray:
    return np.arange(
        np.datetime64(start + step), np.datetime64(end + timedelta(seconds=1)), np.timedelta64(step)
    ).astype("datetime64[us]")


Add = Callable[[str, pl.DataFrame], None]
_HALF_OF = (pl.col("settlementdate") - MIN5).dt.truncate("30m") + MIN30


def _flows(shapes: Shapes, times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = shapes.flows["meteredmwflow"].to_numpy()[None, :]
    swing = np.abs(shapes.flows["exportlimit"].to_numpy()[None, :]) * 0.3 + 20
    daily = np.sin(2 * np.pi * _slots(times, 5)[:, None] / 288)
    result: np.ndarray = base + swing * daily + rng.normal(0, 15, (len(times), shapes.flows.height))
    return result


def _prices_frame(times: np.ndarray, price: dict[str, np.ndarray]) -> pl.DataFrame:
    return pl.concat(
        [pl.DataFrame({"settlementdate": times, "regionid": r, "rrp": price[r]}) for r in REGIONS]
    )


def _means(frame: pl.DataFrame, key: str, measure: str) -> pl.DataFrame:
    """Half-hourly means of 5-minute rows, as the aggregator makes them."""
    return frame.group_by(_HALF_OF, key).agg(
        pl.col(measure).mean(), pl.len().cast(pl.Int64).alias("intervals")
    )


def _five_minute_month(
    add: Add,
    shapes: Shapes,
    times: np.ndarray,
    duids: list[str],
    interconnectors: list[str],
    rng: np.random.Generator,
) -> None:
    price = prices_for(shapes, times, rng)
    scada = _frame(times, duids, "duid", scada_for(shapes, times, price, rng), "scadavalue")
    add("scada5", conform("scada5", scada, "PUBLIC_DISPATCHSCADA"))
    add("scada30", conform("scada30", _means(scada, "duid", "scadavalue"), "aggregator"))
    prices = _prices_frame(times, price).with_columns(
        pl.lit(0).alias("intervention"),
        pl.lit(1).alias("runno"),
        pl.lit("FIRM").alias("price_status"),
    )
    add("prices5", conform("prices5", prices, "PUBLIC_DISPATCHIS"))
    add("prices30", conform("prices30", _means(prices, "regionid", "rrp"), "aggregator"))
    flows = (
        _frame(
            times, interconnectors, "interconnectorid", _flows(shapes, times, rng), "meteredmwflow"
        )
        .with_columns(pl.lit(0).alias("intervention"), pl.col("meteredmwflow").alias("mwflow"))
        .join(
            shapes.flows.select("interconnectorid", "exportlimit", "importlimit"),
            on="interconnectorid",
        )
    )
    add("interconnector5", conform("interconnector5", flows, "PUBLIC_DISPATCHIS"))
    means = _means(flows, "interconnectorid", "meteredmwflow")
    add("interconnector30", conform("interconnector30", means, "aggregator"))


def _half_hour_month(
    add: Add,
    shapes: Shapes,
    half: np.ndarray,
    duids: list[str],
    interconnectors: list[str],
    rng: np.random.Generator,
) -> None:
    price = prices_for(shapes, half, rng)
    six = pl.lit(6).alias("intervals")
    scada = _frame(half, duids, "duid", scada_for(shapes, half, price, rng), "scadavalue")
    add("scada30", conform("scada30", scada.with_columns(six), "aggregator"))
    add("prices30", conform("prices30", _prices_frame(half, price).with_columns(six), "aggregator"))
    flow = shapes.flows["meteredmwflow"].to_numpy()[None, :] + rng.normal(
        0, 40, (len(half), len(interconnectors))
    )
    flows = _frame(half, interconnectors, "interconnectorid", flow, "meteredmwflow")
    add("interconnector30", conform("interconnector30", flows.with_columns(six), "aggregator"))


def _rooftop_month(add: Add, shapes: Shapes, times: np.ndarray, rng: np.random.Generator) -> None:
    slot, season = _slots(times, 30), _season(times)
    parts = []
    for area in [*REGIONS, *SUBREGIONS]:
        like = SUBREGIONS.get(area, area)
        peak = shapes.rooftop_peak.get(area, shapes.rooftop_peak[like])
        curve = shapes.solar_day[like][slot] * season * peak
        for kind, scale in (("MEASUREMENT", 1.0), ("SATELLITE", 1.03)):
            power = curve * scale * rng.uniform(0.8, 1.0, len(times))
            parts.append(
                pl.DataFrame(
                    {
                        "interval_datetime": times,
                        "regionid": area,
                        "type": kind,
                        "power": power,
                        "is_subregion": area in SUBREGIONS,
                    }
                )
            )
    add("rooftop", conform("rooftop", pl.concat(parts), "PUBLIC_ROOFTOP_PV_ACTUAL"))


def build(
    target: Path, *, years30: int, years5: int, end: datetime, seed: int
) -> dict[str, object]:
    """Generate the store and the peer files; returns what was built."""
    root = samples_dir()
    data = target / "data"
    shutil.rmtree(target, ignore_errors=True)
    registry, _ = build_registry([root / LIST])
    write_registry(registry, data / "registry" / "units.parquet")
    shapes = read_shapes(root, registry)
    duids = shapes.units["duid"].to_list()
    interconnectors = shapes.flows["interconnectorid"].to_list()
    rng = np.random.default_rng(seed)
    store = Store(data / "store")
    start30 = end - timedelta(days=round(365.25 * years30))
    start5 = end - timedelta(days=round(365.25 * years5))
    rows: dict[str, int] = {}
    began = time.perf_counter()

    def add(table: str, frame: pl.DataFrame) -> None:
        store.add_part(table, frame.sort(frame.columns[0], frame.columns[1]), level=CLOSED_LEVEL)
        rows[table] = rows.get(table, 0) + frame.height

    for lo, hi in _months(start30, end):
        month = lo.strftime("%Y-%m")
        half = _grid(lo, hi, MIN30)
        if hi > start5:
            lo5 = max(lo, start5)
            _five_minute_month(add, shapes, _grid(lo5, hi, MIN5), duids, interconnectors, rng)
            half = _grid(lo, lo5, MIN30) if lo5 > lo else half[:0]
        if len(half) > 1:
            _half_hour_month(add, shapes, half, duids, interconnectors, rng)
        _rooftop_month(add, shapes, _grid(lo, hi, MIN30), rng)
        rebuild_daily(store, month, registry.select("duid", "region"))
        print(
            f"  {month}: {sum(rows.values()):,} rows, {time.perf_counter() - began:.0f} s",
            flush=True,
        )
    store.close()
    peer = target / "peer"
    peer.mkdir(parents=True)
    reader_root = data / "store"
    for table in ("scada5", "scada30", "prices5", "prices30", "interconnector30", "rooftop"):
        files = sorted(str(p) for p in (reader_root / table).glob("month=*/*.parquet"))
        pl.scan_parquet(files).sink_parquet(peer / f"{table}.parquet")
    built = {
        "version": VERSION,
        "years30": years30,
        "years5": years5,
        "end": end.isoformat(),
        "seed": seed,
        "rows": rows,
        "duids": len(duids),
        "seconds": round(time.perf_counter() - began, 1),
        "bytes": sum(f.stat().st_size for f in (data / "store").rglob("*.parquet")),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, polars {pl.__version__}",
        "built_at": datetime.now().isoformat(timespec="seconds"),
    }
    (target / "built.json").write_text(json.dumps(built, indent=2))
    return built


def ensure(
    target: Path,
    *,
    years30: int = 5,
    years5: int = 1,
    end: datetime | None = None,
    seed: int = 7,
    force: bool = False,
) -> dict[str, object]:
    """The store at `target`, built unless an identical build is there."""
    end = end or datetime.combine(date.today(), datetime.min.time())
    marker = target / "built.json"
    if marker.exists() and not force:
        built: dict[str, object] = json.loads(marker.read_text())
        if (built.get("version"), built.get("years30"), built.get("years5"), built.get("seed")) == (
            VERSION,
            years30,
            years5,
            seed,
        ):
            return built
    return build(target, years30=years30, years5=years5, end=end, seed=seed)


def main() -> None:
    """Build (or reuse) the benchmark store and print its size."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--years30", type=int, default=5)
    parser.add_argument("--years5", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="rebuild even if a build is there")
    args = parser.parse_args()
    built = ensure(
        args.dir, years30=args.years30, years5=args.years5, seed=args.seed, force=args.force
    )
    json.dump(built, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
