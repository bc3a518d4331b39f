"""`nemstream up --offline`: the whole stack as operators run it (embedded nats-server, the
mirror over the samples, four fetchers, the writer, the aggregator, alerts and mailer as
processes). Before the mirror starts, the samples' history (the whole day of DispatchIS in
``history/``, the MMSDM/ARCHIVE months, the SCADA interval in ``other/``) is replayed onto the bus
with the live subjects and message ids, and the writer and the aggregator store it like live
data; then every interval the mirror releases is delivered too. The query layer reads it all;
every service answers on its own health port even with one NEMSTREAM_METRICS_PORT in the
environment; then it stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from datetime import datetime
from pathlib import Path

import httpx
import polars as pl

import nemstream_nemweb as nemweb
from nemstream_bus import BusSettings, connect
from nemstream_contracts import message_id
from nemstream_mirror import build_catalog
from nemstream_query import Query, QuerySettings
from nemstream_store import TableReader
from nemstream_testing import (
    SampleSet,
    Stored,
    free_port,
    free_port_block,
    names,
    stream_messages,
    wait_until,
)

FEEDS = {"dispatch", "trading", "scada", "rooftop"}  # what the fetchers publish
DAY = (datetime(2019, 5, 16), datetime(2019, 5, 16, 23, 55))  # the day's DispatchIS files
HALF_HOURS = (datetime(2019, 5, 16, 0, 30), datetime(2019, 5, 16, 23, 30))  # whole ones
MARCH_2026 = (datetime(2026, 3, 1, 0, 5), datetime(2026, 4, 1))  # the price ARCHIVE's month
DECEMBER_2019 = (datetime(2019, 12, 1, 0, 30), datetime(2020, 1, 1))  # the rooftop month
FIRST_ID = (  # the day's first DispatchIS file, its price table, as the fetcher names it live
    "dispatch:PUBLIC_DISPATCHIS_201905160000_0000000307931755.zip:DISPATCH,PRICE:201905160000"
)
REGIONS = {"NSW1", "QLD1", "SA1", "TAS1", "VIC1"}
LIVE_ID = re.compile(r"^(dispatch|trading|scada|rooftop):[^:]+:[A-Z_]+,[A-Z_]+[^:]*:\d{12}$")
_DAY_FILE = re.compile(r"^PUBLIC_DISPATCHIS_(\d{12})_\d+\.zip$")


def _stored(store: Path, table: str, column: str, first: datetime, last: datetime) -> pl.DataFrame:
    """A table's rows with `column` (interval ending, NEM time) from `first` to `last`
    inclusive, as the writer's parts hold them now."""
    files = TableReader(store).files(table)
    if not files:
        return pl.DataFrame({column: [], "regionid": []})
    return pl.read_parquet(files).filter(pl.col(column).is_between(first, last))


def _day_ids(samples: SampleSet) -> set[str]:
    """The live message ids of the day's DispatchIS files: feed:file:table:YYYYMMDDHHMM."""
    ids: set[str] = set()
    for path in samples.folder(names.HISTORY_DAY).iterdir():
        match = _DAY_FILE.match(path.name)
        assert match, path.name
        interval = datetime.strptime(match.group(1), "%Y%m%d%H%M")
        for table in ("DISPATCH,PRICE", "DISPATCH,REGIONSUM", "DISPATCH,INTERCONNECTORRES"):
            ids.add(message_id("dispatch", path.name, table, interval))
    return ids


async def test_up_offline_loads_history_then_delivers_every_sample_interval(
    samples: SampleSet, tmp_path: Path
) -> None:
    nats_port, mirror_port, ports_from = free_port(), free_port(), free_port_block(9)
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
    # what the mirror releases as live interval reports, by the name it serves them under
    released = {f.name for f in build_catalog(samples.root).files.values() if f.releasable}
    try:

        async def stack_up() -> bool:
            return any(b"stack_up" in line for line in output)

        await wait_until(stack_up, within=90)  # after the history preload
        (announced,) = [json.loads(line) for line in output if b'"stack_up"' in line]
        health = dict(announced["services"])
        # a fetcher per feed, 4 consumers, dashboard, API, status
        assert len(set(health.values())) == len(nemweb.FEEDS) + 7

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
                live = [m for m in await five_minute() if m.msg_id.split(":")[1] in released]
                return len(live) >= 10

            await wait_until(delivered, within=90)
            stored = await five_minute()

            async def in_store() -> bool:
                live = all(TableReader(store).files(t) for t in ("scada5", "trading_prices"))
                return (
                    live
                    and _stored(store, "prices5", "settlementdate", *DAY).height >= 1440
                    and _stored(store, "prices5", "settlementdate", *MARCH_2026).height >= 2880
                    and _stored(store, "rooftop", "interval_datetime", *DECEMBER_2019)
                    .select("interval_datetime")
                    .n_unique()
                    >= 1488
                    and _stored(store, "prices30", "settlementdate", *HALF_HOURS).height >= 235
                )

            await wait_until(in_store, within=60)
            query = Query(QuerySettings(data_dir=tmp_path / "data"))
            try:
                stats = query.price_stats(datetime(2020, 1, 1), datetime(2026, 1, 1))
                fuels = query.generation_by_fuel(
                    datetime(2021, 9, 2, 12), datetime(2021, 9, 2, 13), rooftop=False
                )
                fuels_2019 = query.generation_by_fuel(
                    datetime(2019, 4, 29, 16), datetime(2019, 4, 29, 17), rooftop=False
                )
            finally:
                query.close()
            day = _stored(store, "prices5", "settlementdate", *DAY)
            month = _stored(store, "prices5", "settlementdate", *MARCH_2026)
            roof = _stored(store, "rooftop", "interval_datetime", *DECEMBER_2019)
            halves = _stored(store, "prices30", "settlementdate", *HALF_HOURS)
        finally:
            await bus.close()
    finally:
        stack.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(stack.wait(), 60)
        await reader
    text = b"".join(output).decode("utf-8", "replace")
    lines = text.splitlines()

    # the live path: every interval report the mirror releases, once, with its live id
    live = [m for m in stored if m.msg_id.split(":")[1] in released]
    history = [m for m in stored if m.msg_id.split(":")[1] not in released]
    assert len(live) == 10 and len({m.msg_id for m in live}) == 10
    # the history: through the bus, before the mirror released anything, with live ids
    assert len({m.msg_id for m in history}) == len(history) > 1440
    assert stored.index(live[0]) > stored.index(history[-1])
    assert all(LIVE_ID.match(m.msg_id) for m in stored)
    assert _day_ids(samples) <= {m.msg_id for m in history}
    assert FIRST_ID in {m.msg_id for m in history}

    # in the store as the writer and the aggregator store live data
    assert day.select("settlementdate", "regionid").n_unique() == 1440  # 288 intervals x 5
    assert set(day["regionid"]) == REGIONS
    assert day["source_file"].str.starts_with("PUBLIC_DISPATCHIS_20190516").all()
    # the March 2026 price ARCHIVE: five trading days of NSW1 and SA1
    assert month.select("settlementdate").n_unique() == 1440
    assert set(month["regionid"]) == {"NSW1", "SA1"}
    assert roof.select("interval_datetime").n_unique() == 1488  # every half-hour of Dec 2019
    assert set(roof["type"]) == {"MEASUREMENT", "SATELLITE"}
    # the aggregator's half-hours of the day, from the replayed 5-minute prices: 47 whole ones
    # (00:30 to 23:30; 00:00 and 24:00 lack values of the days either side)
    assert (halves["intervals"] == 6).all()
    assert sorted(halves.group_by("regionid").len()["len"]) == [47] * 5

    # the 2020 DispatchIS and the 2025 DispatchIS sample: five regions each
    assert set(stats["region"]) == REGIONS
    assert (stats["intervals"] == 2).all()
    # the real SCADA intervals, attributed to fuels by the registry built from the samples:
    # 2021-09-02 12:55 released by the mirror, 2019-04-29 16:30 from other/ by the preload
    assert fuels["interval"].unique().to_list() == [datetime(2021, 9, 2, 12, 55)]
    assert {"coal", "wind", "solar"} <= set(fuels["fuel"])
    assert fuels_2019["interval"].unique().to_list() == [datetime(2019, 4, 29, 16, 30)]

    history_lines = [line for line in lines if line.startswith("[history] ")]
    assert any("replay_read" in line for line in history_lines)
    assert any(line.startswith("[history] replayed ") for line in history_lines)
    assert any("replay_skipped_file" in line for line in history_lines)  # bids, the CO2EII list
    loaded = next(i for i, line in enumerate(lines) if '"history_loaded"' in line)
    first_mirror = next(i for i, line in enumerate(lines) if line.startswith("[mirror]"))
    first_fetch = next(i for i, line in enumerate(lines) if line.startswith("[fetch:"))
    assert loaded < first_mirror and loaded < first_fetch
    for prefix in (
        "[history]",
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
    assert "history_failed" not in text and "replay_unreadable_file" not in text
    assert "sms_dry_run_mode" in text  # no Twilio credentials: alerts are logged, not sent
