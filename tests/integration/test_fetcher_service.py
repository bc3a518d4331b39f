"""The fetcher as a service: health, readiness and metrics on its port; clean SIGTERM stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from nemstream_bus import BusSettings, NatsServer
from nemstream_fetcher import run_fetcher
from nemstream_mirror import RunningMirror
from nemstream_testing import free_port, wait_until
from tests.integration.fetch_support import nemweb, settings


async def test_health_readiness_and_metrics(
    mirror: RunningMirror, nats_server: NatsServer, tmp_path: Path
) -> None:
    port = free_port()
    stop = asyncio.Event()
    service = asyncio.create_task(
        run_fetcher(
            settings("trading", tmp_path, metrics_port=port),
            bus_settings=BusSettings(nats_url=nats_server.url),
            nemweb_settings=nemweb(mirror),
            stop=stop,
        )
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready)
            assert (await http.get("/healthz")).json()["status"] == "alive"
            checks = (await http.get("/readyz")).json()["checks"]
            assert checks == {"nats_connected": True, "memory_bound": True}

            async def published() -> bool:
                text = (await http.get("/metrics")).text
                return 'nemstream_fetch_files_total{feed="trading",outcome="published"}' in text

            await wait_until(published)
            metrics = (await http.get("/metrics")).text
            assert 'nemstream_fetch_polls_total{feed="trading",outcome="ok"}' in metrics
            assert "nemstream_nemweb_requests_total" in metrics
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)
