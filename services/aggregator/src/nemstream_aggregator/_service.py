"""Running the aggregator as a service (or a one-off archive run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nemstream_aggregator._aggregator import Aggregator, AggregatorSettings
from nemstream_aggregator._archive import publish_archive
from nemstream_bus import BusSettings, connect
from nemstream_runtime import Health, get_logger, health_server, stop_on_signals

log = get_logger(__name__)


async def run_aggregator(
    settings: AggregatorSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    bus = await connect(bus_settings or BusSettings(), name="aggregator")
    aggregator = Aggregator(settings, bus)
    aggregator.loop.stop = stop
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    health.add("consumer_bound", lambda: aggregator.loop.bound)
    try:
        async with health_server(health, "aggregator", port=settings.metrics_port):
            await aggregator.run()
    finally:
        await bus.close()


async def run_archive(
    paths: list[Path], bus_settings: BusSettings | None = None
) -> tuple[int, int]:
    """Publish 30-minute history from archive files, then exit."""
    bus = await connect(bus_settings or BusSettings(), name="aggregator-archive")
    try:
        return await publish_archive(bus, paths)
    finally:
        await bus.close()
