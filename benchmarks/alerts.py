"""Alert latency: from a price file appearing on the mirror to the SMS request reaching the
(local) Twilio endpoint, through the real fetcher, nats-server, price-alert service and `twilio`
client, p50/p95 over many files; beside it the same measure for the older tool's blind poll
every 4.5 minutes.

    uv run python benchmarks/alerts.py [--files 40] [--every 2]

The files are the real ``sample_dispatchis.csv`` re-stamped to consecutive intervals, with SA1's
RRP set alternately to $1,500 and $100 so that every file is a transition (high, recovered) and
sends one SMS. They are built at run time and never committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import BLIND_POLL_S, SAMPLE, _percentiles, _restamped, _samples
from nemstream_alerts import AlertSettings, PriceAlerts
from nemstream_bus import BusSettings, NatsServer, connect
from nemstream_fetcher import Fetcher, FetcherSettings
from nemstream_mirror import running_mirror
from nemstream_nemweb import NemwebClient, NemwebSettings
from nemstream_runtime import configure_logging
from nemstream_testing.twilio import running_fake_twilio


def with_sa1_price(report: bytes, rrp: float) -> bytes:
    """The report with SA1's DISPATCH,PRICE RRP replaced (both runs), columns found by name."""
    lines = report.split(b"\n")
    column = None
    for index, line in enumerate(lines):
        fields = line.rstrip(b"\r").split(b",")
        if fields[:3] == [b"I", b"DISPATCH", b"PRICE"]:
            column = fields.index(b"RRP")
        elif fields[:3] == [b"D", b"DISPATCH", b"PRICE"] and column and b"SA1" in fields[4:8]:
            fields[column] = f"{rrp}".encode()
            ending = b"\r" if line.endswith(b"\r") else b""
            lines[index] = b",".join(fields) + ending
    return b"\n".join(lines)


async def measure(work: Path, files: int, every: float) -> dict[str, object]:
    """Release `files` files `every` seconds apart; time each to its SMS request."""
    template = (_samples() / SAMPLE).read_bytes()
    folder = work / "files"
    folder.mkdir()
    start = datetime(2026, 1, 1, 0, 5)
    for i in range(files):
        body = with_sa1_price(template, 1500.0 if i % 2 == 0 else 100.0)
        name, data = _restamped(body, start + timedelta(minutes=5 * i), 700_000_000 + i)
        (folder / name).write_bytes(data)
    server = NatsServer(work / "nats")
    await server.start()
    fetch_bus = await connect(BusSettings(nats_url=server.url), name="bench-fetcher")
    alert_bus = await connect(BusSettings(nats_url=server.url), name="bench-alerts")
    await fetch_bus.ensure_streams()
    async with (
        running_fake_twilio() as twilio,
        running_mirror(folder, release_every=every) as mirror,
    ):
        settings = AlertSettings(
            twilio_account_sid=twilio.account,
            twilio_auth_token=twilio.token,
            twilio_from="+61400000000",
            twilio_base_url=twilio.url,
            alert_sms_to="+61411111111",
            alert_regions="SA1",
            alert_max_age_s=1e10,
            metrics_port=-1,
        )
        alerts = PriceAlerts(settings, alert_bus)
        await alerts.start()
        alerting = asyncio.create_task(alerts.loop.run())
        fetch_settings = FetcherSettings(
            feed="dispatch", data_dir=work / "data", cadence_s=every, metrics_port=-1
        )
        async with NemwebClient(NemwebSettings(nemweb_url=mirror.url)) as client:
            fetcher = Fetcher(fetch_settings, fetch_bus, client)
            await fetcher.start()
            fetching = asyncio.create_task(fetcher.run())
            deadline = time.monotonic() + files * every + 60
            while len(twilio.accepted) < files and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # a bounded poll of the fake's record
            fetcher.stop.set()
            await fetching
        alerts.loop.stop.set()
        await alerting
        released = sorted(
            item.modified.replace(tzinfo=UTC).timestamp()
            for item in mirror.state.catalog.files.values()
            if item.released and item.parsed is not None
        )
        arrived = sorted(r.received for r in twilio.accepted)
    await fetch_bus.close()
    await alert_bus.close()
    await server.stop()
    latencies = [a - r for r, a in zip(released, arrived, strict=False)]
    rng = random.Random(7)
    blind = [(rng.uniform(0, BLIND_POLL_S) - r) % BLIND_POLL_S + min(latencies) for r in released]
    return {"sms": len(arrived), "ours": _percentiles(latencies), "blind": _percentiles(blind)}


def _row(values: tuple[float, float, float], digits: int) -> str:
    return " | ".join(f"{v:.{digits}f}" for v in values) + " |"


def main() -> None:
    """Measure and print markdown for RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between releases")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="nemstream-alerts-") as scratch:
        result = asyncio.run(measure(Path(scratch), args.files, args.every))
    ours, blind = result["ours"], result["blind"]
    assert isinstance(ours, tuple) and isinstance(blind, tuple)
    print(f"## Alert latency — `benchmarks/alerts.py` ({date.today().isoformat()})\n")
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}\n")
    print(
        f"{args.files} price files released {args.every:g} s apart, each a transition; "
        f"{result['sms']} SMS requests received.\n"
    )
    print("| | p50 s | p95 s | max s |")
    print("|---|---|---|---|")
    print("| nemstream: file on the mirror → SMS request at Twilio | " + _row(ours, 2))
    print("| blind poll every 4.5 min (older tool), same release times | " + _row(blind, 1))


if __name__ == "__main__":
    main()
