"""Running the mirror: in the foreground (the CLI) or in the background (tests, `nemstream up`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn

from nemstream_mirror._app import MirrorState, create_app
from nemstream_runtime import serving


def serve(
    directory: Path,
    *,
    port: int = 8089,
    host: str = "127.0.0.1",
    release_every: float | None = None,
    require_user_agent: bool = True,
) -> None:
    """Serve a folder of NEMWeb files as NEMWeb until interrupted."""
    app = create_app(directory, release_every=release_every, require_user_agent=require_user_agent)
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, server_header=False
    )


class RunningMirror:
    """A mirror serving on loopback: its base URL and state (for tests to release or fault)."""

    def __init__(self, server: uvicorn.Server, state: MirrorState) -> None:
        self._server = server
        self.state = state

    @property
    def port(self) -> int:
        """The port the server was given by the OS."""
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL, to use as ``NEMSTREAM_NEMWEB_URL``."""
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def running_mirror(
    directory: Path,
    *,
    release_every: float | None = None,
    auto_release: bool = True,
    require_user_agent: bool = True,
    port: int = 0,
) -> AsyncIterator[RunningMirror]:
    """Run the mirror in this event loop on a free loopback port for the duration of a block."""
    app = create_app(
        directory,
        release_every=release_every,
        require_user_agent=require_user_agent,
        auto_release=auto_release,
    )
    async with serving(app, port=port) as server:
        yield RunningMirror(server, app.state.mirror)
