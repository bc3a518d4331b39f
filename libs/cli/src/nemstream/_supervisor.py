"""`nemstream up`: the whole stack on one machine, supervised.

Starts an embedded nats-server (unless ``NEMSTREAM_NATS_URL`` names one), then every service
as its own process with prefixed logs: first the consumers (writer, aggregator, alerts,
mailer), then, offline, the local NEMWeb mirror over the samples and the fetchers. A service
that dies is restarted with back-off; Ctrl-C (or SIGTERM) stops the services gracefully
(SIGTERM, then kill after a grace period), then the server.

Offline with history (the default), once the writer and the aggregator are ready and before
the mirror and the fetchers start, a one-shot ``nemstream replay --speed 0`` child (logs
prefixed ``[history]``) publishes every sample the mirror will not release as a live interval
report: each subfolder of the samples (a whole day of DispatchIS, forecasts, bids, ...) and
the top-level MMSDM/ARCHIVE files. Same subjects and message ids as live, so the writer and the
aggregator store them as they store live data. It is waited for at most `history_timeout_s`; a
failure is logged and the stack goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nemstream_bus import NatsServer
from nemstream_runtime import LOG_FORMAT_ENV, get_logger, stop_on_signals

log = get_logger(__name__)

_COLOURS = ["36", "32", "33", "35", "34", "31", "96", "92"]


SERVICES = (
    ("write", "nemstream_writer", "nemstream_writer.settings:WriterSettings", "metrics_port"),
    (
        "aggregate",
        "nemstream_aggregator",
        "nemstream_aggregator.settings:AggregatorSettings",
        "metrics_port",
    ),
    # a dry run (texts logged) until Twilio credentials are set
    ("alerts", "nemstream_alerts", "nemstream_alerts.settings:AlertSettings", "metrics_port"),
    # mails logged until NEMSTREAM_SMTP_HOST is set
    ("mailer", "nemstream_mailer", "nemstream_mailer.settings:MailerSettings", "metrics_port"),
    # the HTTP services: their health endpoints are on their own ports
    ("api", "nemstream_api", "nemstream_api.settings:ApiSettings", "api_port"),
    ("status", "nemstream_status", "nemstream_status.settings:StatusSettings", "status_port"),
    (
        "dashboard",
        "nemstream_dashboard",
        "nemstream_dashboard.settings:DashboardSettings",
        "dashboard_port",
    ),
)
"""The services `up` runs besides the fetchers: name, module, settings class, and the setting
that names its port (its environment variable is that name, upper case, under NEMSTREAM_)."""


def default_port(settings_class: str, field: str = "metrics_port") -> int:
    """A service's own port: the default of its settings class."""
    module, _, name = settings_class.partition(":")
    fields = getattr(__import__(module, fromlist=[name]), name).model_fields
    return int(fields[field].default)


def health_ports(feeds: list[str], base: int | None) -> dict[str, int]:
    """Each child's health/metrics port: its own default, or consecutive ports from `base`.
    Never taken from the environment: one NEMSTREAM_METRICS_PORT for all would collide."""
    from nemstream_fetcher.settings import DEFAULT_PORTS

    ports = {f"fetch:{feed}": DEFAULT_PORTS[feed] for feed in feeds}
    ports.update({name: default_port(settings, field) for name, _, settings, field in SERVICES})
    if base is not None:
        ports = {name: base + index for index, name in enumerate(ports)}
    return ports


@dataclass(slots=True)
class Child:
    """A supervised service process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    colour: str
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    stopping: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _prefix(child: Child) -> str:
    label = f"[{child.name}]"
    return f"\033[{child.colour}m{label}\033[0m " if sys.stdout.isatty() else f"{label} "


async def _pipe(child: Child, stream: asyncio.StreamReader) -> None:
    prefix = _prefix(child)
    while line := await stream.readline():
        sys.stdout.write(prefix + line.decode("utf-8", "replace"))
        sys.stdout.flush()


async def _supervise(child: Child, stop: asyncio.Event) -> None:
    """Run a child; restart it with back-off if it dies while the stack is up."""
    pause = 1.0
    while not stop.is_set():
        child.process = await asyncio.create_subprocess_exec(
            *child.argv,
            env=child.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children
        )
        assert child.process.stdout is not None
        pump = asyncio.create_task(_pipe(child, child.process.stdout))
        code = await child.process.wait()
        await pump
        if stop.is_set() or child.stopping:
            return
        child.restarts += 1
        log.warning("service_exited", service=child.name, code=code, restart_in_s=pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        pause = min(pause * 2, 30.0)


async def _terminate(child: Child, grace_s: float) -> None:
    child.stopping = True
    process = child.process
    if process is None or process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        log.warning("service_killed", service=child.name, grace_s=grace_s)
        process.kill()
        await process.wait()


HISTORY_TIMEOUT_S = 600.0
"""How long `up` waits for the history preload before going on without the rest of it."""

READY_TIMEOUT_S = 60.0
"""How long the preload waits for the writer and the aggregator to be ready."""

_HISTORY_NEEDS = ("write", "aggregate")
"""The services that must be ready before history is published (they store it)."""


def history_paths(samples: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """What the offline preload replays, and the top-level files it leaves out with why.

    Replayed: every subfolder of the samples (replay reads each folder whole) and every
    top-level NEMWeb report the mirror will *not* release as a live interval report (its
    catalog says: `MirrorFile.releasable`), i.e. MMSDM monthly and ARCHIVE files. Left out:
    what the mirror releases (the fetchers publish it), what is no report (registration lists,
    ``stations.json``: registry inputs, said here), what the mirror does not serve (said by its
    catalog), documentation."""
    from nemstream_mirror import build_catalog

    placed = {item.source.name: item for item in build_catalog(samples).files.values()}
    paths: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for entry in sorted(samples.iterdir()):
        if entry.name.startswith(".") or entry.suffix.lower() == ".md":
            continue
        if entry.is_dir():
            paths.append(entry)
            continue
        item = placed.get(entry.name)
        if item is None:
            continue  # not served: the catalog has said so (mirror_skipped_file)
        if item.parsed is None:
            skipped.append(
                (entry.name, f"not an MMS report: the mirror serves it under {item.folder}")
            )
        elif not item.releasable:
            paths.append(entry)
    return paths, skipped


async def _ready(url: str) -> bool:
    """Whether a health port answers 200 on its ``/readyz`` (plain HTTP, no client library)."""
    rest = url.removeprefix("http://")
    address, _, path = rest.partition("/")
    host, _, port = address.rpartition(":")
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
    except (OSError, TimeoutError, ValueError):
        return False
    try:
        request = f"GET /{path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: nemstream-up\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 2)
        return status.split()[1:2] == [b"200"]
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _wait_ready(urls: dict[str, str], stop: asyncio.Event, within: float) -> list[str]:
    """Wait until every URL's service is ready (or `within` seconds, or stop); returns the
    names of those still not ready."""
    deadline = asyncio.get_running_loop().time() + within
    waiting = dict(urls)
    while waiting and not stop.is_set():
        waiting = {name: url for name, url in waiting.items() if not await _ready(url)}
        if not waiting or asyncio.get_running_loop().time() >= deadline:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)
    return sorted(waiting)


async def _run_once(child: Child, stop: asyncio.Event, timeout_s: float) -> int | None:
    """Run a one-shot child to its end, at most `timeout_s` (or until stop): its exit code,
    None if it was stopped first."""
    child.process = await asyncio.create_subprocess_exec(
        *child.argv,
        env=child.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert child.process.stdout is not None
    pump = asyncio.create_task(_pipe(child, child.process.stdout))
    ended = asyncio.create_task(child.process.wait())
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({ended, stopped}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not ended.done():
        await _terminate(child, 5.0)
    code = await ended
    await pump
    return None if child.stopping else code


async def _preload_history(
    child: Child,
    samples: Path,
    ready_urls: dict[str, str],
    stop: asyncio.Event,
    timeout_s: float,
) -> None:
    """Replay the samples' history onto the bus in `child` (see the module docstring); every
    outcome is logged, none stops the stack."""
    began = time.perf_counter()
    paths, skipped = await asyncio.to_thread(history_paths, samples)
    for name, reason in skipped:
        log.info("history_skipped_file", file=name, reason=reason)
    if not paths:
        log.info("history_nothing_to_load", samples=str(samples))
        return
    not_ready = await _wait_ready(ready_urls, stop, READY_TIMEOUT_S)
    if stop.is_set():
        return
    if not_ready:  # the stream keeps the events: they are stored once the services are up
        log.warning("history_services_not_ready", services=not_ready, within_s=READY_TIMEOUT_S)
    waited = round(time.perf_counter() - began, 1)
    child.argv = [sys.executable, "-m", "nemstream", "replay", "--speed", "0", *map(str, paths)]
    log.info("history_loading", paths=[str(p.relative_to(samples)) for p in paths])
    began = time.perf_counter()
    code = await _run_once(child, stop, timeout_s)
    seconds = round(time.perf_counter() - began, 1)
    if code == 0:
        log.info("history_loaded", seconds=seconds, waited_for_services_s=waited)
    elif code is None and stop.is_set():
        log.info("history_interrupted", seconds=seconds)
    elif code is None:
        log.error("history_timed_out", seconds=seconds, timeout_s=timeout_s)
    else:
        log.error("history_failed", code=code, seconds=seconds, note="the stack goes on")


async def run_stack(
    *,
    feeds: list[str],
    data_dir: Path,
    offline_samples: Path | None,
    release_every: float,
    mirror_port: int,
    nats_port: int,
    ports_from: int | None = None,
    history: bool = False,
    history_timeout_s: float = HISTORY_TIMEOUT_S,
    grace_s: float = 10.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Run NATS (embedded unless configured), the services, the history preload (offline,
    `history`), the mirror (offline) and the fetchers until stopped; see the module
    docstring."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    env = dict(os.environ)
    env.setdefault("NEMSTREAM_DATA_DIR", str(data_dir))
    env.setdefault("NEMSTREAM_LOG_LEVEL", "INFO")
    env.setdefault("NEMSTREAM_HEALTH_HOST", "127.0.0.1")  # one machine: not on the network
    if sys.stdout.isatty():  # children write to a pipe: keep a person's terminal readable
        env.setdefault(LOG_FORMAT_ENV, "console")
    ports = health_ports(feeds, ports_from)
    host = env["NEMSTREAM_HEALTH_HOST"].replace("0.0.0.0", "127.0.0.1")
    urls = {name: f"http://{host}:{port}/readyz" for name, port in ports.items()}
    server: NatsServer | None = None
    if not env.get("NEMSTREAM_NATS_URL"):
        server = NatsServer(data_dir / "nats", port=nats_port)
        await server.start()
        env["NEMSTREAM_NATS_URL"] = server.url
    python = sys.executable
    sources: list[Child] = []  # the mirror and the fetchers: started after the history
    if offline_samples is not None:
        sources.append(
            Child(
                "mirror",
                [
                    python,
                    "-m",
                    "nemstream_mirror",
                    str(offline_samples),
                    "--port",
                    str(mirror_port),
                    "--release-every",
                    str(release_every),
                ],
                env,
                _COLOURS[0],
            )
        )
        env["NEMSTREAM_NEMWEB_URL"] = f"http://127.0.0.1:{mirror_port}"
        env.setdefault("NEMSTREAM_CADENCE_S", str(release_every))
        env.setdefault("NEMSTREAM_LOOKBACK_H", str(24 * 365 * 20))  # the samples span years
        env.setdefault("NEMSTREAM_SAMPLES_DIR", str(offline_samples))  # registry inputs
    for index, feed in enumerate(feeds, start=1):
        name = f"fetch:{feed}"
        sources.append(
            Child(
                name,
                [python, "-m", "nemstream_fetcher", "--feed", feed],
                {**env, "NEMSTREAM_FEED": feed, "NEMSTREAM_METRICS_PORT": str(ports[name])},
                _COLOURS[index % len(_COLOURS)],
            )
        )
    consumers: list[Child] = []
    for index, (name, module, _, port_setting) in enumerate(SERVICES, start=len(feeds) + 1):
        consumers.append(
            Child(
                name,
                [python, "-m", module],
                {**env, f"NEMSTREAM_{port_setting.upper()}": str(ports[name])},
                _COLOURS[index % len(_COLOURS)],
            )
        )
    children = [*sources, *consumers]  # stopped in reverse: the sources first, then consumers
    tasks = [asyncio.create_task(_supervise(child, stop)) for child in consumers]
    preload: Child | None = None
    if offline_samples is not None and history:
        colour = _COLOURS[(len(feeds) + len(SERVICES) + 1) % len(_COLOURS)]
        preload = Child("history", [], env, colour)
    try:
        if preload is not None and offline_samples is not None:
            ready = {name: urls[name] for name in _HISTORY_NEEDS}
            await _preload_history(preload, offline_samples, ready, stop, history_timeout_s)
        mirror = [child for child in sources if child.name == "mirror"]
        if mirror and not stop.is_set():  # fetchers start once it answers, not to retry first
            tasks.append(asyncio.create_task(_supervise(mirror[0], stop)))
            status = f"http://127.0.0.1:{mirror_port}/_mirror/status"
            if await _wait_ready({"mirror": status}, stop, READY_TIMEOUT_S):
                log.warning("mirror_not_ready", url=status, within_s=READY_TIMEOUT_S)
        if not stop.is_set():
            fetchers = [child for child in sources if child.name != "mirror"]
            tasks += [asyncio.create_task(_supervise(child, stop)) for child in fetchers]
            log.info(
                "stack_up",
                nats=env["NEMSTREAM_NATS_URL"],
                nemweb=env.get("NEMSTREAM_NEMWEB_URL", "https://nemweb.com.au"),
                services=urls,
                dashboard=f"http://{host}:{ports['dashboard']}/",
                api=f"http://{host}:{ports['api']}/docs",
                status=f"http://{host}:{ports['status']}/",
            )
        await stop.wait()
    finally:
        log.info("stack_stopping")
        if preload is not None:
            await _terminate(preload, grace_s)
        await asyncio.gather(*(_terminate(c, grace_s) for c in reversed(children)))
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.stop()
        log.info("stack_stopped")
