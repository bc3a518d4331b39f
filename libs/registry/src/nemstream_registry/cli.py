"""`nemstream registry build SRC... -o FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from nemstream_registry._build import build_registry
from nemstream_registry._errors import RegistryError


@click.group()
def registry() -> None:
    """The unit registry: DUID to station, region, fuel, technology and capacity."""


@registry.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Parquet file to write (replaced atomically).",
)
@click.option("--keep-going", is_flag=True, help="Skip unreadable sources instead of failing.")
def build(sources: tuple[Path, ...], output: Path, keep_going: bool) -> None:
    """Build the registry from registration lists (.xls/.xlsx), MMS files and stations.json.

    A newer registration list wins over an older one; MMS and OpenNEM fill gaps.
    """
    try:
        registry_frame, report = build_registry(list(sources), output, keep_going=keep_going)
    except RegistryError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    for source in report.sources:
        if source.error:
            click.echo(f"skipped {source.path}: {source.error}", err=True)
        else:
            click.echo(f"{source.path.name}: {source.rows} rows ({source.kind})")
    fuels = registry_frame["fuel"].value_counts(sort=True).rows()
    click.echo(
        f"wrote {output}: {registry_frame.height} units; "
        + ", ".join(f"{fuel or 'unknown'} {count}" for fuel, count in fuels)
    )
    if report.failed:
        raise SystemExit(1)
