"""`nemstream aggregate [--from-archive PATH...]`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from nemstream_runtime import configure_logging, load_settings


@click.command()
@click.option(
    "--from-archive",
    "archives",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Publish 30-minute history computed from MMSDM/ARCHIVE/TradingIS files, then exit.",
)
def aggregate(archives: tuple[Path, ...]) -> None:
    """Build 30-minute means from the 5-minute events (the aggregator service)."""
    from nemstream_aggregator._service import run_aggregator, run_archive
    from nemstream_aggregator.settings import AggregatorSettings
    from nemstream_bus import run_one_shot

    configure_logging()
    if archives:
        published, new = run_one_shot(run_archive(list(archives)))
        click.echo(f"published {published} half-hours ({new} new)")
        return
    asyncio.run(run_aggregator(load_settings(AggregatorSettings)))
