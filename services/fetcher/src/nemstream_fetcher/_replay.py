"""Replay: publish real historical files as if they were arriving live.

Events come out in interval order on the live subjects with the live message ids; between two
intervals the replay waits their real spacing divided by ``speed`` (``speed=0``: no waiting).
Good for demos and for testing consumers on real history (e.g. a month of DISPATCHPRICE), and
what ``nemstream up --offline`` preloads the samples' history with.

A folder stands for every file in it, recursively (linked folders followed), in name order
(hidden files and folders left out). A file whose NEMWeb name belongs to no feed's folder
(bids, the CO2EII list) is skipped unread, and a report no feed reads (a registration table)
once read, each with one line; a file that is no MMS report at all is skipped with one error
line and counted, and the replay goes on. Progress (files, events, intervals, seconds) is
logged every few seconds.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from nemstream_bus import Bus, one_shot
from nemstream_fetcher._events import Event, read_events
from nemstream_fetcher._feeds import FEED_SPECS, feed_of_report
from nemstream_mms import MmsError, iter_reports
from nemstream_nemweb import LEGACY_DISPATCH, feed_of, try_parse_filename
from nemstream_runtime import get_logger

log = get_logger(__name__)

PROGRESS_EVERY_S = 2.0
"""Seconds between two progress lines while reading or publishing."""


@dataclass(slots=True)
class ReplayResult:
    """What a replay read and published."""

    events: int = 0
    stored: int = 0
    intervals: int = 0
    seconds: float = 0.0
    files: int = 0  # files read (folders expanded)
    skipped: int = 0  # reports no feed reads
    unreadable: int = 0  # files that are no MMS report

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"replayed {self.intervals} intervals, {self.events} events ({self.stored} new) "
            f"in {self.seconds:.1f} s"
        )


def replay_files(paths: list[Path]) -> list[Path]:
    """The files to replay: each file given as it is, and for each folder every file in it,
    recursively (linked folders followed, once), in name order; hidden files and folders are
    left out."""
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found: list[Path] = []
        seen: set[Path] = set()
        for folder, subfolders, names in os.walk(path, followlinks=True):
            real = Path(folder).resolve()
            if real in seen:  # a link back up the tree
                subfolders.clear()
                continue
            seen.add(real)
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            found += [Path(folder, name) for name in names if not name.startswith(".")]
        files += sorted((p for p in found if p.is_file()), key=lambda p: p.relative_to(path).parts)
    return files


def _may_hold_feed_tables(path: Path) -> bool:
    """False for a NEMWeb name no fetcher feed reads (bids, the CO2EII list), so that a large
    file is not parsed only to be skipped; unknown names and MMSDM monthly files are read."""
    parsed = try_parse_filename(path.name)
    if parsed is None or parsed.is_mmsdm:
        return True
    folder = feed_of(parsed)
    return folder is not None and (folder.name in FEED_SPECS or folder is LEGACY_DISPATCH)


def events_of(paths: list[Path], result: ReplayResult | None = None) -> list[Event]:
    """Every event the files (folders expanded) give, in interval order (feed told by each
    report's tables); `result`, if given, counts files read, reports skipped and files that
    could not be read."""
    result = result if result is not None else ReplayResult()
    files = replay_files(paths)
    began = last = time.perf_counter()
    events: list[Event] = []
    for index, path in enumerate(files, start=1):
        if not _may_hold_feed_tables(path):
            result.skipped += 1
            log.warning("replay_skipped_file", file=path.name, reason="its name is no feed's")
            result.files = index
            continue
        try:
            for report in iter_reports(path, strict=False):
                feed = feed_of_report(report)
                if feed is None:
                    result.skipped += 1
                    log.warning("replay_skipped_report", file=report.name, reason="no feed table")
                    continue
                read = read_events(feed, report)
                for rejected in read.rejected:
                    log.error("replay_table_rejected", file=report.name, reason=rejected.describe())
                events.extend(read.events)
        except MmsError as exc:
            result.unreadable += 1
            log.error("replay_unreadable_file", file=str(path), error=str(exc))
        result.files = index
        if time.perf_counter() - last >= PROGRESS_EVERY_S and index < len(files):
            last = time.perf_counter()
            log.info(
                "replay_reading",
                files=f"{index}/{len(files)}",
                events=len(events),
                seconds=round(last - began, 1),
            )
    events.sort(key=lambda e: (e.interval, e.subject))
    log.info(
        "replay_read",
        files=len(files),
        reports_skipped=result.skipped,
        unreadable=result.unreadable,
        events=len(events),
        intervals=len({e.interval for e in events}),
        seconds=round(time.perf_counter() - began, 1),
    )
    return events


async def replay(bus: Bus, paths: list[Path], *, speed: float = 1.0) -> ReplayResult:
    """Publish the files' events at `speed` x real time (0: as fast as possible)."""
    result = ReplayResult()
    began = time.perf_counter()
    events = events_of(paths, result)
    last = time.perf_counter()
    previous = None
    for event in events:
        if previous is not None and event.interval != previous:
            result.intervals += 1
            if speed > 0:
                await asyncio.sleep((event.interval - previous).total_seconds() / speed)
        previous = event.interval
        result.stored += await bus.publish(event.subject, event.message, msg_id=event.msg_id)
        result.events += 1
        if time.perf_counter() - last >= PROGRESS_EVERY_S and result.events < len(events):
            last = time.perf_counter()
            log.info(
                "replay_publishing",
                events=f"{result.events}/{len(events)}",
                new=result.stored,
                intervals=result.intervals + 1,
                seconds=round(last - began, 1),
            )
    if previous is not None:
        result.intervals += 1
    result.seconds = time.perf_counter() - began
    return result


async def run_replay(paths: list[Path], *, speed: float) -> ReplayResult:
    """`nemstream replay`: connect (a bounded wait), replay, close."""
    async with one_shot("replay") as bus:
        return await replay(bus, paths, speed=speed)
