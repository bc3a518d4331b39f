"""A small real stack for browser tests and the dashboard benchmark: nats-server, the writer and
the aggregator as processes over one data directory, fed by `nemstream replay` of real sample
files, and the dashboard served over the result. Everything is a real process on loopback."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from nemstream_bus import BusSettings, connect, nats_server_binary
from nemstream_registry import (
    build_registry,
    emission_factors_path,
    read_co2eii,
    write_emission_factors,
)
from nemstream_testing import SampleSet, consumer_drained, free_port, names, wait_until

STORE_FILES = [
    names.HISTORY_DAY,  # a whole real day of DispatchIS: prices, demand, flows
    names.PRICE_ARCHIVE,  # March 2026 prices (NSW1, SA1)
    names.ROOFTOP_MONTH,  # December 2019 rooftop PV
    names.ROOFTOP_MEASUREMENT,
    names.ROOFTOP_SATELLITE,
    names.SCADA,  # one real SCADA interval: 2021-09-02 12:55
    names.SCADA_2019,  # one real SCADA interval: 2019-04-29 16:30
    names.TRADINGIS,
    names.DISPATCHIS_2020,
    names.DISPATCHIS_2025,
]
"""Real sample files the test store is built from (through the bus, as live data is)."""

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
"""Debian's chromium, as the machine allows (no browser downloads; no network beyond loopback)."""


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, in a thread of its own (pytest may
    already run an event loop in this one, and Playwright's sync API needs none)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def _wait_http(
    url: str, within: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server behind {url} exited ({process.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {within:g} s")


class Stack:
    """nats-server + writer + aggregator processes over `root` (data directory `root/data`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.nats_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def nats_url(self) -> str:
        """Where the stack's nats-server listens."""
        return f"nats://127.0.0.1:{self.nats_port}"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for the stack's processes."""
        return {
            **os.environ,
            "NEMSTREAM_NATS_URL": self.nats_url,
            "NEMSTREAM_DATA_DIR": str(self.data),
            "NEMSTREAM_LOG_FORMAT": "json",
            "NEMSTREAM_METRICS_PORT": "-1",
            "NEMSTREAM_WRITER_FLUSH_S": "0.2",
            "NEMSTREAM_COMPACT_EVERY_S": "5",
            "NEMSTREAM_REGISTRY_URL": "http://127.0.0.1:9/unreachable.xlsx",
            "NEMSTREAM_SAMPLES_DIR": str(self.root / "no-samples"),
            "NEMSTREAM_EMISSION_FACTORS_EVERY_S": "0",  # the factors are given (`factors`)
            **extra,
        }

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """Start a process whose output goes to ``logs/<name>.log``."""
        with (self.logs / f"{name}.log").open("ab") as sink:
            process = subprocess.Popen(
                args, env=self.env(**env), stdout=sink, stderr=subprocess.STDOUT
            )
        self.processes[name] = process
        return process

    def start(self) -> None:
        """nats-server, then the writer and the aggregator."""
        store = self.root / "nats"
        store.mkdir(parents=True, exist_ok=True)
        self.spawn(
            "nats",
            nats_server_binary(),
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            str(self.nats_port),
            "-sd",
            str(store),
        )
        run_async(self._streams())
        self.spawn("writer", sys.executable, "-m", "nemstream_writer")
        self.spawn("aggregator", sys.executable, "-m", "nemstream_aggregator")

    async def _streams(self) -> None:
        bus = await connect(BusSettings(nats_url=self.nats_url), name="e2e", wait_s=20)
        await bus.close()

    def load(self, samples: SampleSet, files: list[str] = STORE_FILES) -> None:
        """Replay real files through the bus and wait until the writer has stored them (the
        emission factors first, so the aggregator makes emissions of the SCADA among them)."""
        self.factors(samples)
        paths = [
            str(samples.folder(n) if (samples.root / n).is_dir() else samples.path(n))
            for n in files
        ]
        done = subprocess.run(
            [sys.executable, "-m", "nemstream", "replay", "--speed", "0", *paths],
            env=self.env(),
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        self.registry(samples)
        run_async(self.settled())

    async def settled(self, within: float = 180.0) -> None:
        """Wait until the writer and the aggregator have handled everything published, and the
        writer's maintenance (compaction, daily rollups) has run over it."""
        bus = await connect(BusSettings(nats_url=self.nats_url), name="e2e-wait", wait_s=20)
        try:

            async def drained() -> bool:
                for durable in ("writer", "aggregator"):
                    with contextlib.suppress(Exception):
                        if not await consumer_drained(bus, durable):
                            return False
                return True

            await wait_until(drained, within=within)
            await asyncio.sleep(7.0)  # one maintenance period (NEMSTREAM_COMPACT_EVERY_S=5)
            await wait_until(drained, within=within)
        finally:
            await bus.close()

    def registry(self, samples: SampleSet) -> None:
        """The unit registry from AEMO's real registration list, where the services look."""
        target = self.data / "registry" / "units.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        build_registry([samples.path(names.REGISTRATION_LIST)], target)

    def factors(self, samples: SampleSet) -> None:
        """The emission factor table from AEMO's real CO2EII list, where the aggregator looks."""
        factors = read_co2eii(samples.path(names.CO2EII_GENERATORS))
        write_emission_factors(factors, emission_factors_path(self.data))

    def stop(self) -> None:
        """SIGTERM every process (the server last), kill what does not stop."""
        for name in [n for n in self.processes if n != "nats"] + ["nats"]:
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose output goes to `log`, stopped (SIGTERM, then kill) at the end."""
    with log.open("ab") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def served(
    module: str, port_variable: str, env: dict[str, str], logs: Path, *, ready: str = "/healthz"
) -> Iterator[str]:
    """`python -m <module>` on a free port (its ``port_variable``) on loopback, logging to
    ``logs/<name>-<port>.log``; yields its URL once `ready` answers 200."""
    port = free_port()
    log = logs / f"{module.removeprefix('nemstream_')}-{port}.log"
    env = {**env, port_variable: str(port), "NEMSTREAM_HEALTH_HOST": "127.0.0.1"}
    with child([sys.executable, "-m", module], env, log) as process:
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_http(f"{url}{ready}", process=process)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text("utf-8", "replace")[-3000:]
            raise RuntimeError(f"{exc}; its log ends:\n{tail}") from exc
        yield url


@contextlib.contextmanager
def dashboard(data: Path, logs: Path, **env: str) -> Iterator[str]:
    """The dashboard over `data` on a free port; yields its URL."""
    base = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_LOG_FORMAT": "json",
        **env,
    }
    with served("nemstream_dashboard", "NEMSTREAM_DASHBOARD_PORT", base, logs) as url:
        yield url


@contextlib.contextmanager
def loaded_stack(samples: SampleSet, root: Path, files: list[str] = STORE_FILES) -> Iterator[Stack]:
    """nats-server, writer and aggregator with real samples (`files`) replayed into the store."""
    running = Stack(root)
    running.start()
    try:
        running.load(samples, files)
        yield running
    finally:
        running.stop()
