"""Running the writer as a service: the store's lock first, then the shared service skeleton;
the unit registry (DUID -> region, for the revenue rollup) is read in the background once the
writer is ready, so storing events never waits on it."""

from __future__ import annotations

import asyncio

import polars as pl

from nemstream_bus import BusSettings, running_service
from nemstream_registry import RegistryError, RegistrySettings, load_registry
from nemstream_runtime import get_logger
from nemstream_store import Store
from nemstream_writer._writer import Writer
from nemstream_writer.settings import WriterSettings

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
    """Run the writer until SIGTERM/SIGINT (or `stop`): finish the batch, close the store.
    Raises `StoreLocked` (naming the holder) before anything else when another writer has the
    data directory."""
    store = Store(settings.store_dir)
    async with running_service("writer", settings, bus_settings=bus_settings, stop=stop) as svc:
        writer = Writer(settings, svc.bus, store=store)
        svc.consume(writer.loop)
        svc.health.add("store_writable", lambda: writer.writable)

        async def load_regions() -> None:
            regions = await asyncio.to_thread(unit_regions, registry_settings or RegistrySettings())
            if regions is not None:
                writer.use_regions(regions)

        registry = asyncio.create_task(load_regions())
        try:
            await writer.run()
        finally:
            registry.cancel()
