"""`nemstream up`: the whole stack on one machine, supervised.

Starts an embedded nats-server (unless ``NEMSTREAM_NATS_URL`` names one), optionally the local
NEMWeb mirror over the samples (``--offline``), then every service as its own process with
prefixed logs. A service that dies is restarted with back-off; Ctrl-C (or SIGTERM) stops the
services gracefully (SIGTERM, then kill after a grace period), then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nemstream_bus import NatsServer
from nemstream_runtime import LOG_FORMAT_ENV, get_logger, stop_on_signals

log = get_logger(__name__)

_COLOURS = ["36", "32", "33", "35", "34", "31", "96", "92"]


SERVICES = (
    ("write", "nemstream_writer", "nemstream_writer.settings:WriterSettings"),
    ("aggregate", "nemstream_aggregator", "nemstream_aggregator.settings:AggregatorSettings"),
    (
        "alerts",
        "nemstream_alerts",
        "nemstream_alerts.settings:AlertSettings",
    ),  # dry run until Twilio
    ("mailer", "nemstream_mailer", "nemstream_mailer.settings:MailerSettings"),  # logged until SMTP
)
"""The consumer services `up` runs besides the fetchers: name, module, settings class."""


def default_port(settings_class: str) -> int:
    """A service's own health port: the default of its settings class."""
    module, _, name = settings_class.partition(":")
    fields = getattr(__import__(module, fromlist=[name]), name).model_fields
    return int(fields["metrics_port"].default)


def health_ports(feeds: list[str], base: int | None) -> dict[str, int]:
    """Each child's health/metrics port: its own default, or consecutive ports from `base`.
    Never taken from the environment: one NEMSTREAM_METRICS_PORT for all would collide."""
    from nemstream_fetcher.settings import DEFAULT_PORTS

    ports = {f"fetch:{feed}": DEFAULT_PORTS[feed] for feed in feeds}
    ports.update({name: default_port(settings) for name, _, settings in SERVICES})
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


async def run_stack(
    *,
    feeds: list[str],
    data_dir: Path,
    offline_samples: Path | None,
    release_every: float,
    mirror_port: int,
    nats_port: int,
    ports_from: int | None = None,
    grace_s: float = 10.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Run NATS (embedded unless configured), the mirror (offline) and the services until
    stopped; see the module docstring."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    env = dict(os.environ)
    env.setdefault("NEMSTREAM_DATA_DIR", str(data_dir))
    env.setdefault("NEMSTREAM_LOG_LEVEL", "INFO")
    env.setdefault("NEMSTREAM_HEALTH_HOST", "127.0.0.1")  # one machine: not on the network
    if sys.stdout.isatty():  # children write to a pipe: keep a person's terminal readable
        env.setdefault(LOG_FORMAT_ENV, "console")
    ports = health_ports(feeds, ports_from)
    server: NatsServer | None = None
    if not env.get("NEMSTREAM_NATS_URL"):
        server = NatsServer(data_dir / "nats", port=nats_port)
        await server.start()
        env["NEMSTREAM_NATS_URL"] = server.url
    children: list[Child] = []
    python = sys.executable
    if offline_samples is not None:
        children.append(
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
        children.append(
            Child(
                name,
                [python, "-m", "nemstream_fetcher", "--feed", feed],
                {**env, "NEMSTREAM_FEED": feed, "NEMSTREAM_METRICS_PORT": str(ports[name])},
                _COLOURS[index % len(_COLOURS)],
            )
        )
    for index, (name, module, _) in enumerate(SERVICES, start=len(feeds) + 1):
        children.append(
            Child(
                name,
                [python, "-m", module],
                {**env, "NEMSTREAM_METRICS_PORT": str(ports[name])},
                _COLOURS[index % len(_COLOURS)],
            )
        )
    host = env["NEMSTREAM_HEALTH_HOST"].replace("0.0.0.0", "127.0.0.1")
    log.info(
        "stack_up",
        nats=env["NEMSTREAM_NATS_URL"],
        nemweb=env.get("NEMSTREAM_NEMWEB_URL", "https://nemweb.com.au"),
        services={name: f"http://{host}:{port}/readyz" for name, port in ports.items()},
    )
    tasks = [asyncio.create_task(_supervise(child, stop)) for child in children]
    try:
        await stop.wait()
    finally:
        log.info("stack_stopping")
        await asyncio.gather(*(_terminate(c, grace_s) for c in reversed(children)))
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.stop()
        log.info("stack_stopped")
