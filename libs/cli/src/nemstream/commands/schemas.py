"""`nemstream schemas export`: regenerate proto_schemas/ from the message contracts."""

from __future__ import annotations

from pathlib import Path

import click


def default_directory() -> Path:
    """The repository's proto_schemas/ when run from a checkout, else ./proto_schemas."""
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "proto_schemas").is_dir() and (parent / "pyproject.toml").exists():
            return parent / "proto_schemas"
    return Path("proto_schemas")


@click.group()
def schemas() -> None:
    """Message contracts of every subject."""


@schemas.command()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None)
def export(output: Path | None) -> None:
    """Write one JSON Schema per subject, catalog.json and README.md."""
    from nemstream_contracts import export_schemas

    directory = output or default_directory()
    written = export_schemas(directory)
    click.echo(f"wrote {len(written)} files to {directory}")
