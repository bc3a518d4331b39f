"""`nemstream mirror serve DIR`: a local NEMWeb look-alike for offline tests and demos."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def mirror() -> None:
    """A local web server that looks like NEMWeb to nemstream's client."""


@mirror.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", default=8089, show_default=True, help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--release-every",
    type=float,
    default=None,
    help="Release one file every SECONDS in time order, as the live site does.",
)
def serve(directory: Path, port: int, host: str, release_every: float | None) -> None:
    """Serve DIR (a flat folder of NEMWeb files) under NEMWeb's folder layout."""
    from nemstream_mirror import serve as run

    run(directory, port=port, host=host, release_every=release_every)
