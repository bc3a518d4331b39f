"""Emission factors per DUID from AEMO's CO2EII generator list (``CO2EII,PUBLISHING``).

The list gives a factor (t CO2-e per MWh sent out) per *generating set*; a DUID may have
several (386 sets, 350 DUIDs in the 2017 list). SCADA is per DUID, so a DUID's factor is the
**unweighted mean** of its sets' factors: the list gives no capacity per set to weight by. The
table keeps how many sets there were and the lowest and highest factor, so the DUIDs where this
matters are visible (8 of 350 in the 2017 list, e.g. a diesel set at 0.708 and one at 0.90).
Written to ``<data dir>/registry/emission_factors.parquet`` atomically (temporary file, rename).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from nemstream_mms import MmsError, read_report, views
from nemstream_registry._build import write_registry
from nemstream_registry._errors import RegistrySourceError

FACTORS_SCHEMA: dict[str, pl.DataType] = {
    "duid": pl.String(),
    "station_name": pl.String(),
    "regionid": pl.String(),
    "factor": pl.Float64(),
    "energy_source": pl.String(),
    "gensets": pl.Int64(),
    "factor_min": pl.Float64(),
    "factor_max": pl.Float64(),
    "data_source": pl.String(),
    "source_file": pl.String(),
    "published": pl.Datetime("us"),
}
"""Columns of the emission factor table: ``factor`` in t CO2-e/MWh sent out (the mean of the
DUID's generating sets), ``published`` the list's own date (its header)."""


def emission_factors_path(data_dir: Path) -> Path:
    """``<data dir>/registry/emission_factors.parquet``."""
    return data_dir / "registry" / "emission_factors.parquet"


def _joined(column: str) -> pl.Expr:
    return pl.col(column).drop_nulls().unique().sort().str.join("; ").alias(column)


def read_co2eii(source: Path | bytes, name: str | None = None) -> pl.DataFrame:
    """One row per DUID of a CO2EII generator list (a path, or its bytes with `name`)."""
    label = name or (source.name if isinstance(source, Path) else "CO2EII list")
    try:
        report = read_report(source, name=label)
        sets = views.co2eii_generators(report)
    except MmsError as exc:
        raise RegistrySourceError(Path(label), str(exc)) from exc
    header = report.header
    published: datetime | None = header.created if header is not None else None
    duid = pl.col("duid").str.strip_chars().str.to_uppercase()
    frame = (
        sets.with_columns(duid.alias("duid"), pl.col("regionid").str.strip_chars())
        .drop_nulls("co2e_emissions_factor")
        .group_by("duid")
        .agg(
            pl.col("stationname").drop_nulls().first().alias("station_name"),
            pl.col("regionid").drop_nulls().first(),
            pl.col("co2e_emissions_factor").mean().alias("factor"),
            _joined("co2e_energy_source").alias("energy_source"),
            pl.len().cast(pl.Int64).alias("gensets"),
            pl.col("co2e_emissions_factor").min().alias("factor_min"),
            pl.col("co2e_emissions_factor").max().alias("factor_max"),
            _joined("co2e_data_source").alias("data_source"),
        )
        .with_columns(
            pl.lit(Path(label).name).alias("source_file"),
            pl.lit(published, pl.Datetime("us")).alias("published"),
        )
    )
    if frame.is_empty():
        raise RegistrySourceError(Path(label), "no generator with an emission factor")
    return frame.select(list(FACTORS_SCHEMA)).cast(pl.Schema(FACTORS_SCHEMA)).sort("duid")


def write_emission_factors(factors: pl.DataFrame, output: Path) -> None:
    """Write the table atomically (readers never see half a file)."""
    write_registry(factors, output)


def read_emission_factors(path: Path) -> pl.DataFrame:
    """Load a table written by `write_emission_factors`."""
    return pl.read_parquet(path)
