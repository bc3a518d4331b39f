"""Replay of folders (what `nemstream up --offline` preloads the samples' history with): every
file in them, recursively, on the live subjects with the live ids; a report no feed reads is
skipped with one line, a file that is no MMS report is said and counted (exit status 1) and the
rest is published. The preload child is bounded: a failure is logged and the stack goes on,
Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from structlog.testing import capture_logs

from nemstream._supervisor import Child, _preload_history
from nemstream_bus import Bus, NatsServer
from nemstream_contracts import SCADA_UNIT, message_id
from nemstream_fetcher import replay
from nemstream_testing import SampleSet, free_port, names, stream_messages, wait_until

SCADA_2019 = Path(names.SCADA_2019).name
SCADA_2019_ID = message_id(
    "scada", SCADA_2019, "DISPATCH,UNIT_SCADA", datetime(2019, 4, 29, 16, 30)
)
"""The id the scada fetcher gives that file live: feed:file:table:YYYYMMDDHHMM."""

BIDS = "PUBLIC_YESTBID_201905160000_20190517040535.zip"
"""A day of real bids (83 MB of CSV): no feed reads them, so replay skips them by name."""


def _folder(samples: SampleSet, root: Path) -> Path:
    """A folder of real samples (linked under their own names, not copied), nested, with a
    note and a hidden file."""
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "nested" / "deeper" / SCADA_2019).symlink_to(samples.path(names.SCADA_2019))
    (root / "forecasts").symlink_to(samples.folder(names.P5MIN_RUNS), target_is_directory=True)
    (root / "other").mkdir()
    bids = samples.folder("other") / BIDS
    (root / "other" / BIDS).symlink_to(bids)  # no feed reads bids
    (root / "notes.txt").write_text("not an MMS report\n")
    (root / ".hidden.CSV").write_text("never read\n")
    return root


async def test_replay_of_a_folder_publishes_what_feeds_read_with_live_ids(
    samples: SampleSet, bus: Bus, tmp_path: Path
) -> None:
    folder = _folder(samples, tmp_path / "history")
    forecasts = len(list(samples.folder(names.P5MIN_RUNS).iterdir()))  # 12 P5MIN, 1 pre-dispatch
    with capture_logs() as logs:
        first = await replay(bus, [folder], speed=0)
        second = await replay(bus, [folder], speed=0)
    # the forecasts, the bids, the SCADA, the note; not the hidden file
    assert first.files == forecasts + 3
    assert first.skipped == 1  # the bids, by name, unread
    assert first.unreadable == 1
    # a message per forecast run (the P5MIN run of 00:00 shares its time with nothing else)
    assert (first.events, first.stored) == (forecasts + 1, forecasts + 1)
    assert (second.events, second.stored) == (forecasts + 1, 0)  # same ids: the stream drops them
    stored = await stream_messages(bus)
    assert (SCADA_UNIT, SCADA_2019_ID) in [(m.subject, m.msg_id) for m in stored]
    assert sorted({m.subject for m in stored}) == [
        "nem.p5min.price.v1",
        "nem.predispatch.price.v1",
        SCADA_UNIT,
    ]
    events = [entry["event"] for entry in logs]
    assert events.count("replay_skipped_file") == 2  # one line each time
    assert events.count("replay_skipped_report") == 0
    assert events.count("replay_unreadable_file") == 2
    assert events.count("replay_read") == 2


async def test_replay_command_takes_folders_keeps_its_line_and_fails_on_non_reports(
    samples: SampleSet, nats_server: NatsServer, tmp_path: Path
) -> None:
    folder = _folder(samples, tmp_path / "history")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nemstream",
        "replay",
        "--speed",
        "0",
        str(folder),
        env={**os.environ, "NEMSTREAM_NATS_URL": nats_server.url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    summary = "replayed 14 intervals, 14 events (14 new) in "  # 12 + 1 forecast runs, 1 SCADA
    assert out.decode().splitlines() == [summary + _secs(out)]
    assert process.returncode == 1  # notes.txt is no MMS report
    assert b"replay_unreadable_file" in err and b"notes.txt" in err
    assert b"Traceback" not in err


def _secs(out: bytes) -> str:
    """The seconds part of the summary line (whatever it took)."""
    return out.decode().strip().rsplit(" in ", 1)[1]


async def test_a_failed_preload_is_logged_and_the_stack_goes_on(samples: SampleSet) -> None:
    env = {
        **os.environ,
        "NEMSTREAM_NATS_URL": f"nats://127.0.0.1:{free_port()}",  # nobody there
        "NEMSTREAM_NATS_CONNECT_TIMEOUT_S": "1",
    }
    child = Child("history", [], env, "36")
    with capture_logs() as logs:
        await asyncio.wait_for(
            _preload_history(child, samples.root, {}, asyncio.Event(), timeout_s=60), 60
        )
    (failed,) = [entry for entry in logs if entry["event"] == "history_failed"]
    assert failed["code"] == 1
    skipped = {entry["file"] for entry in logs if entry["event"] == "history_skipped_file"}
    assert names.REGISTRATION_LIST in skipped and names.STATIONS_JSON in skipped


async def test_ctrl_c_stops_the_preload(samples: SampleSet, nats_server: NatsServer) -> None:
    stop = asyncio.Event()
    child = Child("history", [], {**os.environ, "NEMSTREAM_NATS_URL": nats_server.url}, "36")
    with capture_logs() as logs:
        task = asyncio.create_task(_preload_history(child, samples.root, {}, stop, timeout_s=120))

        async def started() -> bool:
            return child.process is not None

        await wait_until(started, within=30)
        stop.set()
        await asyncio.wait_for(task, 30)
    assert child.process is not None and child.process.returncode is not None
    assert [e for e in logs if e["event"] == "history_interrupted"]
