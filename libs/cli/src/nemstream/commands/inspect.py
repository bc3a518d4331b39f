"""`nemstream inspect PATH...`: one JSON line per table found in each MMS file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nemstream_mms import MmsError, summarise

_MMS_SUFFIXES = {".csv", ".zip"}


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given; a folder stands for the CSV and zip files directly inside it."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                sorted(
                    p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _MMS_SUFFIXES
                )
            )
        else:
            out.append(path)
    return out


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def inspect(paths: tuple[Path, ...]) -> None:
    """Print the tables, versions, row counts and interval range of MMS files.

    PATH may be a zip, a zip of zips (NEMWeb ARCHIVE), or a plain CSV, in any letter case; a
    folder stands for the CSV and zip files in it. Output is one JSON line per table on stdout;
    warnings and errors go to stderr, one line each. Exits 1 if any file could not be read.
    """
    failed = 0
    for path in _expand(paths):
        try:
            records, warnings = summarise(path, name=str(path))
        except MmsError as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
            continue
        for record in records:
            click.echo(json.dumps(record))
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
    if failed:
        raise SystemExit(1)
