"""Latency from a file appearing on NEMWeb to its event reaching a subscriber, and backfill
throughput, on this machine, with a real nats-server and the local mirror.

    uv run python benchmarks/latency.py            # or: make bench-latency

* Latency: the mirror releases one DispatchIS file every ``--every`` seconds (the files are the
  real ``sample_dispatchis.csv`` re-stamped to consecutive intervals at run time, never
  committed); a fetcher with default settings (told the release cadence, as the live site's is
  known) publishes; a subscriber records when each file's price event arrives. Beside it, the
  same measure for the older tools' blind poll every 4.5 minutes, computed for the same release
  times (poll phase random), plus our own processing time.
* Backfill: an ARCHIVE day zip of 288 such 5-minute zips served by the mirror, and the real
  MMSDM monthly DISPATCHPRICE file, published by `backfill`; intervals per second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import random
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from nemstream_bus import BusSettings, NatsServer, connect
from nemstream_fetcher import Fetcher, FetcherSettings, backfill
from nemstream_mirror import running_mirror
from nemstream_nemweb import NemwebClient, NemwebSettings
from nemstream_runtime import configure_logging
from nemstream_testing import names

SAMPLE = names.DISPATCHIS_2025
SAMPLE_INTERVAL = b"2025/12/27 00:05:00"
MONTHLY = names.PRICE_ARCHIVE
BLIND_POLL_S = 270.0


def _samples() -> Path:
    configured = os.environ.get("NEMSTREAM_SAMPLES_DIR")
    return (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "shared" / "nemweb"
    )


def _restamped(template: bytes, interval: datetime, report_id: int) -> tuple[str, bytes]:
    """The real DispatchIS report carrying another interval (a zip named as NEMWeb names it)."""
    stem = f"PUBLIC_DISPATCHIS_{interval:%Y%m%d%H%M}_{report_id:016d}"
    body = template.replace(SAMPLE_INTERVAL, interval.strftime("%Y/%m/%d %H:%M:%S").encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.CSV", body)
    return f"{stem}.zip", buffer.getvalue()


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


async def measure_latency(work: Path, files: int, every: float) -> dict[str, object]:
    """Release `files` files `every` seconds apart; latency of each to its subscriber."""
    template = (_samples() / SAMPLE).read_bytes()
    folder = work / "latency"
    folder.mkdir()
    start = datetime(2026, 1, 1, 0, 5)
    for i in range(files):
        name, data = _restamped(template, start + timedelta(minutes=5 * i), 500_000_000 + i)
        (folder / name).write_bytes(data)
    server = NatsServer(work / "nats-latency")
    await server.start()
    bus = await connect(BusSettings(nats_url=server.url), name="bench-fetcher")
    listener = await connect(BusSettings(nats_url=server.url), name="bench-subscriber")
    received: dict[str, float] = {}
    all_in = asyncio.Event()

    async def on_price(message: object) -> None:
        headers = getattr(message, "headers", None) or {}
        source = headers.get("Nats-Msg-Id", "").split(":")[1]
        received.setdefault(source, time.time())
        if len(received) >= files:
            all_in.set()

    await listener.nc.subscribe("nem.dispatch.price.v1", cb=on_price)
    async with running_mirror(folder, release_every=every) as mirror:
        settings = FetcherSettings(
            feed="dispatch", data_dir=work / "data", cadence_s=every, metrics_port=-1
        )
        async with NemwebClient(NemwebSettings(nemweb_url=mirror.url)) as client:
            fetcher = Fetcher(settings, bus, client)
            await fetcher.start()
            task = asyncio.create_task(fetcher.run())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), files * every + 60)
            fetcher.stop.set()
            await task
        released = {
            item.name: item.modified.replace(tzinfo=UTC).timestamp()
            for item in mirror.state.catalog.files.values()
            if item.released and item.parsed is not None
        }
    await listener.close()
    await bus.close()
    await server.stop()
    latencies = [received[name] - released[name] for name in released if name in received]
    rng = random.Random(7)
    processing = statistics.median(latencies)  # what our own parse and publish add, at most
    blind = []
    for name in sorted(released):
        phase = rng.uniform(0, BLIND_POLL_S)
        wait = (phase - released[name]) % BLIND_POLL_S
        blind.append(wait + min(processing, 0.5))
    return {
        "files": len(latencies),
        "ours": _percentiles(latencies),
        "blind": _percentiles(blind),
        "every": every,
        "fast_poll": settings.poll_fast_s,
    }


async def measure_backfill(work: Path) -> list[tuple[str, int, float]]:
    """Intervals per second backfilling a day archive (mirror) and a monthly MMSDM file."""
    template = (_samples() / SAMPLE).read_bytes()
    folder = work / "archive"
    folder.mkdir()
    day = date(2026, 2, 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(288):
            interval = datetime(2026, 2, 1, 0, 5) + timedelta(minutes=5 * i)
            name, data = _restamped(template, interval, 600_000_000 + i)
            archive.writestr(name, data)
    (folder / f"PUBLIC_DISPATCHIS_{day:%Y%m%d}.zip").write_bytes(buffer.getvalue())
    server = NatsServer(work / "nats-backfill")
    await server.start()
    bus = await connect(BusSettings(nats_url=server.url), name="bench-backfill")
    rows = []
    async with (
        running_mirror(folder) as mirror,
        NemwebClient(NemwebSettings(nemweb_url=mirror.url)) as client,
    ):
        result = await backfill(bus, client, "dispatch", day, day, progress=False)
        rows.append(
            (
                "ARCHIVE day zip of 288 DispatchIS zips (3 tables each)",
                len(result.intervals),
                result.seconds,
            )
        )
        monthly = await backfill(
            bus,
            client,
            "dispatch",
            date(2026, 3, 1),
            date(2026, 3, 31),
            sources=[str(_samples() / MONTHLY)],
            progress=False,
        )
        rows.append(
            ("MMSDM monthly DISPATCHPRICE (1 table)", len(monthly.intervals), monthly.seconds)
        )
    await bus.close()
    await server.stop()
    return rows


def main() -> None:
    """Run both measurements and print markdown for RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between releases")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="nemstream-latency-") as scratch:
        work = Path(scratch)
        latency = asyncio.run(measure_latency(work, args.files, args.every))
        throughput = asyncio.run(measure_backfill(work))
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    print(f"## Latency and backfill — `benchmarks/latency.py` ({date.today().isoformat()})\n")
    print(f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    ours, blind = latency["ours"], latency["blind"]
    assert isinstance(ours, tuple) and isinstance(blind, tuple)
    print(
        f"File appearing on the mirror → its `nem.dispatch.price.v1` event at a subscriber, "
        f"{latency['files']} files released every {latency['every']} s, fetcher defaults "
        f"(fast poll {latency['fast_poll']} s):\n"
    )
    print("| | p50 s | p95 s | max s |\n|---|---|---|---|")
    print(f"| nemstream (adaptive poll) | {ours[0]:.2f} | {ours[1]:.2f} | {ours[2]:.2f} |")
    print(
        f"| blind poll every 4.5 min (computed) | {blind[0]:.1f} | {blind[1]:.1f} "
        f"| {blind[2]:.1f} |"
    )
    print("\nBackfill throughput:\n")
    print("| source | intervals | seconds | intervals/s |\n|---|---|---|---|")
    for label, count, seconds in throughput:
        print(f"| {label} | {count} | {seconds:.1f} | {count / seconds:.0f} |")


if __name__ == "__main__":
    main()
