"""The writer: a durable consumer of every table's subject, flushing each fetched batch into the
store (one part per table and month), acknowledging only once the parts and manifests are on
disk. Invalid messages are terminated and dead-lettered; a store that cannot be written (disk
full, read-only) naks the batch, raises an alarm, and retries until it can."""

from __future__ import annotations

import asyncio
from datetime import date

import polars as pl
from nats.aio.msg import Msg
from prometheus_client import Counter, Gauge

from nemstream_bus import Bus, ConsumeLoop, ConsumerSpec, Permanent, Transient, decode_message
from nemstream_market import nem_now
from nemstream_runtime import get_logger, periodic
from nemstream_store import (
    BY_SUBJECT,
    SOURCES,
    TABLES,
    SchemaMismatch,
    Store,
    StoreUnwritable,
    rebuild_daily,
    stale_months,
    unit_from_message,
    unwritable_as_such,
)
from nemstream_writer.settings import WriterSettings

log = get_logger(__name__)

UNWRITABLE = Gauge("nemstream_writer_store_unwritable", "1 while the store cannot be written")
WRITE_ERRORS = Counter("nemstream_writer_write_errors", "Batches the store refused", ["error"])
MAINTENANCE = Counter("nemstream_writer_maintenance", "Maintenance runs", ["job", "outcome"])


def consumer_spec(settings: WriterSettings) -> ConsumerSpec:
    """Every subject with a table; unlimited redelivery (a full disk must not lose data)."""
    return ConsumerSpec(
        settings.writer_durable,
        tuple(BY_SUBJECT),
        max_deliver=-1,
        ack_wait_s=120.0,
        backoff_s=(1.0, 5.0, 15.0, 60.0),
        max_ack_pending=20_000,
    )


class Writer:
    """The writer's state: the store, the rollup's unit regions, what needs rolling up."""

    def __init__(
        self,
        settings: WriterSettings,
        bus: Bus,
        regions: pl.DataFrame | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = store or Store(settings.store_dir)
        self.regions = (
            regions
            if regions is not None
            else pl.DataFrame(schema={"duid": pl.String, "region": pl.String})
        )
        self.rolled_without_regions: set[str] = set()  # months to roll up again with them
        self.lock = asyncio.Lock()
        self.dirty: dict[str, set[date] | None] = {}  # month -> changed days (None: all)
        self.writable = True
        self.loop = ConsumeLoop(
            bus,
            consumer_spec(settings),
            batch_handler=self.handle,
            batch=settings.writer_batch,
            fetch_timeout_s=settings.writer_flush_s,
        )

    async def start(self) -> None:
        """Recover from any crash, and mark months whose rollup is older than their data."""
        reindexed = await asyncio.to_thread(self.store.recover)
        for month in stale_months(self.store):
            self.dirty[month] = None
        log.info("writer_started", store=str(self.settings.store_dir), reindexed=reindexed)

    def use_regions(self, regions: pl.DataFrame) -> None:
        """Price the rollup's energy at each unit's region from now on; months already rolled
        up without them are rolled up again."""
        self.regions = regions
        for month in self.rolled_without_regions:
            self.dirty[month] = None
        self.rolled_without_regions.clear()
        log.info("unit_regions_loaded", units=regions.height)

    async def handle(self, messages: list[Msg]) -> dict[int, str]:
        """Store a batch; returns the invalid ones (index -> reason)."""
        units, invalid = [], {}
        for index, message in enumerate(messages):
            try:
                units.append(unit_from_message(message.subject, decode_message(message)))
            except Permanent as exc:
                invalid[index] = str(exc)
            except (SchemaMismatch, KeyError) as exc:
                invalid[index] = f"{message.subject} message has no place in the store: {exc}"
        if units:
            async with self.lock:
                try:
                    result = await asyncio.to_thread(self.store.write, units)
                except StoreUnwritable as exc:
                    self._unwritable(exc)
                    raise Transient(f"store not writable: {exc}", delay_s=5.0) from exc
            if not self.writable:
                log.info("store_writable_again", store=str(self.settings.store_dir))
            self.writable = True
            UNWRITABLE.set(0)
            for table, day in result.days:
                if table in SOURCES:
                    month = day.strftime("%Y-%m")
                    if month not in self.dirty:
                        self.dirty[month] = set()
                    if (days := self.dirty[month]) is not None:
                        days.add(day)
            log.debug(
                "batch_stored",
                messages=len(messages),
                stored=result.stored,
                duplicates=result.duplicates,
                corrected=result.corrected,
                repeated_rows=result.repeated_rows,
            )
        return invalid

    def _unwritable(self, exc: StoreUnwritable) -> None:
        """Raise the alarm: ``/readyz`` fails, the gauge is 1, the cause is logged and counted."""
        self.writable = False
        UNWRITABLE.set(1)
        WRITE_ERRORS.labels(exc.cause).inc()
        log.error(
            "store_unwritable",
            store=str(self.settings.store_dir),
            cause=exc.cause,
            error=exc.detail,
            effect="batch not acknowledged: redelivered until the store can be written",
        )

    def _maintain(self) -> None:
        current = nem_now().strftime("%Y-%m")
        for table in [*TABLES, "daily_unit", "daily_rooftop"]:
            self.store.compact(
                table, min_parts=self.settings.compact_min_parts, current_month=current
            )
        for month, days in sorted(self.dirty.items()):
            rebuild_daily(self.store, month, self.regions, days)
            if self.regions.is_empty():
                self.rolled_without_regions.add(month)
            del self.dirty[month]
        self.store.collect_garbage()

    async def maintain(self) -> None:
        """Compact, roll up changed months, delete replaced parts past their grace period."""
        async with self.lock:
            try:
                with unwritable_as_such("maintenance"):
                    await asyncio.to_thread(self._maintain)
                MAINTENANCE.labels("maintain", "ok").inc()
            except StoreUnwritable as exc:
                MAINTENANCE.labels("maintain", "error").inc()
                self._unwritable(exc)
            except OSError as exc:
                MAINTENANCE.labels("maintain", "error").inc()
                log.error("maintenance_failed", error=str(exc))

    async def run(self) -> None:
        """Consume and maintain until the loop's stop event is set."""
        await self.start()
        try:
            async with periodic(self.settings.compact_every_s, self.maintain, "writer:maintain"):
                await self.loop.run()
        finally:
            async with self.lock:
                await asyncio.to_thread(self.store.close)
