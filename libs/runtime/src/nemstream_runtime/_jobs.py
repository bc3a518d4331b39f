"""Background jobs of a service: something to do every so often while the service runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from nemstream_runtime._logging import get_logger

log = get_logger(__name__)


async def repeat(
    seconds: float,
    job: Callable[[], Awaitable[object]],
    name: str,
    *,
    first_after: float | None = None,
) -> None:
    """Run `job` every `seconds` (the first time after `first_after`, default `seconds`) until
    cancelled; a failing round is logged and the next one runs as planned."""
    await asyncio.sleep(seconds if first_after is None else first_after)
    while True:
        try:
            await job()
        except Exception as exc:
            log.exception("background_job_failed", job=name, error=repr(exc))
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def periodic(
    seconds: float,
    job: Callable[[], Awaitable[object]],
    name: str,
    *,
    first_after: float | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """`repeat` a job in the background for the duration of a block (cancelled on the way
    out), so a background job never outlives, nor ends, the service that runs it."""
    task = asyncio.create_task(repeat(seconds, job, name, first_after=first_after), name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
