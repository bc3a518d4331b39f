"""The fetcher: poll a feed's CURRENT folder, turn each new file into events, publish once.

Per cycle: one listing (conditional), the files not yet done in publication order, each
claimed in KV, downloaded, parsed, published (ids: feed, file, table, interval) and marked
published. HTTP failures leave the file for the next cycle; a file that does not parse is
retried on the next cycle, then quarantined with its reason. Nothing here can crash the loop.
Each cycle's outcome (ok, or its first problem) is recorded for the status page (`FeedPolls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from nats.errors import Error as NatsError
from prometheus_client import Counter, Gauge, Histogram

from nemstream_bus import Bus
from nemstream_control import FeedPolls
from nemstream_fetcher._events import Rejected, read_events
from nemstream_fetcher._memory import BUCKET, FileMemory
from nemstream_fetcher._schedule import PollSchedule
from nemstream_fetcher.settings import FetcherSettings
from nemstream_market import nem_time
from nemstream_mms import MmsError, read_report
from nemstream_nemweb import (
    ListingEntry,
    ListingParseError,
    NemwebClient,
    NemwebError,
    get_feed,
    parse_filename,
    pick_new,
)
from nemstream_runtime import crash_point, get_logger

log = get_logger(__name__)

FILES = Counter("nemstream_fetch_files", "Files handled by the fetcher", ["feed", "outcome"])
EVENTS = Counter("nemstream_fetch_events", "Events published", ["feed", "subject", "outcome"])
POLLS = Counter("nemstream_fetch_polls", "Listings of CURRENT", ["feed", "outcome"])
LAST_INTERVAL = Gauge(
    "nemstream_fetch_last_interval_timestamp",
    "Newest interval published (its end, Unix time)",
    ["feed"],
)
BUS_FAILURES = Counter(
    "nemstream_fetch_bus_failures", "Files left for the next cycle because NATS failed", ["feed"]
)
GAPS = Counter("nemstream_fetch_gaps", "Intervals no longer in CURRENT after an outage", ["feed"])
REPEATED = Counter(
    "nemstream_fetch_rows_repeated", "Exact repeats of a row within a file, dropped", ["feed"]
)
REJECTED = Counter(
    "nemstream_fetch_tables_rejected",
    "Tables (or intervals) quarantined from files whose other tables were published",
    ["feed", "table"],
)
FILE_SECONDS = Histogram(
    "nemstream_fetch_file_seconds", "Download, parse and publish time per file", ["feed"]
)


class Fetcher:
    """One feed's fetcher (run several at once safely: KV claims decide who does a file)."""

    def __init__(self, settings: FetcherSettings, bus: Bus, client: NemwebClient) -> None:
        self.settings = settings
        self.feed = get_feed(settings.feed)
        self.bus = bus
        self.client = client
        self.owner = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        cadence = settings.cadence_s or self.feed.cadence.total_seconds()
        self.schedule = PollSchedule(
            cadence=cadence,
            fast=settings.poll_fast_s,
            slow=settings.poll_slow_s,
            early=settings.poll_early_s,
            late=settings.poll_late_s,
        )
        self.memory: FileMemory | None = None
        self.stop = asyncio.Event()
        self.ready = False
        self.published_files = 0
        self._failures: dict[str, int] = {}
        self.polls: FeedPolls | None = None
        self._problem: str | None = None  # the current cycle's first problem
        self._recording: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind the KV memory and read what was done before."""
        kv = await self.bus.kv(BUCKET, ttl_s=timedelta(days=8).total_seconds())
        self.memory = FileMemory(
            kv, self.feed.name, self.owner, lease_s=self.settings.claim_lease_s
        )
        known = await self.memory.load(await self.bus.kv_keys(BUCKET, self.feed.name))
        self.polls = await FeedPolls.open(self.bus)
        log.info("fetcher_started", feed=self.feed.name, known_files=known, owner=self.owner)
        self.ready = True

    async def run(self) -> None:
        """Poll and publish until `stop` is set."""
        if self.memory is None:
            await self.start()
        first = True
        while not self.stop.is_set():
            try:
                await self.cycle(catch_up=first)
                first = False
            except Exception as exc:  # never a crash loop: log (with traceback), back off, go on
                log.exception("cycle_failed", feed=self.feed.name)
                self.schedule.failed()
                await self._record(f"cycle failed: {type(exc).__name__}: {exc}")
            delay = self.schedule.delay(time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)
        if self._recording is not None:  # the last outcome, if NATS takes it
            await asyncio.wait({self._recording}, timeout=1.0)
            self._recording.cancel()

    async def cycle(self, *, catch_up: bool = False) -> int:
        """One listing and every new file in it; returns files published."""
        assert self.memory is not None
        self._problem = None
        try:
            entries = await self.client.list_feed(self.feed)
        except (NemwebError, ListingParseError) as exc:
            POLLS.labels(self.feed.name, "error").inc()
            self.schedule.failed()
            log.warning("listing_failed", feed=self.feed.name, error=str(exc))
            await self._record(f"listing failed: {exc}")
            return 0
        POLLS.labels(self.feed.name, "ok").inc()
        self.schedule.succeeded()
        candidates = pick_new(entries, set(), feed=self.feed)
        since = self._since(candidates) if catch_up and not self.memory.done else None
        todo = [
            e
            for e in candidates
            if not self.memory.finished(e.name)
            and (since is None or parse_filename(e.name).stamp >= since)
        ]
        if catch_up and self.memory.done:
            self._detect_gap(candidates)
        published = 0
        for entry in todo:
            if self.stop.is_set():
                break
            try:
                published += await self.process(entry)
            except NatsError as exc:
                # NATS is restarting or unreachable: the file stays unfinished (claimed by this
                # fetcher, so the next cycle takes it up again; re-published events are dropped
                # by the stream's duplicate window)
                BUS_FAILURES.labels(self.feed.name).inc()
                log.warning(
                    "bus_unavailable", feed=self.feed.name, file=entry.name, error=repr(exc)
                )
                self.schedule.failed()
                self._problem = self._problem or f"NATS unavailable: {exc!r}"
                break
        if published:
            self.schedule.seen_new(time.monotonic())
        await self._record(self._problem)
        return published

    async def _record(self, problem: str | None) -> None:
        """Record the poll's outcome for the status page, in the background: it never holds up
        the feed (one write at a time; while one is in flight, or NATS is away, the outcome is
        left to the next poll)."""
        if self.polls is None or (self._recording is not None and not self._recording.done()):
            return
        self._recording = asyncio.create_task(self._write_poll(self.polls, problem))

    async def _write_poll(self, polls: FeedPolls, problem: str | None) -> None:
        try:
            await asyncio.wait_for(polls.record(self.feed.name, problem), 5.0)
        except Exception as exc:  # noqa: BLE001 - a status record is not worth a failed cycle
            log.debug("poll_record_failed", feed=self.feed.name, error=repr(exc))

    def _since(self, candidates: list[ListingEntry]) -> datetime | None:
        if not candidates:
            return None
        newest = max(parse_filename(e.name).stamp for e in candidates)
        return newest - timedelta(hours=self.settings.lookback_h)

    def _detect_gap(self, candidates: list[ListingEntry]) -> None:
        """After an outage longer than CURRENT keeps, say so (backfill from ARCHIVE fills it)."""
        assert self.memory is not None
        stamps = sorted(parse_filename(e.name).stamp for e in candidates)
        done = sorted(
            parse_filename(e.name).stamp for e in candidates if self.memory.finished(e.name)
        )
        if stamps and not done and self.memory.done:
            GAPS.labels(self.feed.name).inc()
            log.warning(
                "possible_gap",
                feed=self.feed.name,
                oldest_in_current=stamps[0].isoformat(),
                hint=f"nemstream backfill --feed {self.feed.name} --from ... --to "
                f"{stamps[0]:%Y-%m-%d}",
            )

    async def process(self, entry: ListingEntry) -> bool:
        """Claim, download, parse, publish and remember one file; True if it was published."""
        assert self.memory is not None
        claim = await self.memory.claim(entry.name)
        if claim is None:
            return False
        bound = log.bind(feed=self.feed.name, file=entry.name)
        started = time.perf_counter()
        try:
            data = await self.client.download(entry)
        except NemwebError as exc:
            FILES.labels(self.feed.name, "download_failed").inc()
            bound.warning("download_failed", error=str(exc))
            self._problem = self._problem or f"download of {entry.name} failed: {exc}"
            await self.memory.release(entry.name)
            return False
        crash_point("downloaded")
        try:
            result = read_events(self.feed.name, read_report(data, name=entry.name))
            result.require_events(entry.name)
        except MmsError as exc:
            await self._bad_file(entry, data, claim.attempts + 1, exc)
            return False
        events = result.events
        if result.repeated:
            REPEATED.labels(self.feed.name).inc(result.repeated)
            log.warning(
                "rows_repeated", feed=self.feed.name, file=entry.name, dropped=result.repeated
            )
        stored = 0
        for event in events:
            fresh = await self.bus.publish(event.subject, event.message, msg_id=event.msg_id)
            EVENTS.labels(self.feed.name, event.subject, "stored" if fresh else "duplicate").inc()
            stored += fresh
        crash_point("published")
        if result.rejected:
            await self._quarantine_tables(entry, data, result.rejected)
        await self.memory.published(
            entry.name, len(events), rejected=result.reasons() if result.rejected else None
        )
        FILES.labels(self.feed.name, "published").inc()
        FILE_SECONDS.labels(self.feed.name).observe(time.perf_counter() - started)
        if events:
            newest = max(e.interval for e in events)
            LAST_INTERVAL.labels(self.feed.name).set(nem_time(newest).timestamp())
            bound = bound.bind(interval=newest.isoformat())
        bound.info("file_published", events=len(events), stored=stored)
        self.published_files += 1
        return True

    async def _bad_file(
        self, entry: ListingEntry, data: bytes, attempts: int, exc: MmsError
    ) -> None:
        assert self.memory is not None
        reason = str(exc)
        if attempts < self.settings.parse_attempts:
            FILES.labels(self.feed.name, "parse_failed").inc()
            log.warning(
                "file_unreadable",
                feed=self.feed.name,
                file=entry.name,
                attempt=attempts,
                reason=reason,
            )
            await self.memory.failed(entry.name, attempts, reason)
            self._problem = self._problem or f"{entry.name} unreadable: {reason}"
            return
        folder = self.settings.data_dir / "quarantine" / self.feed.name
        path = folder / entry.name
        await asyncio.to_thread(_keep, path, data, reason)
        await self.memory.quarantined(entry.name, attempts, reason)
        FILES.labels(self.feed.name, "quarantined").inc()
        self._problem = self._problem or f"{entry.name} quarantined: {reason}"
        log.error(
            "file_quarantined",
            feed=self.feed.name,
            file=entry.name,
            attempts=attempts,
            reason=reason,
            kept=str(path),
        )

    async def _quarantine_tables(
        self, entry: ListingEntry, data: bytes, rejected: list[Rejected]
    ) -> None:
        """Keep the file for an operator with the reasons of the tables that were not published
        (its other tables were)."""
        path = self.settings.data_dir / "quarantine" / self.feed.name / entry.name
        reasons = "\n".join(r.describe() for r in rejected)
        await asyncio.to_thread(_keep, path, data, f"tables not published:\n{reasons}")
        for item in rejected:
            REJECTED.labels(self.feed.name, item.table).inc()
            log.error(
                "table_quarantined",
                feed=self.feed.name,
                file=entry.name,
                table=item.table,
                interval=item.interval.isoformat() if item.interval else None,
                reason=item.reason,
                kept=str(path),
            )


def _keep(path: Path, data: bytes, reason: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_name(path.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
