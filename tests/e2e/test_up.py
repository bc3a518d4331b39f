"""`nemstream up --offline`: the whole stack as operators run it (embedded nats-server, the
mirror over the samples, four fetchers as processes) delivers every sample interval, then
stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from nemstream_bus import BusSettings, connect
from nemstream_testing import SampleSet, stream_messages, wait_until

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_up_offline_delivers_every_sample_interval(
    samples: SampleSet, tmp_path: Path
) -> None:
    nats_port, mirror_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "NEMSTREAM_SAMPLES_DIR": str(samples.root),
        "NEMSTREAM_POLL_FAST_S": "0.2",
    }
    env.pop("NEMSTREAM_NATS_URL", None)
    stack = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nemstream",
        "up",
        "--offline",
        "--release-every",
        "0.5",
        "--nats-port",
        str(nats_port),
        "--mirror-port",
        str(mirror_port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[bytes] = []

    async def read() -> None:
        assert stack.stdout is not None
        while line := await stack.stdout.readline():
            output.append(line)

    reader = asyncio.create_task(read())
    try:

        async def nats_up() -> bool:
            return any(b"stack_up" in line for line in output)

        await wait_until(nats_up, within=60)
        bus = await connect(
            BusSettings(nats_url=f"nats://127.0.0.1:{nats_port}"), name="e2e", first_attempts=20
        )
        try:

            async def delivered() -> bool:
                try:
                    return len(await stream_messages(bus)) >= 10
                except Exception:  # noqa: BLE001 - the stream appears with the first fetcher
                    return False

            await wait_until(delivered, within=90)
            stored = await stream_messages(bus)
        finally:
            await bus.close()
    finally:
        stack.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(stack.wait(), 60)
        await reader
    text = b"".join(output).decode("utf-8", "replace")
    assert len(stored) == 10 and len({m.msg_id for m in stored}) == 10
    for prefix in (
        "[mirror]",
        "[fetch:dispatch]",
        "[fetch:trading]",
        "[fetch:scada]",
        "[fetch:rooftop]",
    ):
        assert prefix in text
    assert "stack_stopped" in text and code == 0
    assert "Traceback" not in text
