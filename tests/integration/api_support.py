"""The API as a real process over a real stack (nats-server, writer, aggregator fed by replay
of real samples), and readers of its live streams."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from tests.e2e.stack_support import Stack, served

KEY = "ops:0123456789abcdef-test-key"
"""An API key for the tests (name ``ops``)."""
TOKEN = KEY.partition(":")[2]


@contextlib.contextmanager
def api_process(stack: Stack, **env: str) -> Iterator[str]:
    """`python -m nemstream_api` over the stack on a free port; yields its base URL."""
    base = stack.env(
        **{
            "NEMSTREAM_API_KEYS": KEY,
            # no other service of the stack serves health ports: probes fail fast
            "NEMSTREAM_STATUS_PROBE_TIMEOUT_S": "0.5",
            **env,
        }
    )
    with served("nemstream_api", "NEMSTREAM_API_PORT", base, stack.logs, ready="/readyz") as url:
        yield url


def log_lines(stack: Stack, prefix: str = "api-") -> list[dict[str, object]]:
    """The JSON log lines of the stack's API processes."""
    out = []
    for path in stack.logs.glob(f"{prefix}*.log"):
        for line in path.read_text("utf-8", "replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out


@dataclass(frozen=True, slots=True)
class Received:
    """One live event as a client got it."""

    id: int
    event: str
    data: dict[str, object]


def read_sse(
    url: str, *, count: int, timeout: float = 30.0, headers: dict[str, str] | None = None
) -> list[Received]:
    """Read `count` events from an SSE URL, then drop the connection."""
    from httpx_sse import connect_sse

    got: list[Received] = []
    with (
        httpx.Client(timeout=timeout) as client,
        connect_sse(client, "GET", url, headers=headers or {}) as source,
    ):
        for sse in source.iter_sse():
            if not sse.data:
                continue
            got.append(Received(int(sse.id), sse.event, json.loads(sse.data)))
            if len(got) >= count:
                break
    return got
