"""Waiting in tests without bare sleeps: a bounded poll of a condition, and stream reading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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


async def stream_messages(bus: Bus, stream: str = "NEM") -> list[Stored]:
    """Every message in a stream, in order (read by sequence, no consumer needed)."""
    info = await bus.js.stream_info(stream)
    out: list[Stored] = []
    if not info.state.messages:
        return out
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await bus.js.get_msg(stream, seq)
        headers = dict(raw.headers or {})
        out.append(
            Stored(
                raw.subject or "",
                headers.get("Nats-Msg-Id", ""),
                json.loads(raw.data or b"{}"),
                headers,
            )
        )
    return out
