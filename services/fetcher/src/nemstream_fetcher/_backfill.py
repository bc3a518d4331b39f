"""History: publish a date range from NEMWeb's ARCHIVE (day zips of 5-minute zips, weekly
rooftop zips), the part of the range still in CURRENT, or MMSDM monthly files.

Events are the same as live (same subjects, same ids for the same 5-minute files). Progress is
remembered per archive file in NATS KV, so an interrupted backfill resumes where it stopped;
``force`` publishes remembered files again (a gap the store still has after its backfill: the
writer drops what it already holds). ``on_progress`` hears of every file (and every report in
an archive) for callers that show progress elsewhere than on a terminal (a control job).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nemstream_bus import Bus, kv_get, one_shot
from nemstream_fetcher._events import Event, read_events
from nemstream_fetcher._memory import key_for
from nemstream_mms import MmsError, iter_reports
from nemstream_nemweb import (
    Area,
    ListingEntry,
    NemwebClient,
    NemwebError,
    NemwebSettings,
    Period,
    get_feed,
    try_parse_filename,
)
from nemstream_runtime import get_logger

log = get_logger(__name__)

BUCKET = "nemstream_backfill"

OnProgress = Callable[[int, int, "BackfillResult"], Awaitable[None]]
"""``await on_progress(files_done, files_total, result_so_far)``."""


@dataclass(slots=True)
class BackfillResult:
    """What a backfill did."""

    feed: str
    files: int = 0
    skipped: int = 0
    intervals: set[datetime] = field(default_factory=set)
    events: int = 0
    stored: int = 0
    failed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # tables/intervals quarantined
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the terminal."""
        rate = len(self.intervals) / self.seconds if self.seconds else 0.0
        return (
            f"{self.feed}: {self.files} files ({self.skipped} already done), "
            f"{len(self.intervals)} intervals, {self.events} events ({self.stored} new) in "
            f"{self.seconds:.1f} s = {rate:.0f} intervals/s; {len(self.failed)} failed, "
            f"{len(self.rejected)} tables rejected"
        )


def _covers(entry: ListingEntry, start: date, end: date, cadence: timedelta) -> bool:
    parsed = try_parse_filename(entry.name)
    if parsed is None:
        return False
    first = parsed.interval.date()
    if parsed.period is Period.WEEK:
        return first <= end and first + timedelta(days=7) > start
    if parsed.period is Period.DAY:
        return start <= first <= end
    # an interval report: the interval ending 00:00 belongs to the day before
    day = (parsed.interval - cadence).date()
    return start <= day <= end


async def _publish(
    bus: Bus, events: Iterable[Event], start: date, end: date, result: BackfillResult
) -> None:
    for event in events:
        day = (event.interval - timedelta(minutes=5)).date()
        if not start <= day <= end:
            continue
        result.stored += await bus.publish(event.subject, event.message, msg_id=event.msg_id)
        result.events += 1
        result.intervals.add(event.interval)


async def _load(source: str, client: NemwebClient) -> tuple[str, bytes]:
    if source.startswith(("http://", "https://")):
        return source.rsplit("/", 1)[-1], await client.download(source)
    path = Path(source)
    return path.name, await asyncio.to_thread(path.read_bytes)


async def backfill(
    bus: Bus,
    client: NemwebClient,
    feed_name: str,
    start: date,
    end: date,
    *,
    sources: list[str] | None = None,
    progress: bool = True,
    force: bool = False,
    on_progress: OnProgress | None = None,
) -> BackfillResult:
    """Publish every interval of `feed_name` between `start` and `end` (inclusive days);
    `force`: also files a backfill of the same range finished before."""
    feed = get_feed(feed_name)
    result = BackfillResult(feed_name)
    began = time.perf_counter()
    kv = await bus.kv(BUCKET)
    if sources:
        targets: list[ListingEntry | str] = list(sources)
    else:
        entries: list[ListingEntry] = []
        for area in (Area.ARCHIVE, Area.CURRENT):
            try:
                listing = await client.list_feed(feed, area)
            except NemwebError as exc:
                log.warning(
                    "backfill_listing_failed", feed=feed_name, area=area.value, error=str(exc)
                )
                continue
            entries += sorted(
                (e for e in listing if not e.is_dir and _covers(e, start, end, feed.cadence)),
                key=lambda e: e.name,
            )
        targets = list(entries)
    with Progress(
        TextColumn(f"backfill {feed_name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[intervals]} intervals"),
        TimeRemainingColumn(),
        disable=not progress,
    ) as bar:
        task = bar.add_task("files", total=len(targets), intervals=0)
        for done, target in enumerate(targets):
            name = target.name if isinstance(target, ListingEntry) else str(target)
            key = key_for(feed_name, f"{start:%Y%m%d}-{end:%Y%m%d}.{Path(name).name}")
            if not force and await kv_get(kv, key) is not None:
                result.skipped += 1
                bar.advance(task)
                if on_progress is not None:
                    await on_progress(done + 1, len(targets), result)
                continue
            try:
                if isinstance(target, ListingEntry):
                    label, data = target.name, await client.download(target)
                else:
                    label, data = await _load(target, client)
                for report in iter_reports(data, name=label, strict=False):
                    read = read_events(feed_name, report)
                    for rejected in read.rejected:
                        result.rejected.append(f"{report.name}: {rejected.describe()}")
                        log.error(
                            "backfill_table_rejected", file=report.name, reason=rejected.describe()
                        )
                    await _publish(bus, read.events, start, end, result)
                    if on_progress is not None:
                        await on_progress(done, len(targets), result)
            except (NemwebError, MmsError, OSError) as exc:
                result.failed.append(name)
                log.error("backfill_file_failed", feed=feed_name, file=name, error=str(exc))
            else:
                await kv.put(key, b"done")
                result.files += 1
            bar.update(task, advance=1, intervals=len(result.intervals))
            if on_progress is not None:
                await on_progress(done + 1, len(targets), result)
    result.seconds = time.perf_counter() - began
    log.info("backfill_done", feed=feed_name, summary=result.summary())
    return result


async def run_backfill(
    feed_name: str, start: date, end: date, *, sources: list[str], progress: bool
) -> BackfillResult:
    """`nemstream backfill`: connect (a bounded wait), backfill, close."""
    async with one_shot(f"backfill-{feed_name}") as bus, NemwebClient(NemwebSettings()) as client:
        return await backfill(
            bus, client, feed_name, start, end, sources=sources, progress=progress
        )
