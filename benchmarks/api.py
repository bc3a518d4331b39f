"""The HTTP API (`python -m nemstream_api`) on the scale store: request rate and latency of a
cached 24-hour ``/v1/prices`` and of uncached 1-year daily ``/v1/generation``; live fan-out of
bus events to 1,000 SSE clients beside the same 1,000 clients each holding its own NATS
subscription (the peer an integrator would otherwise write).

    uv run python benchmarks/api.py [--dir .cache/bench] [--runs 5] [--clients 1000]

Builds (or reuses) the store of `scale.py` and serves a hard-linked copy of it: a real
nats-server and the API, each its own process (uvicorn, one worker), rate limits set out of the
way (``NEMSTREAM_API_RATE_LIMIT`` and ``NEMSTREAM_API_STREAM_LIMIT`` at 100,000,000 a second).
Every load comes from other processes on loopback (this script run again with ``--load`` or
``--fanout``), so client CPU is not the server's; all share the machine's two cores.

* **HTTP.** A load process is closed-loop: ``--http`` gives each run's kind and connections
  (aiohttp on uvloop, keep-alive), each connection sending its next request when the last
  answer has been read whole; after ``--warmup`` seconds, the requests completed in
  ``--duration`` seconds give requests/s and the latency of each (send → whole body). Cached
  prices: the same 24 hours up to the store's newest interval, 32 connections, asked again and
  again (the query layer's cache answers; no ``If-None-Match``, so every answer is a full 200).
  Uncached generation: ``resolution=day`` over 1 year, each request's window a day earlier than
  the last one sent across all runs (an hour earlier again after 1,400 days), so the query cache
  never holds it (the API's ``nemstream_query_total`` counter, read before and after each run,
  shows it); at 1 connection (one client's latency), 4 and 8. An empty ``/healthz`` at 32
  connections gives the framework's floor. Kinds are interleaved run by run, in a new order each
  round, after one untimed round; the server's CPU (from /proc) over each run is printed.
* **Fan-out.** ``--clients`` clients in ``--client-procs`` processes; ours: each an SSE
  connection to ``/v1/stream?kinds=prices``; the peer: each its own NATS connection with a core
  subscription on ``nem.dispatch.price.v1``. Once all are connected (for ours, the API's
  ``nemstream_api_stream_clients`` gauge shows them all), this process publishes ``--events``
  real-shaped ``DispatchPrice`` messages to JetStream, one every ``--spacing`` seconds, noting
  the moment before each publish on CLOCK_MONOTONIC (one clock for every process on Linux);
  each client notes each event's arrival on the same clock as its bytes are read. Per event:
  the time until the last client has it; per event and client: the delivery latency. Ours and
  the peer alternate, ``--runs`` each, after one untimed run of each with 3 events. The
  fan-out runs on a fresh API process, so its peak RSS (VmHWM) is the fan-out's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import nats
import numpy as np
import uvloop
from nats.aio.msg import Msg

import livestore
import scale
from nemstream_bus import BusSettings, NatsServer, connect
from nemstream_contracts import DISPATCH_PRICE, DispatchPrice, DispatchPriceRow
from nemstream_market import NEM_TZ, REGIONS
from nemstream_testing import free_port

PRICES_TARGET = (1000.0, 0.050)
"""Cached 24-hour prices: at least this many requests/s with p99 at most this many seconds."""
GENERATION_P95_S = 0.300
FANOUT_P95_S = 0.500
RSS_TARGET_MB = 500.0
UNLIMITED = "100000000/second"
"""Rate limits out of the way. A per-second window: the limiter keeps one entry per request in
its window, and all the benchmark's requests come from one address (see RESULTS.md)."""
ISO = "%Y-%m-%dT%H:%M"
EVENT_END = re.compile(rb"\r\n\r\n|\n\n")
SCRIPT = Path(__file__).resolve()


def clock() -> float:
    """Seconds on CLOCK_MONOTONIC: the same clock in every process of the machine."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (NaN for no values)."""
    return livestore.percentile(values, q) if values else float("nan")


def proc_status(pid: int, field_name: str) -> float:
    """A field of /proc/<pid>/status in MB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- load processes ---------------------------------------------------------------------------


def generation_path(end: datetime, index: int) -> str:
    """The `index`-th distinct 1-year daily window: a day earlier each index (an hour earlier
    again after four years of days, so no two are alike)."""
    last = end - timedelta(days=index % 1400, hours=index // 1400)
    first = last - timedelta(days=365)
    return f"/v1/generation?resolution=day&start={first:{ISO}}&end={last:{ISO}}"


def prices_path(end: datetime) -> str:
    """The store's newest 24 hours of 5-minute prices, every region."""
    return f"/v1/prices?start={end - timedelta(days=1):{ISO}}&end={end:{ISO}}"


async def http_load(args: argparse.Namespace) -> dict[str, Any]:
    """Closed-loop load: `concurrency` connections for `warmup` + `duration` seconds."""
    end = datetime.fromisoformat(args.end)
    counter = itertools.count(args.offset)
    path: Callable[[], str]
    if args.load == "prices":
        fixed = prices_path(end)
        path = lambda: fixed  # noqa: E731
    elif args.load == "generation":
        path = lambda: generation_path(end, next(counter))  # noqa: E731
    else:
        path = lambda: "/healthz"  # noqa: E731
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sizes: list[int] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(args.url, connector=connector, timeout=timeout) as session:
        began = clock()
        measure_from = began + args.warmup
        until = measure_from + args.duration

        async def worker() -> None:
            nonlocal errors
            while (sent := clock()) < until:
                try:
                    async with session.get(path()) as answer:
                        body = await answer.read()
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                    continue
                done = clock()
                if measure_from <= done < until:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if status == 200:
                        latencies.append(done - sent)
                        if len(sizes) < 10:
                            sizes.append(len(body))
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies": latencies,
        "seconds": args.duration,
        "errors": errors,
        "statuses": statuses,
        "bytes": statistics.median(sizes) if sizes else 0,
        "used": next(counter) - args.offset,
        "client_cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": clock() - began,
    }


@dataclass
class Receiver:
    """One fan-out client's arrivals: (event key, CLOCK_MONOTONIC seconds)."""

    arrivals: list[tuple[str, float]] = field(default_factory=list)


async def fanout_client(args: argparse.Namespace) -> dict[str, Any]:
    """Hold `clients` connections (SSE or NATS), say ``ready``, note each event's arrival; end
    when every client has `events` events or ``stop`` comes on stdin."""
    receivers = [Receiver() for _ in range(args.clients)]
    everyone = asyncio.Event()
    complete = 0
    closers: list[Callable[[], Any]] = []
    tasks: list[asyncio.Task[None]] = []

    def arrived(receiver: Receiver, key: str, at: float) -> None:
        nonlocal complete
        receiver.arrivals.append((key, at))
        if len(receiver.arrivals) == args.events:
            complete += 1
            if complete == len(receivers):
                everyone.set()

    rss_before = proc_status(os.getpid(), "VmRSS")
    began = clock()
    gate = asyncio.Semaphore(50)
    if args.fanout == "sse":
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        )
        closers.append(session.close)
        url = f"{args.url}/v1/stream?kinds=prices"

        async def sse(receiver: Receiver, opened: asyncio.Future[None]) -> None:
            try:
                async with gate:
                    answer = await session.get(url)
                if answer.status != 200:
                    raise RuntimeError(f"SSE answered {answer.status}")
            except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
                opened.set_exception(exc)
                return
            buffer = b""
            try:
                async for chunk in answer.content.iter_any():
                    at = clock()
                    buffer += chunk
                    parts = EVENT_END.split(buffer)
                    buffer = parts.pop()
                    for block in parts:
                        if block.startswith(b":"):  # the opening comment: connected
                            if not opened.done():
                                opened.set_result(None)
                            continue
                        for line in block.splitlines():
                            if line.startswith(b"id:"):
                                arrived(receiver, line[3:].strip().decode(), at)
            except aiohttp.ClientError:
                pass
            finally:
                answer.close()
                if not opened.done():
                    opened.set_exception(RuntimeError("the stream ended before it opened"))

        openings: list[asyncio.Future[None]] = []
        for receiver in receivers:
            opened = asyncio.get_running_loop().create_future()
            openings.append(opened)
            tasks.append(asyncio.create_task(sse(receiver, opened)))
        await asyncio.gather(*openings)
    else:

        async def subscribe(receiver: Receiver) -> None:
            async def on_message(message: Msg) -> None:
                key = (message.headers or {}).get("Nats-Msg-Id", "")
                arrived(receiver, key, clock())

            async with gate:
                client = await nats.connect(
                    args.url, allow_reconnect=False, name="bench-peer", connect_timeout=30
                )
                await client.subscribe(DISPATCH_PRICE, cb=on_message)
                await client.flush()
            closers.append(client.close)

        await asyncio.gather(*(subscribe(r) for r in receivers))
    connected_s = clock() - began
    print(f"ready {connected_s:.3f}", flush=True)

    stdin = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin
    )
    stop = asyncio.create_task(stdin.readline())
    finished = asyncio.create_task(everyone.wait())
    await asyncio.wait([stop, finished], return_when=asyncio.FIRST_COMPLETED)
    rss = proc_status(os.getpid(), "VmRSS")
    stop.cancel()
    finished.cancel()
    for task in tasks:
        task.cancel()
    for close in closers:
        with contextlib.suppress(Exception):
            await close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "connected_s": connected_s,
        "arrivals": [r.arrivals for r in receivers],
        "rss_mb": rss - rss_before,
        "client_cpu_s": usage.ru_utime + usage.ru_stime,
    }


# --- the orchestrating process ----------------------------------------------------------------


@dataclass
class Api:
    """The API process under test."""

    process: asyncio.subprocess.Process
    url: str


async def start_api(env: dict[str, str], log: Path) -> Api:
    """`python -m nemstream_api` on a free port, ready."""
    port = free_port()
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "nemstream_api",
            env=env | {"NEMSTREAM_API_PORT": str(port)},
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            await asyncio.to_thread(urllib.request.urlopen, f"{url}/readyz", timeout=2)
            return Api(process, url)
        except OSError:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {log}") from None
            await asyncio.sleep(0.2)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM; kill if it does not stop."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def metric(url: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples whose labels include `labels`."""
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


async def child(out: Path, *options: str) -> asyncio.subprocess.Process:
    """This script run again as a client process; it writes its figures to `out` (JSON) and
    then says ``done`` on its standard output."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(out)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        *options,
        "--out",
        str(out),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


@dataclass
class HttpRun:
    """One load run's figures."""

    rate: float
    p50: float
    p95: float
    p99: float
    errors: int
    bytes: float
    server_cpu: float
    client_cpu: float
    misses: float = float("nan")
    hits: float = float("nan")
    used: int = 0


async def http_run(
    api: Api, kind: str, concurrency: int, args: argparse.Namespace, end: datetime, offset: int
) -> HttpRun:
    """One closed-loop run from a separate load process."""
    duration = args.duration
    query_before = {
        c: metric(api.url, "nemstream_query_total", cache=c) for c in ("hit", "miss", "shared")
    }
    cpu_before, wall_before = cpu_seconds(api.process.pid), clock()
    out = args.work / "load.json"
    load = await child(
        out,
        "--load",
        kind,
        "--url",
        api.url,
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--warmup",
        str(args.warmup),
        "--end",
        end.isoformat(),
        "--offset",
        str(offset),
    )
    await load.communicate()
    cpu = (cpu_seconds(api.process.pid) - cpu_before) / (clock() - wall_before)
    if load.returncode != 0:
        raise RuntimeError(f"the {kind} load process failed")
    got = json.loads(out.read_text())
    query_after = {
        c: metric(api.url, "nemstream_query_total", cache=c) for c in ("hit", "miss", "shared")
    }
    lat: list[float] = got["latencies"]
    return HttpRun(
        rate=len(lat) / got["seconds"],
        p50=quantile(lat, 0.5),
        p95=quantile(lat, 0.95),
        p99=quantile(lat, 0.99),
        errors=int(got["errors"]),
        bytes=float(got["bytes"]),
        server_cpu=cpu,
        client_cpu=float(got["client_cpu_s"]) / float(got["wall_s"]),
        misses=query_after["miss"] - query_before["miss"],
        hits=query_after["hit"]
        + query_after["shared"]
        - query_before["hit"]
        - query_before["shared"],
        used=int(got["used"]),
    )


@dataclass
class FanoutRun:
    """One fan-out run's figures."""

    delivery: list[float]
    last: list[float]
    delivered: int
    expected: int
    connect_s: float
    server_rss: float
    server_rss_idle: float
    server_cpu_per_event: float
    client_rss: float
    client_cpu: float


async def fanout_run(
    side: str,
    api: Api,
    bus: Any,
    nats_server: NatsServer,
    args: argparse.Namespace,
    events: int,
    counter: itertools.count[int],
    end: datetime,
) -> FanoutRun:
    """Connect the clients of one side, publish `events` prices, gather the arrivals."""
    server_pid = api.process.pid if side == "sse" else nats_server_pid(nats_server)
    idle_rss = proc_status(server_pid, "VmRSS")
    shares = [
        args.clients // args.client_procs + (1 if i < args.clients % args.client_procs else 0)
        for i in range(args.client_procs)
    ]
    url = api.url if side == "sse" else nats_server.url
    outs = [args.work / f"fanout-{i}.json" for i in range(len(shares))]
    children = [
        await child(
            out, "--fanout", side, "--url", url, "--clients", str(n), "--events", str(events)
        )
        for out, n in zip(outs, shares, strict=True)
    ]
    connect_s = 0.0
    for process in children:
        assert process.stdout is not None
        said = (await asyncio.wait_for(process.stdout.readline(), 300)).decode()
        if not said.startswith("ready"):
            raise RuntimeError(f"a {side} client process did not connect: {said!r}")
        connect_s = max(connect_s, float(said.split()[1]))
    if side == "sse":
        deadline = time.monotonic() + 60
        while metric(api.url, "nemstream_api_stream_clients", transport="sse") < args.clients:
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not register every SSE client")
            await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    rng = np.random.default_rng(5)
    published: dict[str, float] = {}
    rss = proc_status(server_pid, "VmRSS")
    cpu_before = cpu_seconds(server_pid)
    for _ in range(events):
        n = next(counter)
        interval = end + timedelta(minutes=5 * n)
        source = f"PUBLIC_DISPATCHIS_{interval:%Y%m%d%H%M}_bench{os.getpid()}.zip"
        message = DispatchPrice(
            feed="dispatch",
            source_file=source,
            interval=interval.replace(tzinfo=NEM_TZ),
            rows=[
                DispatchPriceRow(regionid=r, intervention=0, rrp=float(rng.normal(80, 30)))
                for r in REGIONS
            ],
        )
        msg_id = f"bench-api:{os.getpid()}:{n}"
        payload = message.model_dump_json().encode()
        sent = clock()
        ack = await bus.js.publish(DISPATCH_PRICE, payload, headers={"Nats-Msg-Id": msg_id})
        published[str(ack.seq) if side == "sse" else msg_id] = sent
        await asyncio.sleep(max(0.0, sent + args.spacing - clock()))
        rss = max(rss, proc_status(server_pid, "VmRSS"))
    cpu = cpu_seconds(server_pid) - cpu_before
    results = []
    for process, out in zip(children, outs, strict=True):
        assert process.stdout is not None and process.stdin is not None
        try:
            await asyncio.wait_for(process.stdout.readline(), 15)
        except TimeoutError:
            process.stdin.write(b"stop\n")
            await process.stdin.drain()
            await asyncio.wait_for(process.stdout.readline(), 60)
        process.stdin.close()
        if await process.wait() != 0:
            raise RuntimeError(f"a {side} client process failed")
        results.append(json.loads(out.read_text()))
    delivery: list[float] = []
    by_event: dict[str, list[float]] = {key: [] for key in published}
    for result in results:
        for arrivals in result["arrivals"]:
            for key, at in arrivals:
                if key in published:
                    delivery.append(at - published[key])
                    by_event[key].append(at - published[key])
    last = [max(v) if len(v) == args.clients else float("inf") for v in by_event.values()]
    return FanoutRun(
        delivery=delivery,
        last=last,
        delivered=len(delivery),
        expected=args.clients * events,
        connect_s=connect_s,
        server_rss=rss,
        server_rss_idle=idle_rss,
        server_cpu_per_event=cpu / events,
        client_rss=sum(float(r["rss_mb"]) for r in results),
        client_cpu=sum(float(r["client_cpu_s"]) for r in results),
    )


def nats_server_pid(server: NatsServer) -> int:
    """The nats-server's process id."""
    process = server._process
    assert process is not None
    return process.pid


def med(values: list[float]) -> float:
    """Median (NaN for none)."""
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    """Seconds as milliseconds for a table."""
    return "–" if seconds != seconds else f"{seconds * 1000:,.1f}"


async def run(args: argparse.Namespace) -> None:
    """Start nats-server and the API on a copy of the scale store and measure."""
    built = scale.ensure(args.dir)
    end = datetime.fromisoformat(str(built["end"]))
    work = args.work = args.dir / "api"
    data = await livestore.linked_copy(args.dir, work)
    nats_server = NatsServer(work / "nats")
    await nats_server.start()
    env = {
        **os.environ,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_NATS_URL": nats_server.url,
        "NEMSTREAM_HEALTH_HOST": "127.0.0.1",
        "NEMSTREAM_LOG_FORMAT": "json",
        "NEMSTREAM_LOG_LEVEL": args.log_level,
        "NEMSTREAM_API_RATE_LIMIT": args.rate_limit,
        "NEMSTREAM_API_STREAM_LIMIT": args.rate_limit,
    }
    bus = await connect(BusSettings(nats_url=nats_server.url), name="bench-api")
    await bus.ensure_streams()
    http: dict[str, list[HttpRun]] = {}
    fan: dict[str, list[FanoutRun]] = {"sse": [], "nats": []}
    hwm = http_hwm = float("nan")
    baseline_rss = float("nan")
    api: Api | None = None
    kinds = [(k, int(c)) for k, _, c in (part.partition(":") for part in args.http.split(","))]
    try:
        if not args.skip_http:
            api = await start_api(env, work / "api-http.log")
            print(f"store to {end:%Y-%m-%d %H:%M}; API at {api.url} (pid {api.process.pid})")
            offset = 0
            for round_ in range(args.runs + 1):
                order = kinds[:]
                random.Random(round_).shuffle(order)
                for kind, concurrency in order:
                    figures = await http_run(api, kind, concurrency, args, end, offset)
                    offset += figures.used
                    label = f"{kind} c={concurrency}"
                    print(
                        f"  {'warm-up' if round_ == 0 else f'run {round_}'} {label}: "
                        f"{figures.rate:,.0f} req/s, p50 {ms(figures.p50)} ms, p99 "
                        f"{ms(figures.p99)} ms, errors {figures.errors}, server CPU "
                        f"{figures.server_cpu:.0%}, misses {figures.misses:.0f}, hits "
                        f"{figures.hits:.0f}",
                        flush=True,
                    )
                    if round_:
                        http.setdefault(label, []).append(figures)
            http_hwm = proc_status(api.process.pid, "VmHWM")
            await stop_process(api.process)
            api = None
        if not args.skip_fanout:
            api = await start_api(env, work / "api-fanout.log")
            baseline_rss = proc_status(api.process.pid, "VmRSS")
            counter = itertools.count(1)
            for round_ in range(args.runs + 1):
                sides = ["sse", "nats"] if round_ % 2 else ["nats", "sse"]
                for side in sides:
                    events = 3 if round_ == 0 else args.events
                    fanned = await fanout_run(
                        side, api, bus, nats_server, args, events, counter, end
                    )
                    print(
                        f"  {'warm-up' if round_ == 0 else f'run {round_}'} {side}: "
                        f"{fanned.delivered}/{fanned.expected} delivered, delivery p50 "
                        f"{ms(med(fanned.delivery))} p95 {ms(quantile(fanned.delivery, 0.95))} "
                        f"max {ms(max(fanned.delivery, default=float('nan')))} ms; last client "
                        f"p95 {ms(quantile(fanned.last, 0.95))} ms; connect "
                        f"{fanned.connect_s:.1f} s; server RSS {fanned.server_rss_idle:.0f} → "
                        f"{fanned.server_rss:.0f} MB, CPU "
                        f"{fanned.server_cpu_per_event * 1000:.0f} ms/event; clients "
                        f"{fanned.client_rss:.0f} MB",
                        flush=True,
                    )
                    if round_:
                        fan[side].append(fanned)
            hwm = proc_status(api.process.pid, "VmHWM")
    finally:
        if api is not None:
            await stop_process(api.process)
        await bus.close()
        await nats_server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    ordered = {f"{k} c={c}": http[f"{k} c={c}"] for k, c in kinds if f"{k} c={c}" in http}
    report(args, ordered, fan, hwm, baseline_rss)
    if http:
        print(f"\nAPI process peak RSS (VmHWM) after the HTTP runs: {http_hwm:,.0f} MB")


def report(
    args: argparse.Namespace,
    http: dict[str, list[HttpRun]],
    fan: dict[str, list[FanoutRun]],
    hwm: float,
    baseline_rss: float,
) -> None:
    """The tables: medians over the runs, ours beside the peer and the targets."""
    lines: list[str] = []
    if http:
        lines += [
            "",
            f"HTTP, closed loop from a separate process, {args.duration:g} s per run after "
            f"{args.warmup:g} s warm-up; medians of {args.runs} interleaved runs:",
            "",
            "| request | connections | req/s | p50 ms | p95 ms | p99 ms | errors | KB/answer "
            "| server CPU | load process CPU | query cache misses / hits |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        names = {
            "healthz": "`/healthz` (framework floor)",
            "prices": "cached 24 h `/v1/prices`",
            "generation": "uncached 1-year daily `/v1/generation`",
        }
        for label, runs in http.items():
            kind, concurrency = label.split(" c=")
            lines.append(
                f"| {names[kind]} | {concurrency} | {med([r.rate for r in runs]):,.0f} "
                f"| {ms(med([r.p50 for r in runs]))} | {ms(med([r.p95 for r in runs]))} "
                f"| {ms(med([r.p99 for r in runs]))} | {sum(r.errors for r in runs)} "
                f"| {med([r.bytes for r in runs]) / 1024:,.0f} "
                f"| {med([r.server_cpu for r in runs]):.0%} "
                f"| {med([r.client_cpu for r in runs]):.0%} "
                f"| {sum(r.misses for r in runs):,.0f} / {sum(r.hits for r in runs):,.0f} |"
            )
    if fan["sse"] or fan["nats"]:
        lines += [
            "",
            f"Fan-out of {args.events} price events ({args.spacing:g} s apart) to "
            f"{args.clients:,} clients in {args.client_procs} processes; medians of "
            f"{args.runs} interleaved runs (each run's figure over its events and clients):",
            "",
            "| | delivered | delivery p50 ms | p95 ms | max ms | to the last client: p50 ms "
            "| p95 ms | max ms | connect all s | server RSS MB (idle → connected) "
            "| server CPU ms/event | client processes' RSS growth MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for side, name in (("sse", "nemstream SSE"), ("nats", "peer: own NATS subscription")):
            fanned = fan[side]
            if not fanned:
                continue
            rss = (
                f"{med([r.server_rss_idle for r in fanned]):,.0f} → "
                f"{med([r.server_rss for r in fanned]):,.0f}"
            )
            lines.append(
                f"| {name} | {sum(r.delivered for r in fanned):,} / "
                f"{sum(r.expected for r in fanned):,} "
                f"| {ms(med([med(r.delivery) for r in fanned]))} "
                f"| {ms(med([quantile(r.delivery, 0.95) for r in fanned]))} "
                f"| {ms(med([max(r.delivery) for r in fanned]))} "
                f"| {ms(med([med(r.last) for r in fanned]))} "
                f"| {ms(med([quantile(r.last, 0.95) for r in fanned]))} "
                f"| {ms(med([max(r.last) for r in fanned]))} "
                f"| {med([r.connect_s for r in fanned]):.1f} | {rss} "
                f"| {med([r.server_cpu_per_event for r in fanned]) * 1000:,.0f} "
                f"| {med([r.client_rss for r in fanned]):,.0f} |"
            )
        lines.append("")
        lines.append(
            f"API process RSS: {baseline_rss:,.0f} MB fresh; peak (VmHWM) after every fan-out "
            f"run {hwm:,.0f} MB. The peer's server is nats-server (shared by both sides)."
        )
    verdicts: list[tuple[str, str, str, bool]] = []
    for label, runs in http.items():
        kind, concurrency = label.split(" c=")
        if kind == "prices":
            rate, p99 = med([r.rate for r in runs]), med([r.p99 for r in runs])
            verdicts.append(
                (
                    f"cached 24 h prices, {concurrency} connections",
                    f"{rate:,.0f} req/s, p99 {ms(p99)} ms",
                    f"≥ {PRICES_TARGET[0]:,.0f} req/s, p99 ≤ {PRICES_TARGET[1] * 1000:.0f} ms",
                    rate >= PRICES_TARGET[0] and p99 <= PRICES_TARGET[1],
                )
            )
        elif kind == "generation":
            p95 = med([r.p95 for r in runs])
            verdicts.append(
                (
                    f"uncached 1-year generation, {concurrency} connection(s)",
                    f"p95 {ms(p95)} ms",
                    f"p95 ≤ {GENERATION_P95_S * 1000:.0f} ms",
                    p95 <= GENERATION_P95_S,
                )
            )
    sse, peer = fan["sse"], fan["nats"]
    if sse:
        last95 = med([quantile(r.last, 0.95) for r in sse])
        each95 = med([quantile(r.delivery, 0.95) for r in sse])
        peer_last = med([quantile(r.last, 0.95) for r in peer]) if peer else float("nan")
        verdicts.append(
            (
                f"fan-out to {args.clients:,} clients (p95 over events of the time to the last "
                "client)",
                f"{ms(last95)} ms (per delivery p95 {ms(each95)} ms; peer {ms(peer_last)} ms)",
                f"p95 ≤ {FANOUT_P95_S * 1000:.0f} ms",
                last95 <= FANOUT_P95_S,
            )
        )
        verdicts.append(
            (
                f"API RSS with {args.clients:,} SSE clients (VmHWM)",
                f"{hwm:,.0f} MB",
                f"≤ {RSS_TARGET_MB:,.0f} MB",
                hwm <= RSS_TARGET_MB,
            )
        )
    if verdicts:
        lines += ["", "| target | measured (median) | target | |", "|---|---|---|---|"]
        for name, measured, target, met in verdicts:
            lines.append(f"| {name} | {measured} | {target} | {'met' if met else '**missed**'} |")
    print("\n".join(lines))


def main() -> None:
    """Parse the options; orchestrate, or be one of the client processes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each kind and side")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per HTTP run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each is timed")
    parser.add_argument(
        "--http",
        default="healthz:32,prices:32,generation:1,generation:4,generation:8",
        help="the HTTP runs of a round: kind:connections, comma-separated",
    )
    parser.add_argument("--concurrency", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=1000, help="fan-out clients")
    parser.add_argument("--client-procs", type=int, default=2, help="processes holding them")
    parser.add_argument("--events", type=int, default=20, help="events per fan-out run")
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between events")
    parser.add_argument("--rate-limit", default=UNLIMITED, help="the API's rate limits")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--log-level", default="WARNING", help="the API's (with --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the working copy and logs")
    # a client process (this script run by itself)
    parser.add_argument(
        "--load", choices=("healthz", "prices", "generation"), help=argparse.SUPPRESS
    )
    parser.add_argument("--fanout", choices=("sse", "nats"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    if args.load or args.fanout:
        figures = uvloop.run(http_load(args) if args.load else fanout_client(args))
        Path(args.out).write_text(json.dumps(figures))
        print("done", flush=True)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
