"""Build one registry from several sources, with a documented precedence, and write it safely.

Precedence, highest first: AEMO registration lists, newest first (by the date saved in the
workbook); then MMS registration tables; then OpenNEM. For every DUID each column takes the
first non-null value in that order, so a newer list wins and older or other sources only fill
gaps (and add DUIDs the lists lack). ``source`` names the highest-precedence input that knows
the DUID.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from nemstream_registry._aemo_list import list_date, read_aemo_list
from nemstream_registry._errors import RegistryError, RegistrySourceError
from nemstream_registry._schema import COLUMNS, SCHEMA
from nemstream_registry._sources import read_mms_tables, read_opennem, registry_from_mms
from nemstream_runtime import get_logger

log = get_logger(__name__)

_EXCEL = {".xls", ".xlsx"}
_MMS = {".csv", ".zip"}


@dataclass(slots=True)
class SourceSummary:
    """What one input contributed."""

    path: Path
    kind: str  # aemo_list | mms | opennem
    rows: int
    error: str | None = None


@dataclass(slots=True)
class RegistryReport:
    """What a build read and wrote."""

    output: Path | None
    rows: int
    sources: list[SourceSummary] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceSummary]:
        """Sources that could not be read."""
        return [s for s in self.sources if s.error is not None]


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _EXCEL:
        return "aemo_list"
    if suffix == ".json":
        return "opennem"
    if suffix in _MMS:
        return "mms"
    raise RegistrySourceError(path, "unknown source type (expected .xls/.xlsx, .json, .csv/.zip)")


def _rank(path: Path, kind: str) -> tuple[int, float]:
    """Sort key: lists first, newest first; then MMS; then OpenNEM."""
    order = {"aemo_list": 0, "mms": 1, "opennem": 2}[kind]
    when = list_date(path) if kind == "aemo_list" else None
    stamp = when.timestamp() if when else path.stat().st_mtime
    return order, -stamp


def merge(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Coalesce frames by DUID, earlier frames winning column by column."""
    parts = [f.with_columns(pl.lit(i).alias("_rank")) for i, f in enumerate(frames) if f.height]
    if not parts:
        return pl.DataFrame(schema={**SCHEMA, "source": pl.String()}).select(COLUMNS)
    stacked = pl.concat(parts, how="vertical_relaxed").sort("_rank", maintain_order=True)
    merged = stacked.group_by("duid", maintain_order=True).agg(
        [pl.col(name).drop_nulls().first() for name in (*SCHEMA, "source") if name != "duid"]
    )
    return merged.select(COLUMNS).sort("duid")


def build_registry(
    sources: Sequence[Path], output: Path | None = None, *, keep_going: bool = False
) -> tuple[pl.DataFrame, RegistryReport]:
    """Read every source, merge by precedence, and (if `output`) write parquet atomically.

    An unreadable source fails the build unless `keep_going`, when it is reported and skipped."""
    summaries: list[SourceSummary] = []
    ranked: list[tuple[tuple[int, float], pl.DataFrame]] = []
    mms_tables: dict[str, pl.DataFrame] = {}
    mms_names: list[str] = []
    for path in sources:
        path = Path(path)
        try:
            kind = _kind(path)
            if kind == "aemo_list":
                frame = read_aemo_list(path)
            elif kind == "opennem":
                frame = read_opennem(path)
            else:
                tables = read_mms_tables(path)
                for name, table in tables.items():  # DUDETAIL/STATION join DUDETAILSUMMARY
                    previous = mms_tables.get(name)
                    mms_tables[name] = (
                        table if previous is None else pl.concat([previous, table], how="diagonal")
                    )
                mms_names.append(path.name)
                summaries.append(SourceSummary(path, kind, sum(t.height for t in tables.values())))
                continue
        except (RegistryError, OSError) as exc:
            if not keep_going:
                if isinstance(exc, RegistrySourceError):
                    raise
                raise RegistrySourceError(path, str(exc)) from exc
            log.error("registry_source_failed", source=str(path), error=str(exc))
            summaries.append(SourceSummary(path, "unknown", 0, str(exc)))
            continue
        summaries.append(SourceSummary(path, kind, frame.height))
        ranked.append((_rank(path, kind), frame))
    if mms_tables:
        mms = registry_from_mms(
            mms_tables, "+".join(mms_names), datetime.now(UTC).replace(tzinfo=None)
        )
        ranked.append(((1, 0.0), mms))
    frames = [frame for _, frame in sorted(ranked, key=lambda item: item[0])]
    registry = merge(frames)
    if output is not None:
        write_registry(registry, output)
    report = RegistryReport(output, registry.height, summaries)
    log.info("registry_built", rows=registry.height, output=str(output) if output else None)
    return registry, report


def write_registry(registry: pl.DataFrame, output: Path) -> None:
    """Write parquet to a temporary file and rename it into place (readers never see half)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(handle)
    try:
        registry.write_parquet(temporary)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_registry(path: Path) -> pl.DataFrame:
    """Load a registry written by `build_registry`."""
    return pl.read_parquet(path)
