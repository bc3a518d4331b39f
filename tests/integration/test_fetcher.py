"""The fetcher end to end: the mirror releases real files one by one, a real nats-server
stores the events; every interval arrives exactly once, with the parser's values."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from nats.aio.msg import Msg

from nemstream_bus import Bus, ConsumeLoop, ConsumerSpec
from nemstream_fetcher import Fetcher, feed_of_report, report_events
from nemstream_mirror import RunningMirror, running_mirror
from nemstream_mms import iter_reports
from nemstream_nemweb import FEEDS, NemwebClient, get_feed, pick_new
from nemstream_testing import SampleSet, names, stream_messages, wait_until
from tests.integration.fetch_support import nemweb, settings

RELEASED = [
    names.DISPATCHIS_2020,
    names.SCADA,
    names.ROOFTOP_SATELLITE,
    names.TRADINGIS,
    names.ROOFTOP_MEASUREMENT,
    names.DISPATCHIS_2025,
]


@pytest.fixture
async def fetchers(
    bus: Bus, tmp_path: Path
) -> AsyncIterator[Callable[[RunningMirror], Awaitable[list[Fetcher]]]]:
    """Start one in-process fetcher per feed against a mirror; stop them at the end."""
    running: list[tuple[Fetcher, asyncio.Task[None], NemwebClient]] = []

    async def start(mirror: RunningMirror, feeds: list[str] | None = None) -> list[Fetcher]:
        started = []
        for feed in feeds or list(FEEDS):
            client = NemwebClient(nemweb(mirror))
            fetcher = Fetcher(settings(feed, tmp_path), bus, client)
            await fetcher.start()
            running.append((fetcher, asyncio.create_task(fetcher.run()), client))
            started.append(fetcher)
        return started

    yield start
    for fetcher, task, client in running:
        fetcher.stop.set()
        await task
        await client.aclose()


def expected_events(samples: SampleSet, files: list[str]) -> dict[str, tuple[str, str]]:
    """msg id -> (subject, body JSON) straight from the parser, for comparison."""
    out = {}
    for name in files:
        for report in iter_reports(samples.path(name)):
            feed = feed_of_report(report)
            assert feed is not None
            for event in report_events(feed, report):
                out[event.msg_id] = (event.subject, event.message.model_dump_json())
    return out


def _mirror_names(message_ids: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The mirror serves plain CSVs zipped under their report's name: map ids accordingly."""
    renamed = {}
    for msg_id, (subject, body) in message_ids.items():
        feed, source, table, stamp = msg_id.split(":")
        served = {
            names.DISPATCHIS_2025: "PUBLIC_DISPATCHIS_202512270005_0000000495867501.zip",
            names.DISPATCHIS_2020: ("PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip"),
        }.get(source, source)
        renamed[f"{feed}:{served}:{table}:{stamp}"] = (
            subject,
            json.dumps(json.loads(body) | {"source_file": served}, separators=(",", ":")),
        )
    return renamed


async def test_released_files_arrive_once_with_the_parsers_values(
    samples: SampleSet, bus: Bus, fetchers: Callable[[RunningMirror], Awaitable[list[Fetcher]]]
) -> None:
    expected = _mirror_names(expected_events(samples, RELEASED))
    received: list[tuple[str, str, bytes]] = []  # what a subscriber (durable consumer) gets

    async def collect(message: Msg) -> None:
        received.append((message.subject, (message.headers or {})["Nats-Msg-Id"], message.data))

    subscriber = ConsumeLoop(
        bus, ConsumerSpec("test-subscriber", ("nem.>",)), collect, fetch_timeout_s=0.2
    )
    consuming = asyncio.create_task(subscriber.run())
    async with (
        running_mirror(samples.root, release_every=60, auto_release=False) as mirror,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        await fetchers(mirror)
        published = 0
        for _ in RELEASED:
            path = (await http.post("/_mirror/release")).json()["released"]
            name = path.rsplit("/", 1)[1]
            published += sum(1 for i in expected if f":{name}:" in i)

            async def arrived(target: int = published) -> bool:
                return len(received) >= target

            await wait_until(arrived)
    subscriber.stop.set()
    await consuming
    assert len(received) == len(expected) == 10  # 3 + 3 dispatch, 1 trading, 1 scada, 2 rooftop
    assert len({msg_id for _, msg_id, _ in received}) == 10
    for subject, msg_id, data in received:
        expected_subject, body = expected[msg_id]
        assert subject == expected_subject
        assert json.loads(data) == json.loads(body)
    assert len(await stream_messages(bus)) == 10


@pytest.mark.faults
async def test_restart_and_reposted_files_never_republish(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    async with running_mirror(samples.root) as mirror, NemwebClient(nemweb(mirror)) as client:
        first = Fetcher(settings("dispatch", tmp_path), bus, client)
        await first.start()
        assert await first.cycle(catch_up=True) == 2
        entries = pick_new(await client.list_feed("dispatch"), set(), feed=get_feed("dispatch"))
        assert await first.process(entries[0]) is False  # the same file listed again
        restarted = Fetcher(settings("dispatch", tmp_path), bus, client)
        await restarted.start()
        assert await restarted.cycle(catch_up=True) == 0
        assert all([await restarted.process(e) is False for e in entries + entries])
    assert len(await stream_messages(bus)) == 6


@pytest.mark.faults
async def test_two_fetchers_at_once_publish_each_file_once(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    async with running_mirror(samples.root) as mirror:
        clients = [NemwebClient(nemweb(mirror)) for _ in range(2)]
        pair = [Fetcher(settings("rooftop", tmp_path), bus, c) for c in clients]
        for fetcher in pair:
            await fetcher.start()
        results = await asyncio.gather(*(f.cycle(catch_up=True) for f in pair))
        for client in clients:
            await client.aclose()
    assert sum(results) == 2  # two rooftop files, each published by one of the two
    stored = await stream_messages(bus)
    assert len(stored) == 2 and len({m.msg_id for m in stored}) == 2
