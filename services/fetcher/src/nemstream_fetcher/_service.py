"""Running a fetcher as a service: NATS, the NEMWeb client, signals and the health port."""

from __future__ import annotations

import asyncio

from nemstream_bus import BusSettings, connect
from nemstream_fetcher._fetcher import Fetcher
from nemstream_fetcher._settings import FetcherSettings
from nemstream_nemweb import NemwebClient, NemwebSettings
from nemstream_runtime import Health, get_logger, health_server, stop_on_signals

log = get_logger(__name__)


async def run_fetcher(
    settings: FetcherSettings,
    *,
    bus_settings: BusSettings | None = None,
    nemweb_settings: NemwebSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one feed's fetcher until SIGTERM/SIGINT (or `stop`), then shut down cleanly."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    service = f"fetcher-{settings.feed}"
    bus = await connect(bus_settings or BusSettings(), name=service)
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    try:
        async with NemwebClient(nemweb_settings or NemwebSettings()) as client:
            fetcher = Fetcher(settings, bus, client)
            fetcher.stop = stop
            health.add("memory_bound", lambda: fetcher.ready)
            async with health_server(health, service, port=settings.port):
                await fetcher.run()
    finally:
        log.info("fetcher_stopping", feed=settings.feed)
        await bus.close()
