"""The aggregator with real prices and SCADA through a real nats-server: complete half-hours,
partial ones after the watermark, late corrections, restarts, and archive history with the
same ids as live aggregation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import polars as pl
import pytest

from nemstream_aggregator import Aggregator, AggregatorSettings, publish_archive, window_end
from nemstream_bus import Bus
from nemstream_contracts import DISPATCH_PRICE_30MIN, SCADA_UNIT_30MIN
from nemstream_fetcher import Event, replay, report_events
from nemstream_mms import iter_reports, read_report, views
from nemstream_testing import SampleSet, Stored, names, running, stream_messages, wait_until

MONTHLY = names.PRICE_ARCHIVE


def settings(**overrides: object) -> AggregatorSettings:
    options: dict[str, object] = {"metrics_port": -1, "sweep_every_s": 0.2}
    options.update(overrides)
    return AggregatorSettings(**options)  # type: ignore[arg-type]


async def thirty(bus: Bus, subject: str = DISPATCH_PRICE_30MIN) -> list[Stored]:
    return await stream_messages(bus, subject=subject)


@pytest.fixture
async def aggregator(bus: Bus) -> AsyncIterator[Aggregator]:
    async with running(Aggregator(settings(), bus)) as component:
        yield component


def test_half_hour_windows_are_interval_ending() -> None:
    assert window_end(datetime(2026, 3, 1, 0, 5)) == datetime(2026, 3, 1, 0, 30)
    assert window_end(datetime(2026, 3, 1, 0, 30)) == datetime(2026, 3, 1, 0, 30)
    assert window_end(datetime(2026, 3, 1, 0, 35)) == datetime(2026, 3, 1, 1, 0)
    assert window_end(datetime(2026, 3, 1, 0, 0)) == datetime(2026, 3, 1, 0, 0)


async def test_a_month_of_real_prices_gives_the_exact_half_hourly_means(
    samples: SampleSet, bus: Bus, aggregator: Aggregator
) -> None:
    prices = views.pricing_run(views.dispatch_price(read_report(samples.path(MONTHLY))))
    expected = (
        prices.with_columns(
            (
                (pl.col("settlementdate") - timedelta(microseconds=1)).dt.truncate("30m")
                + timedelta(minutes=30)
            ).alias("end")
        )
        .group_by("end", "regionid")
        .agg(pl.col("rrp").mean(), pl.len().alias("n"))
    )
    windows = expected["end"].n_unique()
    # the sample keeps 3 + 2 whole days: the half-hours at its two cuts are incomplete
    assert expected.filter(pl.col("n") < 6)["end"].n_unique() == 2
    await replay(bus, [samples.path(MONTHLY)], speed=0)

    async def all_half_hours() -> bool:
        return len(await thirty(bus)) == windows

    await wait_until(all_half_hours, within=60)
    got = {}
    for message in await thirty(bus):
        end = datetime.fromisoformat(message.body["interval"]).replace(tzinfo=None)
        for row in message.body["rows"]:
            got[(end, row["key"])] = (row["mean"], row["intervals"], message.body["complete"])
    assert len(got) == expected.height
    for end, region, mean, count in expected.iter_rows():
        assert got[(end, region)][0] == pytest.approx(mean)
        assert got[(end, region)][1:] == (count, count == 6)


def _price_events(samples: SampleSet) -> list[Event]:
    return [e for r in iter_reports(samples.path(MONTHLY)) for e in report_events("dispatch", r)]


async def test_partial_half_hour_after_the_watermark_then_a_late_correction(
    samples: SampleSet, bus: Bus, aggregator: Aggregator
) -> None:
    events = _price_events(samples)
    first = events[:4]  # 00:05 .. 00:20 of the first half-hour
    later = [e for e in events if e.interval >= first[0].interval + timedelta(minutes=45)][:1]
    for event in first + later:
        await bus.publish(event.subject, event.message, msg_id=event.msg_id)

    async def partial() -> bool:
        return len(await thirty(bus)) >= 1

    await wait_until(partial)
    (emitted,) = await thirty(bus)
    assert emitted.body["complete"] is False
    assert {r["intervals"] for r in emitted.body["rows"]} == {4}
    for event in events[4:6]:  # the two late intervals arrive
        await bus.publish(event.subject, event.message, msg_id=event.msg_id)

    async def same_half_hour() -> list[Stored]:
        return [m for m in await thirty(bus) if m.body["interval"] == emitted.body["interval"]]

    async def corrected() -> bool:
        return any(m.body["complete"] for m in await same_half_hour())

    await wait_until(corrected)
    versions = await same_half_hour()
    # each late interval re-emits a corrected value (5 of 6, then all 6), each a new message
    assert [{r["intervals"] for r in m.body["rows"]} for m in versions] == [{4}, {5}, {6}]
    assert len({m.msg_id for m in versions}) == 3


@pytest.mark.faults
async def test_restart_neither_loses_nor_doubles_a_half_hour(samples: SampleSet, bus: Bus) -> None:
    events = _price_events(samples)[:6]
    first = Aggregator(settings(idle_flush_s=3600), bus)
    task = asyncio.create_task(first.run())
    for event in events[:3]:
        await bus.publish(event.subject, event.message, msg_id=event.msg_id)

    async def three_handled() -> bool:
        return first.loop.handled == 3

    await wait_until(three_handled)
    first.loop.stop.set()
    await task
    second = Aggregator(settings(idle_flush_s=3600), bus)
    task = asyncio.create_task(second.run())
    try:
        for event in events[3:]:
            await bus.publish(event.subject, event.message, msg_id=event.msg_id)

        async def emitted() -> bool:
            return len(await thirty(bus)) == 1

        await wait_until(emitted)
    finally:
        second.loop.stop.set()
        await task
    (only,) = await thirty(bus)
    assert only.body["complete"] is True
    assert {r["intervals"] for r in only.body["rows"]} == {6}


async def test_archive_history_has_the_ids_live_aggregation_gives(
    samples: SampleSet, bus: Bus, aggregator: Aggregator
) -> None:
    await replay(bus, [samples.path(MONTHLY)], speed=0)

    async def all_half_hours() -> bool:
        return len(await thirty(bus)) == 241

    await wait_until(all_half_hours, within=60)
    published, new = await publish_archive(bus, [samples.path(MONTHLY)])
    assert (published, new) == (241, 0)  # identical aggregates: the stream keeps one


async def test_scada_means_keep_negative_values(samples: SampleSet, bus: Bus) -> None:
    scada = names.SCADA
    published, new = await publish_archive(bus, [samples.path(scada)])
    assert published == new == 1
    (message,) = await thirty(bus, SCADA_UNIT_30MIN)
    assert message.body["complete"] is False  # one interval of six
    means = {r["key"]: r["mean"] for r in message.body["rows"]}
    assert sum(v < 0 for v in means.values()) == 8 and len(means) == 390
    assert json.loads(json.dumps(message.body))["measure"] == "scadavalue"
