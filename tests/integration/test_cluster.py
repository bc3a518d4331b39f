"""The cluster story on one machine: three nats-servers (the same binary, routes on loopback)
form a JetStream cluster; the streams and the writer's consumer are declared at three replicas
(`NEMSTREAM_STREAM_REPLICAS=3`); a replay of a real day runs through it while one server is
killed with SIGKILL and restarted; the store ends complete, with no duplicate key."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemstream_bus import BusSettings, NatsServer, connect
from nemstream_testing import SampleSet, consumer_drained, free_port_block, names, wait_until
from tests.integration.store_support import duplicated_keys, rows

pytestmark = [pytest.mark.slow, pytest.mark.faults]

NODES = 3


def _config(folder: Path, index: int, routes: list[int]) -> Path:
    """One node's configuration: its name, JetStream storage and routes to the others."""
    me = routes[index]
    others = ", ".join(f"nats-route://127.0.0.1:{p}" for p in routes if p != me)
    path = folder / f"n{index}.conf"
    path.write_text(
        f"server_name: n{index}\n"
        "jetstream: enabled\n"  # its store: NatsServer's -sd
        f"cluster {{\n  name: nem\n  listen: 127.0.0.1:{me}\n  routes: [{others}]\n}}\n"
    )
    return path


class Cluster:
    """Three nodes on loopback, each restartable with its own data."""

    def __init__(self, folder: Path) -> None:
        base = free_port_block(2 * NODES)
        self.clients = [base + i for i in range(NODES)]
        self.routes = [base + NODES + i for i in range(NODES)]
        self.configs = [_config(folder, i, self.routes) for i in range(NODES)]
        self.folder = folder
        self.nodes: list[NatsServer] = [self._node(i) for i in range(NODES)]

    def _node(self, index: int) -> NatsServer:
        return NatsServer(
            self.folder / f"n{index}-data",
            port=self.clients[index],
            log_file=self.folder / f"n{index}.log",
            extra_args=["-c", str(self.configs[index]), "-n", f"n{index}"],
        )

    @property
    def url(self) -> str:
        """Every node, as NEMSTREAM_NATS_URL takes a cluster."""
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.clients)

    async def start(self) -> None:
        """Start every node (each waits for its client port)."""
        await asyncio.gather(*(node.start() for node in self.nodes))

    async def kill(self, index: int) -> None:
        """SIGKILL a node: no goodbye to the others, no flush."""
        process = self.nodes[index]._process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.nodes[index]._process = None

    async def restart(self, index: int) -> None:
        """The same node again, on its own data."""
        self.nodes[index] = self._node(index)
        await self.nodes[index].start()

    async def stop(self) -> None:
        """Stop every node still running."""
        await asyncio.gather(*(node.stop() for node in self.nodes), return_exceptions=True)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """A running three-node JetStream cluster."""
    (tmp_path / "cluster").mkdir()
    running = Cluster(tmp_path / "cluster")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_a_replay_survives_a_node_killed_mid_way_with_nothing_lost_or_doubled(
    cluster: Cluster, samples: SampleSet, tmp_path: Path
) -> None:
    settings = BusSettings(nats_url=cluster.url, stream_replicas=3)

    async def declared() -> bool:
        try:
            bus = await connect(settings, name="cluster-test", wait_s=5)
        except Exception:  # noqa: BLE001 - the cluster is still electing its leader
            return False
        try:
            await bus.ensure_streams()
            info = await bus.js.stream_info("NEM")
            return info.config.num_replicas == 3 and info.cluster is not None
        except Exception:  # noqa: BLE001 - no JetStream leader yet
            return False
        finally:
            await bus.close()

    await wait_until(declared, within=60)
    data = tmp_path / "data"
    env = {
        **os.environ,
        "NEMSTREAM_NATS_URL": cluster.url,
        "NEMSTREAM_STREAM_REPLICAS": "3",
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_METRICS_PORT": "-1",
        "NEMSTREAM_WRITER_FLUSH_S": "0.2",
        "NEMSTREAM_LOG_FORMAT": "json",
        "NEMSTREAM_SAMPLES_DIR": str(tmp_path / "no-registry-inputs"),
        "NEMSTREAM_REGISTRY_URL": "http://127.0.0.1:9/unreachable.xlsx",
        "NEMSTREAM_REGISTRY_TIMEOUT": "2",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    with (logs / "writer.log").open("ab") as sink:
        writer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nemstream_writer", env=env, stdout=sink, stderr=sink
        )
    day = samples.folder(names.HISTORY_DAY)
    try:
        with (logs / "replay.log").open("ab") as sink:
            replay = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "nemstream", "replay", "--speed", "0", str(day),
                env=env, stdout=sink, stderr=sink,
            )  # fmt: skip
            await asyncio.sleep(1.0)  # mid-way through the day's 864 events
            await cluster.kill(1)
            await asyncio.sleep(2.0)
            await cluster.restart(1)
            assert await asyncio.wait_for(replay.wait(), 180) == 0, (
                logs / "replay.log"
            ).read_text()[-2000:]
        bus = await connect(settings, name="cluster-check", wait_s=10)
        try:

            async def drained() -> bool:
                with contextlib.suppress(Exception):
                    return await consumer_drained(bus, "writer")
                return False

            await wait_until(drained, within=120)
            info = await bus.js.stream_info("NEM")
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        finally:
            await bus.close()
        store = data / "store"

        async def stored() -> bool:
            return rows(store, "prices5").height >= 288 * 5

        await wait_until(stored, within=60)
        prices = rows(store, "prices5")
        assert prices.select("settlementdate").n_unique() == 288  # every interval of the day
        assert prices.height == 288 * 5
        for table in ("prices5", "regionsum5", "interconnector5"):
            assert duplicated_keys(store, table) == 0, table
    finally:
        with contextlib.suppress(ProcessLookupError):
            writer.terminate()
        await writer.wait()
