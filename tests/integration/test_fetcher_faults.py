"""The fetcher under faults, each against the real mirror and a real nats-server: HTTP errors
and timeouts, a truncated zip, a corrupt CSV, a NATS restart, a fetcher killed mid-file."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest
from nats.js.errors import KeyNotFoundError

from nemstream_bus import Bus, NatsServer
from nemstream_fetcher import BUCKET, Fetcher, key_for
from nemstream_mirror import RunningMirror, running_mirror
from nemstream_nemweb import NemwebClient
from nemstream_testing import SampleSet, metric, names, stream_messages, wait_until
from tests.integration.fetch_support import nemweb, settings

TRADING = names.TRADINGIS
TRADING_PATH = f"/Reports/CURRENT/TradingIS_Reports/{TRADING}"


pytestmark = pytest.mark.faults


async def _fault(mirror: RunningMirror, **fault: object) -> None:
    async with httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http:
        assert (await http.post("/_mirror/faults", json=fault)).status_code == 201


def _polls(outcome: str) -> float:
    return metric("nemstream_fetch_polls_total", feed="trading", outcome=outcome)


def _files(outcome: str) -> float:
    return metric("nemstream_fetch_files_total", feed="trading", outcome=outcome)


async def test_http_errors_and_timeouts_are_retried_next_cycle(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    listing_errors = _polls("error")
    download_failures = metric(
        "nemstream_fetch_files_total", feed="trading", outcome="download_failed"
    )
    async with running_mirror(samples.root) as mirror:
        await _fault(mirror, path="/Reports/CURRENT/TradingIS_Reports/", status=500, count=2)
        await _fault(mirror, path=TRADING_PATH, status=503, count=2)
        await _fault(mirror, path=TRADING_PATH, delay=2.0, count=2)
        async with NemwebClient(nemweb(mirror, http_timeout=0.5)) as client:
            fetcher = Fetcher(settings("trading", tmp_path), bus, client)
            await fetcher.start()
            results = [await fetcher.cycle(catch_up=True) for _ in range(6)]
    assert results == [0, 0, 0, 1, 0, 0]  # listing fails, file fails (500, then timeouts), ok
    assert _polls("error") - listing_errors == 1
    assert _files("download_failed") - download_failures == 2
    assert len(await stream_messages(bus)) == 1


async def test_truncated_zip_is_quarantined_and_the_feed_goes_on(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    async with running_mirror(samples.root) as mirror:
        bad = "/Reports/CURRENT/ROOFTOP_PV/ACTUAL/" + names.ROOFTOP_SATELLITE
        await _fault(mirror, path=bad, truncate=200)
        async with NemwebClient(nemweb(mirror)) as client:
            fetcher = Fetcher(settings("rooftop", tmp_path, parse_attempts=2), bus, client)
            await fetcher.start()
            assert await fetcher.cycle(catch_up=True) == 1  # the good one; the bad one tried
            assert await fetcher.cycle() == 0  # bad one: second attempt, quarantined
            assert await fetcher.cycle() == 0  # and left alone from now on
    name = bad.rsplit("/", 1)[1]
    kept = tmp_path / "data" / "quarantine" / "rooftop" / name
    assert kept.exists() and len(kept.read_bytes()) == 200
    assert "not a readable zip" in kept.with_name(name + ".reason.txt").read_text()
    entry = await (await bus.kv(BUCKET)).get(key_for("rooftop", name))
    assert b'"status": "quarantined"' in (entry.value or b"")
    assert len(await stream_messages(bus)) == 1


async def test_corrupt_csv_is_quarantined(samples: SampleSet, bus: Bus, tmp_path: Path) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    good = samples.path(names.DISPATCHIS_2025).read_bytes()
    cut = b"\r\n".join(good.split(b"\r\n")[:88]) + b'\r\nD,DISPATCH,PRICE,5,"2020/'
    (folder / names.DISPATCHIS_2020).write_bytes(cut)
    shutil.copy(samples.path(names.DISPATCHIS_2025), folder / names.DISPATCHIS_2025)
    async with running_mirror(folder) as mirror, NemwebClient(nemweb(mirror)) as client:
        fetcher = Fetcher(settings("dispatch", tmp_path, parse_attempts=1), bus, client)
        await fetcher.start()
        assert await fetcher.cycle(catch_up=True) == 1
    reason = tmp_path / "data" / "quarantine" / "dispatch"
    (note,) = reason.glob("*.reason.txt")
    assert "line 89" in note.read_text() and "cut mid-row" in note.read_text()
    assert len(await stream_messages(bus)) == 3  # the good file's three tables


async def test_nats_restart_mid_run_loses_and_doubles_nothing(
    samples: SampleSet, bus: Bus, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with (
        running_mirror(samples.root, release_every=60, auto_release=False) as mirror,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
        NemwebClient(nemweb(mirror)) as client,
    ):
        fetcher = Fetcher(settings("dispatch", tmp_path), bus, client)
        await fetcher.start()
        task = asyncio.create_task(fetcher.run())
        try:
            released: list[str] = []
            while len(released) < 6:
                released.append((await http.post("/_mirror/release")).json()["released"])
                if len(released) == 2:
                    await nats_server.restart()

            async def both_files() -> bool:
                return bus.connected and fetcher.published_files == 2

            await wait_until(both_files, within=30)
        finally:
            fetcher.stop.set()
            await task
    stored = await stream_messages(bus)
    assert len(stored) == 6 and len({m.msg_id for m in stored}) == 6


async def _fetch_process(
    feed: str, nats_url: str, mirror_url: str, data: Path, **extra: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "NEMSTREAM_NATS_URL": nats_url,
        "NEMSTREAM_NEMWEB_URL": mirror_url,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_LOOKBACK_H": "200000",
        "NEMSTREAM_METRICS_PORT": "-1",
        "NEMSTREAM_POLL_FAST_S": "0.1",
        "NEMSTREAM_CLAIM_LEASE_S": "0.5",
        **extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nemstream_fetcher",
        "--feed",
        feed,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_fetcher_killed_between_download_and_publish_publishes_once(
    samples: SampleSet, bus: Bus, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with running_mirror(samples.root) as mirror:
        for point in ("downloaded", "published"):
            crashed = await _fetch_process(
                "trading", nats_server.url, mirror.url, tmp_path, NEMSTREAM_CRASH_AT=point
            )
            _, stderr = await asyncio.wait_for(crashed.communicate(), 60)
            assert crashed.returncode == 86, stderr[-2000:]
        # killed after publishing, before remembering: the events are in the stream once
        assert len(await stream_messages(bus)) == 1
        survivor = await _fetch_process("trading", nats_server.url, mirror.url, tmp_path)

        async def remembered() -> bool:
            kv = await bus.kv(BUCKET)
            try:
                entry = await kv.get(key_for("trading", TRADING))
            except KeyNotFoundError:
                return False
            return b'"published"' in (entry.value or b"")

        try:
            await wait_until(remembered, within=60)
        finally:
            survivor.terminate()  # SIGTERM: a clean stop
            _, stderr = await asyncio.wait_for(survivor.communicate(), 30)
        assert survivor.returncode == 0, stderr[-2000:]
    stored = await stream_messages(bus)
    assert len(stored) == 1  # published exactly once across three processes
