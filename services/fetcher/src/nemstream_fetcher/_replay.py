"""Replay: publish real historical files as if they were arriving live.

Events come out in interval order on the live subjects with the live message ids; between two
intervals the replay waits their real spacing divided by ``speed`` (``speed=0``: no waiting).
Good for demos and for testing consumers on real history (e.g. a month of DISPATCHPRICE).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from nemstream_bus import Bus, one_shot
from nemstream_fetcher._events import Event, read_events
from nemstream_fetcher._feeds import feed_of_report
from nemstream_mms import iter_reports
from nemstream_runtime import get_logger

log = get_logger(__name__)


@dataclass(slots=True)
class ReplayResult:
    """What a replay published."""

    events: int = 0
    stored: int = 0
    intervals: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"replayed {self.intervals} intervals, {self.events} events ({self.stored} new) "
            f"in {self.seconds:.1f} s"
        )


def events_of(paths: list[Path]) -> list[Event]:
    """Every event the files give, in interval order (feed told by each report's tables)."""
    events: list[Event] = []
    for path in paths:
        for report in iter_reports(path, strict=False):
            feed = feed_of_report(report)
            if feed is None:
                log.warning("replay_skipped_report", file=report.name, reason="no feed table")
                continue
            result = read_events(feed, report)
            for rejected in result.rejected:
                log.error("replay_table_rejected", file=report.name, reason=rejected.describe())
            events.extend(result.events)
    return sorted(events, key=lambda e: (e.interval, e.subject))


async def replay(bus: Bus, paths: list[Path], *, speed: float = 1.0) -> ReplayResult:
    """Publish the files' events at `speed` x real time (0: as fast as possible)."""
    result = ReplayResult()
    began = time.perf_counter()
    previous = None
    for event in events_of(paths):
        if previous is not None and event.interval != previous:
            result.intervals += 1
            if speed > 0:
                await asyncio.sleep((event.interval - previous).total_seconds() / speed)
        previous = event.interval
        result.stored += await bus.publish(event.subject, event.message, msg_id=event.msg_id)
        result.events += 1
    if previous is not None:
        result.intervals += 1
    result.seconds = time.perf_counter() - began
    return result


async def run_replay(paths: list[Path], *, speed: float) -> ReplayResult:
    """`nemstream replay`: connect (a bounded wait), replay, close."""
    async with one_shot("replay") as bus:
        return await replay(bus, paths, speed=speed)
