"""Running the API: the shared service skeleton (NATS, stop on SIGTERM), the live hub, one query
layer over the store, and the application served on ``NEMSTREAM_API_PORT``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from nemstream_api._app import create_app
from nemstream_api._live import Hub
from nemstream_api._security import Guard
from nemstream_api.settings import ApiSettings
from nemstream_bus import BusSettings, Service, running_service
from nemstream_query import Query, QuerySettings
from nemstream_runtime import bound_port, get_logger, serving

log = get_logger(__name__)

Extra = Callable[[FastAPI, Guard, Service, Query], None]
"""Adds routes that need the running service (status and actions)."""


@contextlib.asynccontextmanager
async def running_api(
    settings: ApiSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
    port: int | None = None,
    extra: Extra | None = None,
) -> AsyncIterator[tuple[Service, int]]:
    """The API serving for a block: yields the service and the port it listens on."""
    quiet = settings.model_copy(update={"metrics_port": -1})  # health is on the API's own port
    async with running_service("api", quiet, bus_settings=bus_settings, stop=stop) as service:
        await service.bus.ensure_streams()
        store = Query(QuerySettings(data_dir=settings.data_dir))
        threading.Thread(target=_warm, args=(store,), name="api-warm", daemon=True).start()
        hub = Hub(
            service.bus, buffer=settings.api_stream_buffer, stall_s=settings.api_client_stall_s
        )
        await hub.start()
        _tune_collector()
        service.health.add("live_stream", lambda: hub.running)
        service.health.add("store_readable", lambda: (settings.data_dir / "store").is_dir())
        app = create_app(
            settings,
            store,
            hub,
            service.health,
            extra=(lambda a, g: extra(a, g, service, store)) if extra else None,
        )
        try:
            async with serving(
                app,
                host=settings.health_host,
                port=settings.api_port if port is None else port,
                lifespan="off",
            ) as server:
                bound = bound_port(server) or settings.api_port
                host = settings.health_host.replace("0.0.0.0", "127.0.0.1")
                log.info(
                    "api_ready",
                    url=f"http://{host}:{bound}/docs",
                    store=str(settings.data_dir / "store"),
                )
                yield service, bound
                await hub.stop()
        finally:
            store.close()


def _warm(store: Query) -> None:
    """Read a year of forecast error sums into the query layer's month memo, in the background,
    so the first year-long `/v1/forecasts/accuracy` after a start is not a cold read."""
    began = time.perf_counter()
    try:
        months = store.warm_forecast_accuracy()
    except Exception as exc:  # noqa: BLE001 - a request will query again and say what failed
        log.warning("api_warm_failed", error=repr(exc))
        return
    log.info("api_warmed", months=months, seconds=round(time.perf_counter() - began, 2))


def _tune_collector() -> None:
    """Fewer, cheaper garbage collections: what exists after start-up is frozen (never scanned
    again) and the young generation is larger. With 1,000 live clients each full collection
    walked some 440,000 long-lived objects for 0.2 s and freed nothing, stalling every
    client's events (benchmarks/RESULTS.md, API)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def run_api(settings: ApiSettings, *, bus_settings: BusSettings | None = None) -> None:
    """Serve until SIGTERM/SIGINT."""
    from nemstream_api._status import status_routes

    async with running_api(settings, bus_settings=bus_settings, extra=status_routes) as (
        service,
        _,
    ):
        await service.stop.wait()
