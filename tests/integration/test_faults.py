"""Faults injected the way an operator found them, each with what must hold. Every test here is
a row of the README's fault matrix (``make test-faults`` runs them with the other fault tests):
real nats-server, real NEMWeb files served by the mirror, real processes killed or starved.

Each test prints the figure the matrix quotes (``FAULT <name>: ...``); run with ``-s`` to see
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from nemstream_bus import DEAD_LETTER_STREAM, Bus, NatsServer
from nemstream_contracts import DISPATCH_PRICE
from nemstream_fetcher import Fetcher
from nemstream_mirror import running_mirror
from nemstream_nemweb import NemwebClient
from nemstream_testing import (
    SampleSet,
    free_port,
    metric,
    names,
    publish_all,
    running,
    stream_messages,
    wait_until,
)
from nemstream_writer import Writer
from tests.integration.fetch_support import nemweb, settings
from tests.integration.store_support import (
    duplicated_keys,
    events,
    rows,
    writer_process,
    writer_settings,
)

pytestmark = pytest.mark.faults


async def dead_letters(bus: Bus, durable: str) -> list[dict[str, object]]:
    """The dead-letter records of one consumer."""
    records = await stream_messages(bus, DEAD_LETTER_STREAM, f"deadletter.{durable}")
    return [r.body for r in records]


def _edited(source: bytes, table: bytes, edit: str) -> bytes:
    """A real report with one change to the first D row of `table` (``DISPATCH,PRICE``):
    ``repeat`` writes the row twice; ``rrp=<text>`` replaces its RRP."""
    lines = source.split(b"\r\n")
    header = next(line for line in lines if line.startswith(b"I," + table + b","))
    index = next(i for i, line in enumerate(lines) if line.startswith(b"D," + table + b","))
    if edit == "repeat":
        lines.insert(index + 1, lines[index])
    else:
        column, _, value = edit.partition("=")
        fields = lines[index].split(b",")
        fields[header.split(b",").index(column.upper().encode())] = value.encode()
        lines[index] = b",".join(fields)
    return b"\r\n".join(lines)


async def _fetch_once(folder: Path, bus: Bus, tmp_path: Path, feed: str = "dispatch") -> int:
    """One fetcher cycle over a mirror of `folder`; the files published."""
    async with running_mirror(folder) as mirror, NemwebClient(nemweb(mirror)) as client:
        fetcher = Fetcher(settings(feed, tmp_path), bus, client)
        await fetcher.start()
        return await fetcher.cycle(catch_up=True)


# --- 1. unique keys ------------------------------------------------------------------------------


async def test_a_d_row_written_twice_is_stored_once(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    real = samples.path(names.DISPATCHIS_2020).read_bytes()
    (folder / names.DISPATCHIS_2020).write_bytes(_edited(real, b"DISPATCH,PRICE", "repeat"))
    before = metric("nemstream_fetch_rows_repeated_total", feed="dispatch")
    assert await _fetch_once(folder, bus, tmp_path) == 1
    repeated = metric("nemstream_fetch_rows_repeated_total", feed="dispatch") - before
    async with running(Writer(writer_settings(tmp_path), bus)) as writer:

        async def stored() -> bool:
            return rows(writer.settings.store_dir, "prices5").height > 0

        await wait_until(stored)
        store = writer.settings.store_dir
        prices = rows(store, "prices5")
    print(f"FAULT repeated D row: rows expected 5, stored {prices.height}, dropped {repeated:g}")
    assert repeated == 1
    assert prices.height == 5 and duplicated_keys(store, "prices5") == 0


async def test_messages_repeating_a_key_store_it_once_or_are_refused(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    price = next(e for e in events(samples, [names.DISPATCHIS_2025]) if e.subject == DISPATCH_PRICE)
    body = json.loads(price.message.model_dump_json())
    first = body["rows"][0]
    exact = {**body, "rows": [*body["rows"], first]}  # a schema-valid exact repeat
    later = price.message.interval + timedelta(minutes=5)
    conflicting = {  # the same key twice with different prices, in another interval
        **body,
        "interval": later.isoformat(),
        "rows": [*body["rows"], {**first, "rrp": first["rrp"] + 100}],
    }
    before = metric("nemstream_store_rows_repeated_total", table="prices5")
    await bus.publish(DISPATCH_PRICE, json.dumps(exact).encode(), msg_id="exact")
    await bus.publish(DISPATCH_PRICE, json.dumps(conflicting).encode(), msg_id="conflicting")
    async with running(Writer(writer_settings(tmp_path), bus)) as writer:

        async def handled() -> bool:
            return len(await dead_letters(bus, "writer")) == 1 and writer.loop.handled == 1

        await wait_until(handled)
        store = writer.settings.store_dir
        prices = rows(store, "prices5")
    (record,) = await dead_letters(bus, "writer")
    reason = str(record["reason"])
    repeated = metric("nemstream_store_rows_repeated_total", table="prices5") - before
    print(f"FAULT repeated key in a message: stored {prices.height}/5, dropped {repeated:g}")
    assert prices.height == len(body["rows"]) and duplicated_keys(store, "prices5") == 0
    assert repeated == 1
    region = first["regionid"]
    assert f"rows 0 and {len(body['rows'])} share the key (regionid={region}" in reason


# --- 2. a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MB file system (tmpfs) that can be filled: the store's disk."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is tested on a tmpfs mounted for the test, which needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): no full-disk test")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


async def _ready(port: int) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(timeout=2) as http:
        response = await http.get(f"http://127.0.0.1:{port}/readyz")
        return response.status_code, response.json()


async def _wait_ready(port: int) -> float:
    """Seconds until a service's /readyz answers 200."""
    began = time.monotonic()

    async def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return (await _ready(port))[0] == 200
        return False

    await wait_until(up, within=30)
    return time.monotonic() - began


async def test_a_full_disk_is_an_unwritable_store_and_recovers(
    samples: SampleSet, bus: Bus, nats_server: NatsServer, tmp_path: Path, small_disk: Path
) -> None:
    month = events(samples, [names.PRICE_ARCHIVE])  # 1,440 intervals, 2 regions
    port, log = free_port(), tmp_path / "writer.log"
    writer = await writer_process(
        nats_server, small_disk, log=log, NEMSTREAM_METRICS_PORT=str(port)
    )
    store = small_disk / "store"
    try:
        await _wait_ready(port)
        await publish_all(bus, month[:50])

        async def first_stored() -> bool:
            return rows(store, "prices5").height == 100

        await wait_until(first_stored)
        filler = _fill(small_disk)
        await publish_all(bus, month[50:])

        async def alarmed() -> bool:
            status, body = await _ready(port)
            return status == 503 and not dict(body["checks"])["store_writable"]  # type: ignore[call-overload]

        await wait_until(alarmed, within=60)
        async with httpx.AsyncClient() as http:
            scrape = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert "nemstream_writer_store_unwritable 1.0" in scrape
        assert 'nemstream_writer_write_errors_total{error="ENOSPC"}' in scrape

        async def no_temporary_files() -> bool:
            return not list(store.rglob("*.tmp"))

        await wait_until(no_temporary_files, within=30)
        filler.unlink()  # the operator frees space
        freed = time.monotonic()

        async def recovered() -> bool:
            return rows(store, "prices5").height == 2880 and (await _ready(port))[0] == 200

        await wait_until(recovered, within=90)
        seconds = time.monotonic() - freed
    finally:
        writer.terminate()
        await asyncio.wait_for(writer.wait(), 30)
    text = log.read_text()
    assert '"store_unwritable"' in text and '"cause": "ENOSPC"' in text
    assert writer.returncode == 0, text[-2000:]
    assert duplicated_keys(store, "prices5") == 0
    assert not list(store.rglob("*.tmp"))
    print(f"FAULT full disk: rows 2880/2880 stored, 0 duplicates, {seconds:.1f} s to recover")


# --- 4. one-shot publishers and a NATS restart ---------------------------------------------------


def _command(*args: str, nats_url: str, **env: str) -> asyncio.Future[asyncio.subprocess.Process]:
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "nemstream",
            *args,
            env={
                **os.environ,
                "NEMSTREAM_NATS_URL": nats_url,
                "NEMSTREAM_LOG_FORMAT": "json",
                **env,
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    )


async def test_replay_rides_out_a_nats_restart(
    samples: SampleSet, bus: Bus, nats_server: NatsServer
) -> None:
    files = sorted(samples.folder(names.HISTORY_DAY).glob("*.zip"))[:30]
    replay = await _command(
        "replay", *map(str, files), "--speed", "600", nats_url=nats_server.url
    )  # 0.5 s between intervals

    async def started() -> bool:
        return len(await stream_messages(bus)) >= 9

    await wait_until(started, within=60)
    began = time.monotonic()
    await nats_server.restart()
    out, err = await asyncio.wait_for(replay.communicate(), 120)
    stored = await stream_messages(bus)
    print(
        f"FAULT NATS restart during replay: {len(stored)}/90 events, "
        f"{90 - len({m.msg_id for m in stored})} missing or doubled, restart at "
        f"{time.monotonic() - began:.1f} s before the end"
    )
    assert replay.returncode == 0, err.decode()[-2000:]
    assert "replayed 30 intervals, 90 events" in out.decode()
    assert len(stored) == 90 and len({m.msg_id for m in stored}) == 90


@pytest.mark.parametrize(
    "command",
    [
        ("replay", "--speed", "0", "{file}"),
        (
            "backfill",
            "--feed",
            "dispatch",
            "--from",
            "2020-01-13",
            "--to",
            "2020-01-13",
            "--source",
            "{file}",
            "--no-progress",
        ),
        ("aggregate", "--from-archive", "{archive}"),
    ],
    ids=["replay", "backfill", "aggregate-from-archive"],
)
async def test_one_shot_commands_without_nats_end_in_one_line(
    samples: SampleSet, command: tuple[str, ...]
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    args = [
        a.format(
            file=samples.path(names.DISPATCHIS_2020), archive=samples.path(names.PRICE_ARCHIVE)
        )
        for a in command
    ]
    began = time.monotonic()
    process = await _command(*args, nats_url=url, NEMSTREAM_NATS_CONNECT_TIMEOUT_S="2")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    seconds = time.monotonic() - began
    last = err.decode().strip().splitlines()[-1]
    assert process.returncode == 1
    assert last.startswith(f"nemstream: cannot reach NATS at {url} after 2 s: is nats-server")
    assert "NEMSTREAM_NATS_URL" in last and "Traceback" not in err.decode()
    assert seconds < 30, seconds


# --- 5. one bad value loses only its table --------------------------------------------------------


async def test_one_bad_value_quarantines_its_table_and_the_others_publish(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    real = samples.path(names.DISPATCHIS_2020).read_bytes()
    (folder / names.DISPATCHIS_2020).write_bytes(_edited(real, b"DISPATCH,PRICE", "rrp=abc"))
    before = metric(
        "nemstream_fetch_tables_rejected_total", feed="dispatch", table="DISPATCH,PRICE"
    )
    assert await _fetch_once(folder, bus, tmp_path) == 1
    subjects = sorted(m.subject for m in await stream_messages(bus))
    assert subjects == ["nem.dispatch.interconnector.v1", "nem.dispatch.regionsum.v1"]
    rejected = metric(
        "nemstream_fetch_tables_rejected_total", feed="dispatch", table="DISPATCH,PRICE"
    )
    assert rejected - before == 1
    quarantine = tmp_path / "data" / "quarantine" / "dispatch"
    (kept,) = quarantine.glob("*.zip")
    reason = kept.with_name(kept.name + ".reason.txt").read_text()
    assert "DISPATCH,PRICE" in reason and "'abc'" in reason and "RRP" in reason
    print(f"FAULT bad RRP: 2 of 3 tables published, 1 quarantined ({reason.splitlines()[1]})")


# --- 6. intervals off their grid -----------------------------------------------------------------


async def test_an_interval_off_its_grid_is_refused(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    price = next(e for e in events(samples, [names.DISPATCHIS_2025]) if e.subject == DISPATCH_PRICE)
    body = json.loads(price.message.model_dump_json())
    body["interval"] = "2020-03-01T00:52:00+10:00"
    await bus.publish(DISPATCH_PRICE, json.dumps(body).encode(), msg_id="off-grid")
    async with running(Writer(writer_settings(tmp_path), bus)) as writer:

        async def refused() -> bool:
            return len(await dead_letters(bus, "writer")) == 1

        await wait_until(refused)
        assert rows(writer.settings.store_dir, "prices5").height == 0
    (record,) = await dead_letters(bus, "writer")
    assert "not on the 5-minute grid" in str(record["reason"])


# --- 8. a second writer; 9. no registry at start --------------------------------------------------


async def test_a_second_writer_exits_at_once_naming_the_first(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    port = free_port()
    first = await writer_process(nats_server, data, log=first_log, NEMSTREAM_METRICS_PORT=str(port))
    try:
        ready_s = await _wait_ready(port)
        started = time.monotonic()
        second = await writer_process(nats_server, data, log=second_log)
        code = await asyncio.wait_for(second.wait(), 30)
        exit_s = time.monotonic() - started
    finally:
        first.terminate()
        await asyncio.wait_for(first.wait(), 30)
    text = second_log.read_text().strip()
    print(
        f"FAULT second writer: exit {code} after {exit_s:.1f} s ({len(text.splitlines())} line); "
        f"first writer ready {ready_s:.1f} s after start with no registry"
    )
    assert code == 1
    assert text.splitlines() == [text]  # one line
    assert text.startswith("nemstream write: the store ") and f"pid {first.pid} on " in text
    assert "registry" not in text and "Traceback" not in text
    # the first writer was ready before any registry: it was built in the background, and its
    # failed download is remembered so the next start does not go to the network again
    assert ready_s < 15, ready_s
    marker = data / "registry" / ".download-failed"

    async def remembered() -> bool:
        return marker.exists()

    await wait_until(remembered, within=30)
    third_log = tmp_path / "third.log"
    third = await writer_process(nats_server, data, log=third_log)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(third.wait(), 5)

    async def said_so() -> bool:
        return "next try in" in third_log.read_text()

    try:
        await wait_until(said_so, within=30)
    finally:
        third.terminate()
        await asyncio.wait_for(third.wait(), 30)
    assert "unreachable.xlsx" in third_log.read_text()
