"""The writer: a durable consumer of every table's subject, flushing each fetched batch into the
store (one part per table and month), acknowledging only once the parts and manifests are on
disk. Invalid messages are terminated and dead-lettered; a store that cannot be written (disk
full, read-only) naks the batch, raises an alarm, and retries until it can."""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import date, datetime
from pathlib import Path

import polars as pl
from nats.aio.msg import Msg
from prometheus_client import Counter, Gauge
from pydantic import Field, ValidationError

from nemstream_bus import Bus, ConsumeLoop, ConsumerSpec, Transient
from nemstream_contracts import NEM_TZ, UnknownSubject, decode
from nemstream_runtime import NemstreamSettings, get_logger
from nemstream_store import (
    BY_SUBJECT,
    SOURCES,
    TABLES,
    Store,
    rebuild_daily,
    stale_months,
    unit_from_message,
)

log = get_logger(__name__)

UNWRITABLE = Gauge("nemstream_writer_store_unwritable", "1 while the store cannot be written")
WRITE_ERRORS = Counter("nemstream_writer_write_errors", "Batches the store refused", ["error"])
MAINTENANCE = Counter("nemstream_writer_maintenance", "Maintenance runs", ["job", "outcome"])


class WriterSettings(NemstreamSettings):
    """The writer service."""

    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    writer_batch: int = Field(500, ge=1, description="messages per flush at most")
    writer_flush_s: float = Field(1.0, gt=0, description="flush at least this often (age)")
    compact_every_s: float = Field(60.0, gt=0, description="compaction/rollup period")
    compact_min_parts: int = Field(12, ge=2, description="small parts that trigger a merge")
    metrics_port: int = Field(9110, description="health/metrics port (-1: none)")
    writer_durable: str = Field("writer", description="durable consumer name")
    writer_crash_at: str | None = Field(
        None, description="fault tests only: exit abruptly at part_written | manifest_swapped"
    )

    @property
    def store_dir(self) -> Path:
        """Where the tables live."""
        return self.data_dir / "store"


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
        self, settings: WriterSettings, bus: Bus, regions: pl.DataFrame | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = Store(settings.store_dir, fault=self._fault)
        self.regions = (
            regions
            if regions is not None
            else pl.DataFrame(schema={"duid": pl.String, "region": pl.String})
        )
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

    def _fault(self, point: str) -> None:
        if self.settings.writer_crash_at == point:
            log.warning("fault_injection_exit", point=point)
            os._exit(86)

    async def start(self) -> None:
        """Recover from any crash, and mark months whose rollup is older than their data."""
        reindexed = await asyncio.to_thread(self.store.recover)
        for month in stale_months(self.store):
            self.dirty[month] = None
        log.info("writer_started", store=str(self.settings.store_dir), reindexed=reindexed)

    async def handle(self, messages: list[Msg]) -> dict[int, str]:
        """Store a batch; returns the invalid ones (index -> reason)."""
        units, invalid = [], {}
        for index, message in enumerate(messages):
            try:
                units.append(
                    unit_from_message(message.subject, decode(message.subject, message.data))
                )
            except (ValidationError, UnknownSubject, ValueError, KeyError) as exc:
                invalid[index] = f"invalid {message.subject} message: {exc}"[:2000]
        if units:
            async with self.lock:
                try:
                    result = await asyncio.to_thread(self.store.write, units)
                except OSError as exc:
                    self.writable = False
                    UNWRITABLE.set(1)
                    WRITE_ERRORS.labels(type(exc).__name__).inc()
                    log.error(
                        "store_unwritable", store=str(self.settings.store_dir), error=str(exc)
                    )
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
            )
        return invalid

    def _maintain(self) -> None:
        current = datetime.now(NEM_TZ).strftime("%Y-%m")
        for table in [*TABLES, "daily_unit", "daily_rooftop"]:
            self.store.compact(
                table, min_parts=self.settings.compact_min_parts, current_month=current
            )
        for month, days in sorted(self.dirty.items()):
            rebuild_daily(self.store, month, self.regions, days)
            del self.dirty[month]
        self.store.collect_garbage()

    async def maintain(self) -> None:
        """Compact, roll up changed months, delete replaced parts past their grace period."""
        async with self.lock:
            try:
                await asyncio.to_thread(self._maintain)
                MAINTENANCE.labels("maintain", "ok").inc()
            except OSError as exc:
                MAINTENANCE.labels("maintain", "error").inc()
                log.error("maintenance_failed", error=str(exc))

    async def run(self) -> None:
        """Consume and maintain until the loop's stop event is set."""
        await self.start()
        maintenance = asyncio.create_task(self._maintenance_loop())
        try:
            await self.loop.run()
        finally:
            maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await maintenance
            async with self.lock:
                await asyncio.to_thread(self.store.close)

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.compact_every_s)
            await self.maintain()
