"""`nemstream api`: the HTTP API for other systems."""

from __future__ import annotations

import asyncio

import click


@click.command(help="The HTTP API (port 8000, NEMSTREAM_API_PORT): history, latest, live events.")
def api() -> None:
    """Run the API until SIGTERM/SIGINT."""
    from nemstream_api._service import run_api
    from nemstream_api.settings import ApiSettings
    from nemstream_runtime import configure_logging, load_settings

    configure_logging()
    asyncio.run(run_api(load_settings(ApiSettings)))
