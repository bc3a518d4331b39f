"""Waiting in tests without bare sleeps: a bounded poll of a condition, publishing events and
running a consumer until it has handled them, and stream reading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from nats.js.errors import NotFoundError
from pydantic import BaseModel

from nemstream_bus import Bus, ConsumeLoop


async def wait_until(check: Callable[[], Awaitable[bool]], *, within: float = 20.0) -> None:
    """Poll `check` every 50 ms until it is true; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(0.05)


class Publishable(Protocol):
    """What a fetcher event gives: subject, message id, message."""

    @property
    def subject(self) -> str: ...
    @property
    def msg_id(self) -> str: ...
    @property
    def message(self) -> BaseModel: ...


async def publish_all(bus: Bus, items: Iterable[Publishable], *, id_prefix: str = "") -> None:
    """Publish events in order (`id_prefix` makes new ids: a replay after the dedupe window)."""
    for item in items:
        await bus.publish(item.subject, item.message, msg_id=id_prefix + item.msg_id)


async def consumer_drained(bus: Bus, durable: str) -> bool:
    """Whether a durable consumer has nothing pending and nothing unacknowledged."""
    info = await bus.js.consumer_info(bus.settings.stream_name, durable)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


async def run_until_drained(bus: Bus, loop: ConsumeLoop, *, within: float = 30.0) -> None:
    """Run a consume loop until its consumer has handled everything published, then stop it."""
    task = asyncio.create_task(loop.run())
    try:

        async def done() -> bool:
            return loop.bound and await consumer_drained(bus, loop.spec.durable)

        await wait_until(done, within=within)
    finally:
        loop.stop.set()
        await task


class Consumer(Protocol):
    """A service component that consumes until its loop is told to stop (writer, aggregator)."""

    @property
    def loop(self) -> ConsumeLoop: ...

    async def run(self) -> None: ...


C = TypeVar("C", bound=Consumer)


@asynccontextmanager
async def running(component: C) -> AsyncIterator[C]:
    """Run a consumer in this event loop for a block, then stop it cleanly."""
    task = asyncio.create_task(component.run())
    try:
        yield component
    finally:
        component.loop.stop.set()
        await task


@dataclass(frozen=True, slots=True)
class Stored:
    """One message as the stream holds it."""

    subject: str
    msg_id: str
    body: dict[str, Any]
    headers: dict[str, str]


async def stream_messages(
    bus: Bus, stream: str = "NEM", subject: str | None = None
) -> list[Stored]:
    """Every message in a stream (or on one subject of it), in order, read by sequence."""
    info = await bus.js.stream_info(stream)
    out: list[Stored] = []
    if not info.state.messages:
        return out
    seq = info.state.first_seq
    while seq <= info.state.last_seq:
        try:
            raw = await bus.js.get_msg(stream, seq, subject=subject, next=subject is not None)
        except NotFoundError:
            break  # nothing further on that subject
        headers = dict(raw.headers or {})
        out.append(
            Stored(
                raw.subject or "",
                headers.get("Nats-Msg-Id", ""),
                json.loads(raw.data or b"{}"),
                headers,
            )
        )
        seq = (raw.seq or seq) + 1
    return out
