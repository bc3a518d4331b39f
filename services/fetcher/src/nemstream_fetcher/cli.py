"""`nemstream fetch`, `nemstream backfill`, `nemstream replay`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import click

from nemstream_nemweb import FEEDS
from nemstream_runtime import configure_logging, load_settings

_FEEDS = click.Choice(list(FEEDS))


@click.command()
@click.option("--feed", type=_FEEDS, envvar=["NEMSTREAM_FEED", "FEED"], required=True)
def fetch(feed: str) -> None:
    """Poll one NEMWeb feed and publish each new file's intervals to NATS, exactly once."""
    from nemstream_fetcher._service import run_fetcher
    from nemstream_fetcher.settings import FetcherSettings

    configure_logging()
    asyncio.run(run_fetcher(load_settings(FetcherSettings, feed=feed)))


@click.command()
@click.option("--feed", type=_FEEDS, required=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="MMSDM monthly file(s), local path or URL, instead of NEMWeb's ARCHIVE/CURRENT.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (logs only).")
def backfill(
    feed: str, start: datetime, end: datetime, sources: tuple[str, ...], no_progress: bool
) -> None:
    """Publish a past date range (inclusive, NEM time) from ARCHIVE day/week zips, CURRENT,
    or MMSDM monthly files; resumable (finished archives are remembered in NATS KV)."""
    from nemstream_bus import run_one_shot
    from nemstream_fetcher._backfill import run_backfill

    result = run_one_shot(
        run_backfill(
            feed,
            start.date(),
            end.date(),
            sources=list(sources),
            progress=not no_progress,
        )
    )
    click.echo(result.summary())
    if result.failed:
        raise SystemExit(1)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="N x real time between intervals; 0: as fast as possible.",
)
def replay(paths: tuple[Path, ...], speed: float) -> None:
    """Publish real historical files as if live (same subjects, same message ids); a folder
    means every file in it, recursively, in name order. Exit 1 if a file was no MMS report."""
    from nemstream_bus import run_one_shot
    from nemstream_fetcher._replay import run_replay

    result = run_one_shot(run_replay(list(paths), speed=speed))
    click.echo(result.summary())
    if result.unreadable:
        raise SystemExit(1)
