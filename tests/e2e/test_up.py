"""`nemstream up --offline`: the whole stack as operators run it (embedded nats-server, the
mirror over the samples, four fetchers, the writer, the aggregator, alerts and mailer as
processes) delivers every sample interval onto the bus and into the parquet store, where the
query layer reads it; every service answers on its own health port even with one
NEMSTREAM_METRICS_PORT in the environment; then it stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

import httpx

from nemstream_bus import BusSettings, connect
from nemstream_query import Query, QuerySettings
from nemstream_store import TableReader
from nemstream_testing import (
    SampleSet,
    Stored,
    free_port,
    free_port_block,
    stream_messages,
    wait_until,
)

FEEDS = {"dispatch", "trading", "scada", "rooftop"}  # what the fetchers publish


async def test_up_offline_delivers_every_sample_interval(
    samples: SampleSet, tmp_path: Path
) -> None:
    nats_port, mirror_port, ports_from = free_port(), free_port(), free_port_block(8)
    env = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "NEMSTREAM_SAMPLES_DIR": str(samples.root),
        "NEMSTREAM_POLL_FAST_S": "0.2",
        # one port for all in the environment: `up` must still give each service its own
        "NEMSTREAM_METRICS_PORT": str(free_port()),
    }
    env.pop("NEMSTREAM_NATS_URL", None)
    stack = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nemstream",
        "up",
        "--offline",
        "--release-every",
        "0.5",
        "--nats-port",
        str(nats_port),
        "--mirror-port",
        str(mirror_port),
        "--ports-from",
        str(ports_from),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[bytes] = []

    async def read() -> None:
        assert stack.stdout is not None
        while line := await stack.stdout.readline():
            output.append(line)

    reader = asyncio.create_task(read())
    store = tmp_path / "data" / "store"
    try:

        async def nats_up() -> bool:
            return any(b"stack_up" in line for line in output)

        await wait_until(nats_up, within=60)
        (announced,) = [json.loads(line) for line in output if b'"stack_up"' in line]
        health = dict(announced["services"])
        assert len(set(health.values())) == 8

        async def all_ready() -> bool:
            async with httpx.AsyncClient(timeout=2) as http:
                for url in health.values():
                    try:
                        if (await http.get(url)).status_code != 200:
                            return False
                    except httpx.HTTPError:
                        return False
            return True

        await wait_until(all_ready, within=90)
        bus = await connect(
            BusSettings(nats_url=f"nats://127.0.0.1:{nats_port}"), name="e2e", wait_s=10
        )
        try:

            async def five_minute() -> list[Stored]:
                messages = await stream_messages(bus)
                return [
                    m
                    for m in messages
                    if m.subject.split(".")[1] in FEEDS and ".30min." not in m.subject
                ]

            async def delivered() -> bool:
                try:
                    return len(await five_minute()) >= 10
                except Exception:  # noqa: BLE001 - the stream appears with the first fetcher
                    return False

            await wait_until(delivered, within=90)
            stored = await five_minute()

            async def in_store() -> bool:
                return all(TableReader(store).files(t) for t in ("prices5", "scada5", "rooftop"))

            await wait_until(in_store, within=60)
            query = Query(QuerySettings(data_dir=tmp_path / "data"))
            try:
                stats = query.price_stats(datetime(2020, 1, 1), datetime(2026, 1, 1))
                fuels = query.generation_by_fuel(
                    datetime(2021, 9, 2, 12), datetime(2021, 9, 2, 13), rooftop=False
                )
            finally:
                query.close()
        finally:
            await bus.close()
    finally:
        stack.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(stack.wait(), 60)
        await reader
    text = b"".join(output).decode("utf-8", "replace")
    assert len(stored) == 10 and len({m.msg_id for m in stored}) == 10
    # the 2020 DispatchIS and the 2025 DispatchIS sample: five regions each
    assert set(stats["region"]) == {"NSW1", "QLD1", "SA1", "TAS1", "VIC1"}
    assert (stats["intervals5"] == 2).all()
    # the real SCADA interval, attributed to fuels by the registry built from the samples
    assert fuels["interval"].unique().to_list() == [datetime(2021, 9, 2, 12, 55)]
    assert {"coal", "wind", "solar"} <= set(fuels["fuel"])
    for prefix in (
        "[mirror]",
        "[fetch:dispatch]",
        "[fetch:trading]",
        "[fetch:scada]",
        "[fetch:rooftop]",
        "[write]",
        "[aggregate]",
        "[alerts]",
        "[mailer]",
    ):
        assert prefix in text
    assert "stack_stopped" in text and code == 0
    assert "Traceback" not in text
    assert "service_exited" not in text and "address already in use" not in text
    assert "sms_dry_run_mode" in text  # no Twilio credentials: alerts are logged, not sent
