"""History onto the bus: backfill from ARCHIVE (day zips of the real 5-minute zips, served by
the mirror) and from an MMSDM monthly file, resumable; replay of real files as if live."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from nemstream_bus import Bus
from nemstream_fetcher import backfill, replay
from nemstream_mirror import running_mirror
from nemstream_nemweb import NemwebClient
from nemstream_testing import SampleSet, names, stream_messages
from tests.integration.fetch_support import nemweb

ARCHIVE = names.PRICE_ARCHIVE


def _day_zip(folder: Path, name: str, members: dict[str, bytes]) -> None:
    """An ARCHIVE day zip holding real 5-minute zips (NEMWeb's layout), built at test time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    (folder / name).write_bytes(buffer.getvalue())


def _zipped(csv_name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, data)
    return buffer.getvalue()


@pytest.mark.faults
async def test_backfill_from_archive_day_zips_is_resumable(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    dispatch = "PUBLIC_DISPATCHIS_202001131410_0000000317693747"
    _day_zip(
        folder,
        "PUBLIC_DISPATCHIS_20200113.zip",
        {
            f"{dispatch}.zip": _zipped(
                f"{dispatch}.CSV", samples.path(f"{dispatch}.csv").read_bytes()
            )
        },
    )
    scada = names.SCADA
    _day_zip(folder, "PUBLIC_DISPATCHSCADA_20210902.zip", {scada: samples.path(scada).read_bytes()})
    async with running_mirror(folder) as mirror, NemwebClient(nemweb(mirror)) as client:
        first = await backfill(
            bus, client, "dispatch", date(2020, 1, 13), date(2020, 1, 13), progress=False
        )
        again = await backfill(
            bus, client, "dispatch", date(2020, 1, 13), date(2020, 1, 13), progress=False
        )
        elsewhere = await backfill(
            bus, client, "scada", date(2021, 9, 1), date(2021, 9, 1), progress=False
        )
        scada_day = await backfill(
            bus, client, "scada", date(2021, 9, 2), date(2021, 9, 2), progress=False
        )
    assert (first.files, first.events, first.stored, len(first.intervals)) == (1, 3, 3, 1)
    assert (again.files, again.skipped, again.events) == (0, 1, 0)  # resumed: nothing redone
    assert elsewhere.events == 0
    assert (scada_day.events, scada_day.stored) == (1, 1)
    stored = await stream_messages(bus)
    assert len(stored) == 4
    # ids are those of live publication: the inner 5-minute zip's name
    assert {m.msg_id.split(":")[1] for m in stored} == {f"{dispatch}.zip", scada}


async def test_backfill_from_an_mmsdm_monthly_file(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    local = tmp_path / ARCHIVE
    shutil.copy(samples.path(ARCHIVE), local)
    async with NemwebClient() as client:
        result = await backfill(
            bus,
            client,
            "dispatch",
            date(2026, 3, 1),
            date(2026, 3, 2),
            sources=[str(local)],
            progress=False,
        )
    assert len(result.intervals) == 576  # two days of 5-minute intervals
    assert result.events == result.stored == 576
    assert result.failed == []


async def test_replay_a_month_as_fast_as_possible_then_again(samples: SampleSet, bus: Bus) -> None:
    path = samples.path(ARCHIVE)
    first = await replay(bus, [path], speed=0)
    second = await replay(bus, [path], speed=0)
    assert (first.intervals, first.events, first.stored) == (1440, 1440, 1440)
    assert (second.events, second.stored) == (1440, 0)  # same ids: the stream drops them
    stored = await stream_messages(bus)
    intervals = [m.body["interval"] for m in stored]
    assert intervals == sorted(intervals)  # published in interval order, like live


async def test_replay_keeps_real_spacing_at_the_given_speed(samples: SampleSet, bus: Bus) -> None:
    files = [
        samples.path(names.ROOFTOP_SATELLITE),
        samples.path(names.ROOFTOP_MEASUREMENT),
    ]
    gap = 15_469_200.0  # seconds between 2023-09-02 18:00 and 2024-03-03 19:30
    started = time.perf_counter()
    result = await replay(bus, files, speed=gap / 0.5)
    elapsed = time.perf_counter() - started
    assert result.intervals == 2 and elapsed >= 0.5
