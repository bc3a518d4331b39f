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

import time
from datetime import datetime, timedelta

from nats.aio.msg import Msg
from nats.js.kv import KeyValue
from prometheus_client import Counter

from nemstream_aggregator._emissions import Emissions
from nemstream_aggregator._emissions import message_id as emissions_id
from nemstream_aggregator._windows import SERIES, Series, Window, values_of, window_end
from nemstream_aggregator.settings import AggregatorSettings
from nemstream_bus import (
    Bus,
    ConsumeLoop,
    ConsumerSpec,
    Permanent,
    Transient,
    kv_get,
    kv_swap,
    typed,
)
from nemstream_contracts import EMISSIONS_REGION, SCADA_UNIT, Message, UnitScada
from nemstream_market import naive_nem
from nemstream_runtime import get_logger, periodic

log = get_logger(__name__)

BUCKET = "nemstream_aggregator"
EMITTED = Counter("nemstream_aggregator_emitted", "30-minute events published", ["series", "kind"])


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
        self.emissions = Emissions(settings.data_dir)
        self.loop = ConsumeLoop(
            bus,
            ConsumerSpec(
                settings.aggregator_durable,
                tuple(SERIES),
                max_deliver=-1,
                backoff_s=(1.0, 5.0, 15.0, 60.0),
            ),
            typed(Message, self.handle),
        )

    async def start(self) -> None:
        """Bind KV and reload the windows not yet emitted in their latest form."""
        self.kv = await self.bus.kv(
            BUCKET, ttl_s=timedelta(hours=self.settings.window_ttl_h).total_seconds()
        )
        for key in await self.bus.kv_keys(BUCKET):
            entry = await kv_get(self.kv, key)
            if entry is not None and entry.value:
                window = Window.load(entry.value)
                self.windows[key] = (window, entry.revision or 0, time.monotonic())
        log.info("aggregator_started", windows=len(self.windows))

    async def handle(self, event: Message, message: Msg) -> None:
        """Add one 5-minute event to its half-hour; emit what is due."""
        series = SERIES.get(message.subject)
        if series is None:
            raise Permanent(f"no aggregate for {message.subject}")
        if message.subject == SCADA_UNIT and isinstance(event, UnitScada):
            await self.emit_emissions(event)
        interval = naive_nem(event.interval)
        end = window_end(interval)
        window = await self._window(series, end)
        if window.add(interval, values_of(series, event), event.source_file):
            await self._save(series, window)
        self.latest[series.name] = max(self.latest.get(series.name, interval), interval)
        if window.complete:
            await self.emit(series, window)
        await self.sweep(series)

    async def emit_emissions(self, scada: UnitScada) -> None:
        """Publish the interval's emissions per region (nothing without a factor table)."""
        made = self.emissions.message(scada)
        if made is None:
            return
        message, unfactored = made
        await self.bus.publish(EMISSIONS_REGION, message, msg_id=emissions_id(message))
        EMITTED.labels("emissions.region", "interval").inc()
        log.debug(
            "emissions_emitted",
            interval=message.interval.isoformat(),
            unfactored=len(unfactored),
            factors=message.factors_file,
        )

    async def _window(self, series: Series, end: datetime) -> Window:
        key = _key(series, end)
        cached = self.windows.get(key)
        if cached is not None:
            return cached[0]
        assert self.kv is not None
        entry = await kv_get(self.kv, key)
        if entry is None:
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
        written = await kv_swap(self.kv, key, window.dump(), revision=revision or None)
        if written is None:
            # someone else wrote the window (a second aggregator): reload and retry the message
            self.windows.pop(key, None)
            raise Transient(f"window {key} changed underneath", delay_s=0.5)
        self.windows[key] = (window, written, time.monotonic())

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
        """Consume until the loop's stop event is set, sweeping idle windows in the background."""
        await self.start()
        async with periodic(self.settings.sweep_every_s, self.sweep, "aggregator:sweep"):
            await self.loop.run()
