"""The skeleton every nemstream service runs in, and the bounded connection of one-shot commands.

A service (`running_service`): stop on SIGTERM/SIGINT, connect to NATS (waiting for it as long
as it takes: a service outlives a server restart), serve ``/healthz``, ``/readyz`` and
``/metrics`` with a ``nats_connected`` check, run its consume loops and background jobs, and on
the way out finish in-flight work, cancel the jobs and drain the connection.

A one-shot command (`one_shot`: replay, backfill, aggregate --from-archive) waits for
NATS only `nats_connect_timeout_s`, then fails with one sentence a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from nats.errors import Error as NatsError

from nemstream_bus._bus import Bus, BusSettings, BusUnavailable, connect
from nemstream_bus._consume import ConsumeLoop
from nemstream_runtime import (
    Health,
    ServiceSettings,
    bound_port,
    get_logger,
    health_server,
    periodic,
    stop_on_signals,
)

log = get_logger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class Service:
    """A running service: its bus, health checks, stop event and background jobs."""

    name: str
    bus: Bus
    health: Health
    stop: asyncio.Event
    jobs: contextlib.AsyncExitStack
    port: int | None = None

    def consume(self, loop: ConsumeLoop) -> ConsumeLoop:
        """Run `loop` under this service: it stops with the service, and ``/readyz`` waits for
        its consumer to be bound."""
        loop.stop = self.stop
        self.health.add(f"consumer_bound:{loop.spec.durable}", lambda: loop.bound)
        return loop

    async def every(
        self,
        seconds: float,
        job: Callable[[], Awaitable[object]],
        name: str,
        *,
        first_after: float | None = None,
    ) -> None:
        """Run `job` every `seconds` in the background until the service stops (`periodic`)."""
        await self.jobs.enter_async_context(
            periodic(seconds, job, f"{self.name}:{name}", first_after=first_after)
        )


@contextlib.asynccontextmanager
async def running_service(
    name: str,
    settings: ServiceSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[Service]:
    """Start-up and shut-down every service shares (see the module docstring)."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    bus = await connect(bus_settings or BusSettings(), name=name)
    health = Health()
    health.add("nats_connected", lambda: bus.connected)
    try:
        async with (
            contextlib.AsyncExitStack() as jobs,
            health_server(
                health, name, port=settings.metrics_port, host=settings.health_host
            ) as server,
        ):
            service = Service(name, bus, health, stop, jobs, bound_port(server))
            log.info("service_started", service=name, port=service.port)
            yield service
            log.info("service_stopping", service=name)
    finally:
        stop.set()
        await bus.close()


@contextlib.asynccontextmanager
async def one_shot(name: str, bus_settings: BusSettings | None = None) -> AsyncIterator[Bus]:
    """A connection for a command that does one job and exits: `BusUnavailable` (one sentence)
    if NATS does not answer within ``NEMSTREAM_NATS_CONNECT_TIMEOUT_S``; publishing rides out a
    server restart for ``NEMSTREAM_PUBLISH_RETRY_S``."""
    settings = bus_settings or BusSettings()
    bus = await connect(settings, name=name, wait_s=settings.nats_connect_timeout_s)
    bus.publish_retry_s = settings.publish_retry_s
    try:
        yield bus
    finally:
        await bus.close()


def run_one_shot(main: Coroutine[Any, Any, T]) -> T:
    """Run a one-shot command's coroutine; NATS out of reach (or gone for longer than
    publishing retries) ends it with one line on stderr and exit status 1, not a traceback."""
    try:
        return asyncio.run(main)
    except BusUnavailable as exc:
        raise SystemExit(f"nemstream: {exc}") from None
    except NatsError as exc:
        raise SystemExit(
            f"nemstream: NATS failed and did not come back within NEMSTREAM_PUBLISH_RETRY_S "
            f"({exc!r}); run the command again: it publishes with the same message ids, so "
            "nothing is stored twice"
        ) from None


__all__ = ["BusUnavailable", "Service", "one_shot", "run_one_shot", "running_service"]
