"""Running the writer as a service: NATS, the registry for rollups, signals, health port."""

from __future__ import annotations

import asyncio

import polars as pl

from nemstream_bus import BusSettings, connect
from nemstream_registry import RegistryError, RegistrySettings, load_registry
from nemstream_runtime import Health, get_logger, health_server, stop_on_signals
from nemstream_writer._writer import Writer, WriterSettings

log = get_logger(__name__)


def unit_regions(settings: RegistrySettings) -> pl.DataFrame | None:
    """DUID -> region from the default registry (rollups price energy at the unit's region)."""
    try:
        return load_registry(settings).select("duid", "region")
    except (RegistryError, OSError) as exc:
        log.warning("registry_unavailable", error=str(exc), effect="revenue not rolled up")
        return None


async def run_writer(
    settings: WriterSettings,
    *,
    bus_settings: BusSettings | None = None,
    registry_settings: RegistrySettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the writer until SIGTERM/SIGINT (or `stop`): finish the batch, close the store."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    regions = await asyncio.to_thread(unit_regions, registry_settings or RegistrySettings())
    bus = await connect(bus_settings or BusSettings(), name="writer")
    writer = Writer(settings, bus, regions)
    writer.loop.stop = stop
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    health.add("consumer_bound", lambda: writer.loop.bound)
    health.add("store_writable", lambda: writer.writable)
    try:
        async with health_server(health, "writer", port=settings.metrics_port):
            await writer.run()
    finally:
        await bus.close()
