"""Waiting in tests without bare sleeps: a bounded poll of a condition, and stream reading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.js.errors import NotFoundError

from nemstream_bus import Bus


async def wait_until(check: Callable[[], Awaitable[bool]], *, within: float = 20.0) -> None:
    """Poll `check` every 50 ms until it is true; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(0.05)


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
