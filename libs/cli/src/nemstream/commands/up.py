"""`nemstream up [--offline]`: the whole stack, supervised, with an embedded nats-server."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from nemstream_nemweb import FEEDS


def _samples(given: Path | None) -> Path:
    candidates = [given] if given else []
    if os.environ.get("NEMSTREAM_SAMPLES_DIR"):
        candidates.append(Path(os.environ["NEMSTREAM_SAMPLES_DIR"]))
    for base in [Path.cwd(), *Path.cwd().parents][:3]:
        candidates.append(base / ".." / "shared" / "nemweb")
        candidates.append(base / ".cache" / "nemweb")
    for path in candidates:
        if path is not None and path.is_dir() and any(path.iterdir()):
            return path.resolve()
    raise click.UsageError(
        "--offline needs real NEMWeb files: set NEMSTREAM_SAMPLES_DIR or pass --samples DIR"
    )


@click.command()
@click.option("--offline", is_flag=True, help="Serve the samples as a local NEMWeb and use it.")
@click.option("--samples", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--release-every",
    type=float,
    default=3.0,
    show_default=True,
    help="Offline: seconds between files released by the mirror.",
)
@click.option(
    "--feeds",
    default=",".join(FEEDS),
    show_default=True,
    help="Comma-separated feeds to fetch.",
)
@click.option("--mirror-port", default=8089, show_default=True)
@click.option("--nats-port", default=4222, show_default=True, help="Embedded server's port.")
@click.option(
    "--history/--no-history",
    default=None,
    help="Offline: before the mirror and the fetchers start, replay the samples' history (every "
    "subfolder, the MMSDM/ARCHIVE files) onto the bus, as live [default: on with --offline].",
)
@click.option(
    "--ports-from",
    type=int,
    default=None,
    help="Health/metrics ports from this one up, one per service (default: each service's own).",
)
def up(
    offline: bool,
    samples: Path | None,
    release_every: float,
    feeds: str,
    mirror_port: int,
    nats_port: int,
    history: bool | None,
    ports_from: int | None,
) -> None:
    """Run nemstream: NATS (embedded unless NEMSTREAM_NATS_URL is set) and every service.

    Services run as separate processes with prefixed logs, restarted if they die; Ctrl-C
    stops everything cleanly. With --offline, NEMWeb is the local mirror over the samples, and
    the samples' history is loaded first through the bus (--no-history: not)."""
    from nemstream._supervisor import run_stack

    chosen = [f.strip() for f in feeds.split(",") if f.strip()]
    unknown = set(chosen) - set(FEEDS)
    if unknown:
        raise click.UsageError(f"unknown feeds: {', '.join(sorted(unknown))}")
    if history and not offline:
        raise click.UsageError("--history loads the samples' history: it needs --offline")
    asyncio.run(
        run_stack(
            feeds=chosen,
            data_dir=Path(os.environ.get("NEMSTREAM_DATA_DIR", "data")),
            offline_samples=_samples(samples) if offline else None,
            release_every=release_every,
            mirror_port=mirror_port,
            nats_port=nats_port,
            ports_from=ports_from,
            history=offline if history is None else history,
        )
    )
