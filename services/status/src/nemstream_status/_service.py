"""Running the status page: the shared service skeleton (NATS, signals, clean stop) with the
page served on its own port, which also answers ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nemstream_bus import BusSettings, running_service
from nemstream_query import Query, QuerySettings
from nemstream_runtime import bound_port, get_logger, serving
from nemstream_status._app import create_app
from nemstream_status._collector import StatusCollector
from nemstream_status.settings import StatusSettings

log = get_logger(__name__)


async def run_status(
    settings: StatusSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve the page until SIGTERM/SIGINT (or `stop`); `on_ready` hears the port it listens
    on (tests asking for port 0)."""
    query = await asyncio.to_thread(Query, QuerySettings(data_dir=settings.data_dir))
    try:
        async with running_service("status", settings, bus_settings=bus_settings, stop=stop) as svc:
            collector = StatusCollector(svc.bus, query, settings)
            app = create_app(settings, svc.bus, query, collector=collector)
            try:
                async with serving(
                    app, host=settings.health_host, port=settings.status_port
                ) as server:
                    port = bound_port(server) or settings.status_port
                    host = settings.health_host.replace("0.0.0.0", "127.0.0.1")
                    log.info(
                        "status_ready",
                        url=f"http://{host}:{port}/",
                        store=str(settings.store_dir),
                        actions_enabled=bool(settings.keys),
                        keys=settings.keys.names,
                    )
                    if on_ready is not None:
                        on_ready(port)
                    await svc.stop.wait()
            finally:
                await collector.close()
    finally:
        query.close()
