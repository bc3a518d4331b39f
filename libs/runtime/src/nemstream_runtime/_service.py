"""What every nemstream service process shares: signals, and a small HTTP port with
``/healthz`` (alive), ``/readyz`` (its checks: NATS connected, consumer bound, storage writable)
and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nemstream_runtime._logging import get_logger

log = get_logger(__name__)

ReadinessCheck = Callable[[], bool]


class Health:
    """Named readiness checks; the service is ready when every check passes."""

    def __init__(self) -> None:
        self.checks: dict[str, ReadinessCheck] = {}

    def add(self, name: str, check: ReadinessCheck) -> None:
        """Register (or replace) a check."""
        self.checks[name] = check

    def status(self) -> dict[str, bool]:
        """Each check's result (a check that raises counts as failing)."""
        results = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(check())
            except Exception:  # noqa: BLE001 - a check that fails to run means not ready
                results[name] = False
        return results


def health_app(health: Health, service: str) -> Starlette:
    """The ASGI app of the health port."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"service": service, "status": "alive"})

    async def readyz(request: Request) -> Response:
        checks = health.status()
        ready = all(checks.values())
        return JSONResponse(
            {"service": service, "ready": ready, "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


@contextlib.asynccontextmanager
async def serving(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, lifespan: str = "auto"
) -> AsyncIterator[uvicorn.Server]:
    """Serve an ASGI app in this event loop for a block, from the moment it listens (port 0: a
    free port, see `bound_port`). The service keeps its own signal handling."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan=lifespan,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn only has a flag
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
        raise RuntimeError("server stopped before it started")
    try:
        yield server
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task


@contextlib.asynccontextmanager
async def health_server(
    health: Health, service: str, *, port: int, host: str = "0.0.0.0"
) -> AsyncIterator[uvicorn.Server | None]:
    """Serve the health port for a block (port 0: a free port; a negative port: none)."""
    if port < 0:
        yield None
        return
    async with serving(health_app(health, service), host=host, port=port, lifespan="off") as server:
        log.info("health_port_ready", service=service, port=bound_port(server))
        yield server


def bound_port(server: uvicorn.Server | None) -> int | None:
    """The port a health server listens on (for tests that asked for port 0)."""
    if server is None or not server.servers:
        return None
    return int(server.servers[0].sockets[0].getsockname()[1])


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGTERM or SIGINT, so the service finishes in-flight work and exits."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
