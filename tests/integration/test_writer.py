"""The writer service with a real nats-server and real events: stored once, duplicates and
out-of-order events, invalid events dead-lettered, an unwritable store, a writer killed
mid-batch, and readers during writes and compactions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from nemstream_bus import DEAD_LETTER_STREAM, Bus, NatsServer
from nemstream_query import Query, QuerySettings
from nemstream_store import TABLES, TableReader
from nemstream_testing import SampleSet, metric, names, publish_all, running, wait_until
from nemstream_writer import Writer
from tests.integration.store_support import events, rows, writer_process, writer_settings

FILES = [
    names.DISPATCHIS_2025,
    names.DISPATCHIS_2020,
    names.TRADINGIS,
    names.SCADA,
    names.ROOFTOP_MEASUREMENT,
]
MONTHLY = names.PRICE_ARCHIVE


@pytest.fixture
async def writer(bus: Bus, tmp_path: Path) -> AsyncIterator[Writer]:
    async with running(Writer(writer_settings(tmp_path), bus)) as component:
        yield component


async def test_events_land_once_with_duplicates_and_out_of_order(
    samples: SampleSet, bus: Bus, writer: Writer
) -> None:
    live = events(samples, FILES)
    await publish_all(bus, list(reversed(live)))  # out of order
    await publish_all(bus, live, id_prefix="again:")  # the same data under other ids (a replay)
    store = writer.settings.store_dir

    async def all_in() -> bool:
        return writer.loop.handled == 2 * len(live)

    await wait_until(all_in)
    assert rows(store, "prices5").height == 10
    assert rows(store, "regionsum5").height == 10
    assert rows(store, "scada5").height == 390
    assert rows(store, "trading_prices").height == 5
    assert rows(store, "rooftop").height == 10
    for table in ("prices5", "scada5", "regionsum5", "interconnector5", "rooftop"):
        assert rows(store, table).select(TABLES[table].key).is_duplicated().sum() == 0


async def test_invalid_event_is_dead_lettered_and_the_rest_continue(
    samples: SampleSet, bus: Bus, writer: Writer
) -> None:
    good = events(samples, [names.TRADINGIS])
    body = json.loads(good[0].message.model_dump_json())
    body["rows"][0]["rrp"] = "not a price"
    await bus.publish(good[0].subject, json.dumps(body).encode(), msg_id="bad")
    await publish_all(bus, good)

    async def stored() -> bool:
        return rows(writer.settings.store_dir, "trading_prices").height == 5

    await wait_until(stored)

    async def dead() -> bool:
        return int((await bus.js.stream_info(DEAD_LETTER_STREAM)).state.messages) == 1

    await wait_until(dead)
    record = json.loads(
        (await bus.js.get_last_msg(DEAD_LETTER_STREAM, "deadletter.writer")).data or b""
    )
    assert "invalid nem.trading.price.v1 message" in record["reason"]


@pytest.mark.faults
async def test_unwritable_store_naks_alarms_and_recovers(
    samples: SampleSet, bus: Bus, writer: Writer
) -> None:
    async def started() -> bool:
        return writer.loop.bound

    await wait_until(started)  # the fault appears while the writer runs, not before it starts
    blocker = writer.settings.store_dir / "trading_prices"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the table's folder should be: writes fail")
    await publish_all(bus, events(samples, [names.TRADINGIS]))

    async def alarmed() -> bool:
        return not writer.writable and metric("nemstream_writer_store_unwritable") == 1

    await wait_until(alarmed)
    blocker.unlink()  # space freed / permissions fixed

    async def recovered() -> bool:
        return writer.writable and rows(writer.settings.store_dir, "trading_prices").height == 5

    await wait_until(recovered, within=30)


@pytest.mark.parametrize("point", ["part_written", "manifest_swapped"])
@pytest.mark.faults
async def test_writer_killed_mid_batch_loses_and_doubles_nothing(
    samples: SampleSet, bus: Bus, nats_server: NatsServer, tmp_path: Path, point: str
) -> None:
    month = events(samples, [MONTHLY])  # 1440 intervals of real prices
    await publish_all(bus, month)
    crashed = await writer_process(nats_server, tmp_path, NEMSTREAM_CRASH_AT=point)
    _, stderr = await asyncio.wait_for(crashed.communicate(), 60)
    assert crashed.returncode == 86, stderr[-2000:]
    survivor = await writer_process(nats_server, tmp_path)
    store = tmp_path / "store"

    async def complete() -> bool:
        return rows(store, "prices5").height == 2880

    try:
        await wait_until(complete, within=90)
    finally:
        survivor.terminate()
        _, stderr = await asyncio.wait_for(survivor.communicate(), 30)
    assert survivor.returncode == 0, stderr[-2000:]
    prices = rows(store, "prices5")
    assert prices.select(TABLES["prices5"].key).is_duplicated().sum() == 0
    assert not list(store.rglob("*.tmp"))


async def test_readers_never_fail_during_writes_and_compactions(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    writer = Writer(
        writer_settings(tmp_path, writer_batch=40, compact_every_s=0.3, compact_min_parts=3), bus
    )
    task = asyncio.create_task(writer.run())
    month = events(samples, [MONTHLY])
    counts: list[int] = []
    failures: list[str] = []
    done = asyncio.Event()

    query = Query(QuerySettings(data_dir=writer.settings.data_dir, query_cache_size=0))
    answered: list[int] = []

    async def read_continuously() -> None:
        reader = TableReader(writer.settings.store_dir)
        connection = duckdb.connect()
        while not done.is_set():
            try:  # the query layer, as the dashboard reads: statistics over the whole month
                stats = query.price_stats(datetime(2026, 3, 1), datetime(2026, 4, 1))
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(f"query: {exc!r}")
            else:
                answered.append(int(stats["intervals5"].sum()))
            files = reader.files("prices5")
            if files:
                try:
                    count, distinct = connection.execute(
                        "select count(*), count(distinct (settlementdate, regionid, intervention)) "
                        "from read_parquet($files, hive_partitioning = true)",
                        {"files": files},
                    ).fetchone() or (0, 0)
                except duckdb.Error as exc:
                    failures.append(repr(exc))
                else:
                    counts.append(count)
                    if count != distinct:
                        failures.append(f"{count} rows but {distinct} keys")
            await asyncio.sleep(0.01)

    reading = asyncio.create_task(read_continuously())
    try:
        for start in range(0, len(month), 60):
            await publish_all(bus, month[start : start + 60])
            await asyncio.sleep(0.05)

        async def all_in() -> bool:
            return rows(writer.settings.store_dir, "prices5").height == 2880

        await wait_until(all_in, within=60)
        await writer.maintain()
    finally:
        done.set()
        await reading
        writer.loop.stop.set()
        await task
    query.close()
    assert failures == []
    assert counts == sorted(counts) and counts[-1] == 2880  # never shrinks, never doubles
    assert answered == sorted(answered) and max(answered) <= 2880 and len(answered) > 5
    assert len(TableReader(writer.settings.store_dir).files("prices5")) <= 3
