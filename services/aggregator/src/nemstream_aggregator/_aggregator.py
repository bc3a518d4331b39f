"""The aggregator: 5-minute events in, 30-minute means out, windows kept in NATS KV.

A half-hour is emitted as soon as its six intervals are in; otherwise once an interval at least
``NEMSTREAM_WATERMARK_S`` past its end has been seen (event time), or after
``NEMSTREAM_IDLE_FLUSH_S`` without news (wall clock), with the count of intervals it used. A
5-minute interval arriving after its half-hour was emitted changes the window, which is emitted
again: the message id carries the aggregate's digest, so the correction is a new message and
the writer replaces the earlier value. Window state is written to KV before the 5-minute message
is acknowledged, so a restart neither loses nor doubles a half-hour (a re-emitted identical
aggregate has the same id and the stream drops it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta

from nats.aio.msg import Msg
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from prometheus_client import Counter
from pydantic import Field, ValidationError

from nemstream_aggregator._windows import SERIES, Series, Window, values_of, window_end
from nemstream_bus import Bus, ConsumeLoop, ConsumerSpec, Permanent, Transient
from nemstream_contracts import decode
from nemstream_runtime import NemstreamSettings, get_logger

log = get_logger(__name__)

BUCKET = "nemstream_aggregator"
EMITTED = Counter("nemstream_aggregator_emitted", "30-minute events published", ["series", "kind"])


class AggregatorSettings(NemstreamSettings):
    """The aggregator service."""

    watermark_s: float = Field(600.0, ge=0, description="event-time lateness before a partial emit")
    idle_flush_s: float = Field(900.0, gt=0, description="wall-clock quiet before a partial emit")
    sweep_every_s: float = Field(30.0, gt=0, description="how often idle windows are checked")
    window_ttl_h: float = Field(72.0, gt=0, description="how long window state is kept in KV")
    metrics_port: int = Field(9111, description="health/metrics port (-1: none)")
    aggregator_durable: str = Field("aggregator", description="durable consumer name")


def _key(series: Series, end: datetime) -> str:
    return f"{series.name}.{end:%Y%m%d%H%M}"


def message_id(series: Series, window: Window) -> str:
    """Id of an aggregate: series, half-hour and digest (a correction gets a new id)."""
    return f"aggregator:{series.name}:{window.end:%Y%m%d%H%M}:{window.digest()}"


class Aggregator:
    """Windows per series and half-hour, mirrored in KV."""

    def __init__(self, settings: AggregatorSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.kv: KeyValue | None = None
        self.windows: dict[str, tuple[Window, int, float]] = {}  # key -> window, revision, touched
        self.latest: dict[str, datetime] = {}  # series -> newest interval seen (event time)
        self.loop = ConsumeLoop(
            bus,
            ConsumerSpec(
                settings.aggregator_durable,
                tuple(SERIES),
                max_deliver=-1,
                backoff_s=(1.0, 5.0, 15.0, 60.0),
            ),
            self.handle,
        )

    async def start(self) -> None:
        """Bind KV and reload the windows not yet emitted in their latest form."""
        self.kv = await self.bus.kv(
            BUCKET, ttl_s=timedelta(hours=self.settings.window_ttl_h).total_seconds()
        )
        for key in await self.bus.kv_keys(BUCKET):
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:  # deleted
                continue
            if entry.value:
                window = Window.load(entry.value)
                self.windows[key] = (window, entry.revision or 0, time.monotonic())
        log.info("aggregator_started", windows=len(self.windows))

    async def handle(self, message: Msg) -> None:
        """Add one 5-minute event to its half-hour; emit what is due."""
        series = SERIES.get(message.subject)
        if series is None:
            raise Permanent(f"no aggregate for {message.subject}")
        try:
            event = decode(message.subject, message.data)
        except ValidationError as exc:
            raise Permanent(f"invalid {message.subject} message: {exc}") from exc
        interval = event.interval.replace(tzinfo=None)
        end = window_end(interval)
        window = await self._window(series, end)
        if window.add(interval, values_of(series, event), event.source_file):
            await self._save(series, window)
        self.latest[series.name] = max(self.latest.get(series.name, interval), interval)
        if window.complete:
            await self.emit(series, window)
        await self.sweep(series)

    async def _window(self, series: Series, end: datetime) -> Window:
        key = _key(series, end)
        cached = self.windows.get(key)
        if cached is not None:
            return cached[0]
        assert self.kv is not None
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            window = Window(series.name, end)
            self.windows[key] = (window, 0, time.monotonic())
            return window
        window = Window.load(entry.value or b"{}")
        self.windows[key] = (window, entry.revision or 0, time.monotonic())
        return window

    async def _save(self, series: Series, window: Window) -> None:
        assert self.kv is not None
        key = _key(series, window.end)
        _, revision, _ = self.windows.get(key, (window, 0, 0.0))
        try:
            if revision:
                revision = await self.kv.update(key, window.dump(), last=revision)
            else:
                revision = await self.kv.create(key, window.dump())
        except KeyWrongLastSequenceError as exc:
            # someone else wrote the window (a second aggregator): reload and retry the message
            self.windows.pop(key, None)
            raise Transient(f"window {key} changed underneath", delay_s=0.5) from exc
        self.windows[key] = (window, revision, time.monotonic())

    async def emit(self, series: Series, window: Window) -> bool:
        """Publish the window's aggregate unless exactly that aggregate was emitted already."""
        digest = window.digest()
        if window.emitted == digest or not window.intervals:
            return False
        kind = "complete" if window.complete else ("correction" if window.emitted else "partial")
        await self.bus.publish(
            series.target, window.message(series), msg_id=message_id(series, window)
        )
        window.emitted = digest
        await self._save(series, window)
        EMITTED.labels(series.name, kind).inc()
        log.info(
            "aggregate_emitted",
            subject=series.target,
            interval=window.end.isoformat(),
            intervals=window.count,
            kind=kind,
        )
        return True

    async def sweep(self, only: Series | None = None) -> int:
        """Emit windows that the watermark (event time) or idleness (wall clock) closed."""
        emitted = 0
        now = time.monotonic()
        watermark = timedelta(seconds=self.settings.watermark_s)
        for key, (window, _, touched) in list(self.windows.items()):
            series = next(s for s in SERIES.values() if s.name == window.series)
            if only is not None and series is not only:
                continue
            latest = self.latest.get(series.name)
            passed = latest is not None and latest >= window.end + watermark
            idle = now - touched >= self.settings.idle_flush_s
            if (passed or idle) and window.emitted != window.digest():
                emitted += await self.emit(series, window)
            if (
                passed
                and window.emitted == window.digest()
                and latest is not None
                and (latest - window.end > timedelta(hours=self.settings.window_ttl_h))
            ):
                self.windows.pop(key, None)  # the KV entry expires by itself
        return emitted

    async def run(self) -> None:
        """Consume until stopped, sweeping idle windows in the background."""
        await self.start()
        sweeper = asyncio.create_task(self._sweep_loop())
        try:
            await self.loop.run()
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_every_s)
            try:
                await self.sweep()
            except Exception:  # never let the sweeper die: it is retried next period
                log.exception("sweep_failed")
