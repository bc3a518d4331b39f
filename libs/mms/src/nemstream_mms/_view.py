"""A typed view of MMS tables: its columns by AEMO name, their types, its key, and how it is
built from every version of its tables in a report (columns matched by name, never position;
a needed column missing is an error, an optional one is null; a value that does not parse
names its file, line and column). The views nemstream publishes are declared in `views`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from nemstream_mms._errors import (
    MissingColumnError,
    MmsError,
    TableNotFoundError,
    ValueTypeError,
)
from nemstream_mms._report import MmsReport, TableKey


@dataclass(frozen=True, slots=True)
class Column:
    """One view column: its AEMO name (lower case), type, and whether the view needs it."""

    name: str
    dtype: pl.DataType
    required: bool = True

    @property
    def source(self) -> str:
        """The column's name in the MMS table (upper case, as in the I row)."""
        return self.name.upper()


@dataclass(frozen=True, slots=True)
class View:
    """A typed view: which tables feed it, its columns, the columns that key a row, and the
    columns it derives from them (`derive` adds exactly `derived`)."""

    name: str
    sources: tuple[tuple[str, str], ...]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    derived: tuple[Column, ...] = ()
    derive: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Column name to polars type, in view order (derived columns last)."""
        return {c.name: c.dtype for c in (*self.columns, *self.derived)}


def has_view(report: MmsReport, view: View) -> bool:
    """Tell whether a report carries any table this view reads."""
    return any(report.keys(table, subtype) for table, subtype in view.sources)


def build(report: MmsReport, view: View) -> pl.DataFrame:
    """Select and type a view's columns from every version of its tables in a report."""
    keys = [k for table, subtype in view.sources for k in report.keys(table, subtype)]
    if not keys:
        wanted = " or ".join(f"{t},{s}" for t, s in view.sources)
        raise TableNotFoundError(report.name, f"{view.name}: no {wanted} table in this report")
    frames = [_select(report, key, view) for key in keys]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    if view.derive is None:
        return frame
    try:
        return view.derive(frame)
    except ValueError as exc:  # a value the derivation cannot read (a bad PREDISPATCHSEQNO)
        raise MmsError(report.name, f"{view.name}: {exc}") from exc


def _select(report: MmsReport, key: TableKey, view: View) -> pl.DataFrame:
    table = report.tables[key]
    present = set(table.columns)
    out: list[pl.Series] = []
    for column in view.columns:
        if column.source not in present:
            if column.required:
                raise MissingColumnError(
                    report.name,
                    f"{view.name}: table {key} has no {column.source} column",
                )
            out.append(pl.Series(column.name, [None] * table.height, dtype=column.dtype))
            continue
        series = table.get_column(column.source)
        out.append(_cast(report, key, series, column))
    return pl.DataFrame(out)


def _cast(report: MmsReport, key: TableKey, series: pl.Series, column: Column) -> pl.Series:
    if series.dtype == column.dtype:
        return series.alias(column.name)
    cast = series.cast(column.dtype, strict=False)
    if cast.null_count() != series.null_count():
        row = (cast.is_null() & series.is_not_null()).arg_max()
        assert row is not None
        where = report.locate(key, row)
        value = str(series[row])
        raise ValueTypeError(
            where[0] if where else report.name,
            f"{key} column {column.source}: {value!r} is not a valid {column.dtype}",
            line=where[1] if where else None,
            column=column.source,
            value=value,
        )
    return cast.alias(column.name)
