"""Running a fetcher as a service: the shared service skeleton plus the NEMWeb client, and the
worker that takes this feed's backfill requests (``control.backfill.<feed>``) meanwhile."""

from __future__ import annotations

import asyncio

from nemstream_bus import BusSettings, running_service
from nemstream_fetcher._control import backfill_worker
from nemstream_fetcher._fetcher import Fetcher
from nemstream_fetcher.settings import FetcherSettings
from nemstream_nemweb import NemwebClient, NemwebSettings


async def run_fetcher(
    settings: FetcherSettings,
    *,
    bus_settings: BusSettings | None = None,
    nemweb_settings: NemwebSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one feed's fetcher until SIGTERM/SIGINT (or `stop`), then shut down cleanly."""
    async with (
        running_service(
            f"fetcher-{settings.feed}", settings, bus_settings=bus_settings, stop=stop
        ) as service,
        NemwebClient(nemweb_settings or NemwebSettings()) as client,
    ):
        fetcher = Fetcher(settings, service.bus, client)
        fetcher.stop = service.stop
        service.health.add("memory_bound", lambda: fetcher.ready)
        # stopped before the client closes: a backfill in hand goes back to the stream
        async with backfill_worker(settings.feed, service.bus, client).background():
            await fetcher.run()
