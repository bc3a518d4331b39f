"""The forecast feeds end to end on the real runs: backfilled from NEMWeb's CURRENT folders (the
mirror serving the real P5MIN and pre-dispatch zips at their NEMWeb paths), stored by the real
writer keyed by (run, interval, region, intervention), and replayed again without a row more."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx

from nemstream_bus import Bus
from nemstream_fetcher import Fetcher, backfill, replay
from nemstream_mirror import running_mirror
from nemstream_nemweb import NemwebClient
from nemstream_testing import SampleSet, names, running, stream_messages, wait_until
from nemstream_writer import Writer
from tests.integration.fetch_support import nemweb, settings
from tests.integration.store_support import duplicated_keys, rows, writer_settings


def _nemweb_folder(samples: SampleSet, tmp_path: Path) -> Path:
    """A folder for the mirror holding the real forecast runs (linked, not copied)."""
    folder = tmp_path / "nemweb"
    folder.mkdir()
    for path in samples.folder(names.P5MIN_RUNS).iterdir():
        (folder / path.name).symlink_to(path)
    return folder


async def test_forecast_runs_backfill_store_once_and_replay_adds_nothing(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = _nemweb_folder(samples, tmp_path)
    async with (
        running(Writer(writer_settings(tmp_path), bus)) as writer,
        running_mirror(folder) as mirror,
        NemwebClient(nemweb(mirror)) as client,
    ):
        # a run is named by its first interval (ending): the 00:00 run belongs to the day before
        p5min = await backfill(
            bus, client, "p5min", date(2019, 5, 15), date(2019, 5, 16), progress=False
        )
        predispatch = await backfill(
            bus, client, "predispatch", date(2019, 4, 30), date(2019, 5, 1), progress=False
        )
        assert (p5min.files, p5min.events, p5min.stored) == (12, 12, 12)
        assert (predispatch.files, predispatch.events, predispatch.stored) == (1, 1, 1)
        store = writer.settings.store_dir

        async def stored() -> bool:
            return rows(store, "p5min").height == 720 and rows(store, "predispatch").height == 570

        await wait_until(stored, within=30)
        again = await replay(bus, [folder], speed=0)
        assert (again.events, again.stored) == (13, 0)  # the same ids: the stream drops them
    messages = await stream_messages(bus)
    assert sorted({m.subject for m in messages}) == [
        "nem.p5min.price.v1",
        "nem.predispatch.price.v1",
    ]
    assert len(messages) == 13
    p5 = rows(store, "p5min")
    assert p5["run_datetime"].n_unique() == 12 and p5["regionid"].n_unique() == 5
    assert (p5["interval_datetime"] >= p5["run_datetime"]).all()
    assert duplicated_keys(store, "p5min") == duplicated_keys(store, "predispatch") == 0
    assert rows(store, "predispatch")["intervention"].value_counts().height == 2


async def test_live_fetchers_publish_each_released_run_once(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = _nemweb_folder(samples, tmp_path)
    runs = sorted(folder.iterdir())
    async with (
        running_mirror(folder, release_every=60, auto_release=False) as mirror,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
        NemwebClient(nemweb(mirror)) as client,
    ):
        fetchers = [
            Fetcher(settings(feed, tmp_path), bus, client) for feed in ("p5min", "predispatch")
        ]
        tasks = []
        for fetcher in fetchers:
            await fetcher.start()
            tasks.append(asyncio.create_task(fetcher.run()))
        for released in range(1, len(runs) + 1):
            path = (await http.post("/_mirror/release")).json()["released"]
            assert "/Reports/CURRENT/P5_Reports/" in path or "/PredispatchIS_Reports/" in path

            async def arrived(target: int = released) -> bool:
                return len(await stream_messages(bus)) >= target

            await wait_until(arrived)
        for fetcher in fetchers:
            fetcher.stop.set()
        await asyncio.gather(*tasks)
    messages = await stream_messages(bus)
    assert len(messages) == len({m.msg_id for m in messages}) == 13
    p5min = [m for m in messages if m.subject == "nem.p5min.price.v1"]
    assert len(p5min) == 12 and all(len(m.body["rows"]) == 60 for m in p5min)
