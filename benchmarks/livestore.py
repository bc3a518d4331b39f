"""What the benchmarks that write to the scale store share: a hard-linked working copy of it
(the original is never changed), the live events of one 5-minute interval for every unit, and
the figures they report (percentiles, a process's peak RSS)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from nemstream_bus import Bus
from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_PRICE,
    SCADA_UNIT,
    DispatchInterconnector,
    DispatchPrice,
    DispatchPriceRow,
    InterconnectorRow,
    UnitScada,
    UnitScadaRow,
    message_id,
)
from nemstream_market import NEM_TZ, REGIONS

INTERCONNECTORS = ("N-Q-MNSP1", "NSW1-QLD1", "T-V-MNSP1", "V-S-MNSP1", "V-SA", "VIC1-NSW1")


async def linked_copy(target: Path, work: Path) -> Path:
    """A working copy of the scale store under `work` (parquet hard-linked, the index copied:
    it changes in place); returns its data folder."""
    shutil.rmtree(work, ignore_errors=True)
    data = work / "data"
    data.mkdir(parents=True)
    copy = await asyncio.create_subprocess_exec(
        "cp", "-al", str(target / "data" / "store"), str(data / "store")
    )
    assert await copy.wait() == 0
    for name in ("_index.sqlite", ".writer.lock"):
        (data / "store" / name).unlink(missing_ok=True)
    shutil.copy2(target / "data" / "store" / "_index.sqlite", data / "store")
    shutil.copytree(target / "data" / "registry", data / "registry")
    return data


def registry_units(data: Path) -> pl.DataFrame:
    """The registry's DUIDs and capacities (what the live SCADA is drawn for)."""
    return pl.read_parquet(data / "registry" / "units.parquet").select("duid", "capacity_mw")


async def publish_interval(
    bus: Bus, units: pl.DataFrame, interval: datetime, rng: np.random.Generator
) -> tuple[int, int]:
    """Publish one interval as the fetcher would (5-minute SCADA for every unit, the regions'
    prices, the interconnectors' flows); returns (messages, rows)."""
    at = interval.replace(tzinfo=NEM_TZ)
    capacity = units["capacity_mw"].fill_null(30.0).to_numpy()
    values = capacity * rng.uniform(0, 0.9, len(capacity))
    scada_file = f"PUBLIC_DISPATCHSCADA_{interval:%Y%m%d%H%M}_0000000000000001.zip"
    dispatch_file = f"PUBLIC_DISPATCHIS_{interval:%Y%m%d%H%M}_0000000000000001.zip"
    scada = UnitScada(
        feed="scada",
        source_file=scada_file,
        interval=at,
        rows=[
            UnitScadaRow(duid=d, scadavalue=float(v))
            for d, v in zip(units["duid"], values, strict=True)
        ],
    )
    price = DispatchPrice(
        feed="dispatch",
        source_file=dispatch_file,
        interval=at,
        rows=[
            DispatchPriceRow(regionid=r, intervention=0, rrp=float(rng.normal(80, 30)))
            for r in REGIONS
        ],
    )
    flows = DispatchInterconnector(
        feed="dispatch",
        source_file=dispatch_file,
        interval=at,
        rows=[
            InterconnectorRow(
                interconnectorid=i,
                intervention=0,
                meteredmwflow=100.0,
                mwflow=100.0,
                mwlosses=1.0,
            )
            for i in INTERCONNECTORS
        ],
    )
    rows = 0
    messages: list[tuple[Any, Any, str]] = [
        (SCADA_UNIT, scada, "scada.unit"),
        (DISPATCH_PRICE, price, "dispatch.price"),
        (DISPATCH_INTERCONNECTOR, flows, "dispatch.interconnector"),
    ]
    for subject, message, table in messages:
        await bus.publish(
            subject,
            message,
            msg_id=message_id(message.feed, message.source_file, table, interval),
        )
        rows += len(message.rows)
    return len(messages), rows


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (what a p95 of 10 loads can honestly be)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def vm_hwm_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
