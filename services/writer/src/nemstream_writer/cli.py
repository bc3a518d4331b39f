"""`nemstream write`."""

from __future__ import annotations

import asyncio

import click

from nemstream_runtime import configure_logging, load_settings


@click.command()
def write() -> None:
    """Store every event in the parquet store (exactly once), compact, roll up."""
    from nemstream_store import StoreLocked
    from nemstream_writer._service import run_writer
    from nemstream_writer.settings import WriterSettings

    configure_logging()
    try:
        asyncio.run(run_writer(load_settings(WriterSettings)))
    except StoreLocked as exc:
        raise SystemExit(f"nemstream write: {exc}") from None
