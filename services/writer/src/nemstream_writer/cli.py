"""`nemstream write`."""

from __future__ import annotations

import asyncio

import click

from nemstream_runtime import configure_logging


@click.command()
def write() -> None:
    """Store every event in the parquet store (exactly once), compact, roll up."""
    from nemstream_writer._service import run_writer
    from nemstream_writer._writer import WriterSettings

    configure_logging()
    asyncio.run(run_writer(WriterSettings()))
