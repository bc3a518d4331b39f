"""`nemstream status`: the status page for operators."""

from __future__ import annotations

import asyncio

import click


@click.command(help="The status page: feeds, consumers, services, store gaps and actions (5011).")
def status() -> None:
    """Serve the status page until SIGTERM/SIGINT."""
    from nemstream_runtime import configure_logging, load_settings
    from nemstream_status._service import run_status
    from nemstream_status.settings import StatusSettings

    configure_logging()
    asyncio.run(run_status(load_settings(StatusSettings)))
