"""Turn columns of MMS text into typed values: strict for catalogued names, inferred otherwise.

Three ways share one set of rules, chosen by table size because fixed costs differ: a table of a
few rows (most tables of a live 5-minute file) is typed value by value in Python and built row-wise
in one call; a table of hundreds of rows column by column with polars Series; a large table read
by polars' CSV reader is typed with polars expressions. All raise the same `ValueTypeError`
naming the first bad line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from polars._typing import PolarsDataType

from nemstream_mms._catalog import TIMESTAMP_FORMAT, Kind, column_kind
from nemstream_mms._errors import ValueTypeError

DTYPES: dict[Kind, pl.DataType] = {
    Kind.DATETIME: pl.Datetime("us"),
    Kind.INT: pl.Int64(),
    Kind.FLOAT: pl.Float64(),
    Kind.STRING: pl.String(),
}

# polars builds a frame from rows faster when the schema names dtype classes, not instances
# (microseconds' Datetime is the class default)
_ROW_DTYPES: dict[Kind, PolarsDataType] = {
    Kind.DATETIME: pl.Datetime,
    Kind.INT: pl.Int64,
    Kind.FLOAT: pl.Float64,
    Kind.STRING: pl.String,
}

LineOf = Callable[[int], int | None]
"""Maps a row index within a table to its line number in the file."""


def looks_like_timestamp(text: str) -> bool:
    """Cheap test used by inference: ``YYYY/MM/DD ...`` as MMS writes every date."""
    return len(text) >= 10 and text[4] == "/" and text[7] == "/" and text[:4].isdigit()


def _parse_timestamp(text: str) -> datetime:
    if len(text) == 19 and text[4] == "/" and text[7] == "/" and text[10] == " ":
        return datetime.fromisoformat(text.replace("/", "-"))  # C speed
    for fmt in (TIMESTAMP_FORMAT, "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(text)


def _timestamps(values: Sequence[str], cache: dict[str, datetime]) -> list[datetime | None]:
    """Parse a column of timestamps; each distinct text is parsed once (intervals repeat)."""
    for text in set(values).difference(cache):
        if text:
            cache[text] = _parse_timestamp(text)
    get = cache.get
    return [get(v) for v in values]


def _first_bad(values: Sequence[str], kind: Kind) -> int:
    """Index of the first value that does not parse as `kind` (only called after a failure)."""
    for i, v in enumerate(values):
        if not v:
            continue
        try:
            if kind is Kind.DATETIME:
                _parse_timestamp(v)
            elif kind is Kind.INT:
                number = float(v)
                if not number.is_integer():
                    return i
            else:
                float(v)
        except (ValueError, OverflowError):
            return i
    return 0  # pragma: no cover - callers only ask after a failure


def convert_values(
    values: Sequence[str], kind: Kind, cache: dict[str, datetime]
) -> tuple[list[Any], int | None]:
    """Convert one column's text (empty string = null); return values and the first bad index."""
    try:
        if kind is Kind.STRING:
            return [v or None for v in values], None
        if kind is Kind.FLOAT:
            return [float(v) if v else None for v in values], None
        if kind is Kind.DATETIME:
            return _timestamps(values, cache), None
        try:
            return [int(v) if v else None for v in values], None
        except ValueError:  # integers written as 1.0
            floats = [float(v) if v else None for v in values]
            if all(f is None or f.is_integer() for f in floats):
                return [None if f is None else int(f) for f in floats], None
            raise
    except (ValueError, OverflowError):
        return [], _first_bad(values, kind)


def convert_inferred(values: Sequence[str], cache: dict[str, datetime]) -> tuple[Kind, list[Any]]:
    """Guess a column's type from all its values: timestamp, number (always a float: only
    catalogued columns are integers, so a type never changes from file to file), else text."""
    first = next((v for v in values if v), None)
    if first is None:
        return Kind.STRING, [None] * len(values)
    if looks_like_timestamp(first):
        converted, bad = convert_values(values, Kind.DATETIME, cache)
        if bad is None:
            return Kind.DATETIME, converted
    else:
        try:
            floats = [float(v) if v else None for v in values]
        except ValueError:
            pass
        else:
            return Kind.FLOAT, floats
    return Kind.STRING, [v or None for v in values]


def type_rows(
    file: str,
    names: Sequence[str],
    columns: Sequence[Sequence[str]],
    line_of: LineOf,
    cache: dict[str, datetime],
) -> pl.DataFrame:
    """Type a small table value by value in Python and build the frame in one row-wise call."""
    count = len(columns[0]) if columns else 0
    filled: dict[str, list[Any]] = {}
    kinds: dict[str, Kind] = {}
    for name, values in zip(names, columns, strict=True):
        kind = column_kind(name)
        if kind is None:
            kind, converted = convert_inferred(values, cache)
        else:
            converted, bad = convert_values(values, kind, cache)
            if bad is not None:
                raise _value_error(file, name, kind, values[bad], line_of(bad))
        kinds[name] = kind
        if any(v is not None for v in converted):
            filled[name] = converted
    if count == 0:
        return pl.DataFrame(schema={n: DTYPES[k] for n, k in kinds.items()})
    built: dict[str, pl.Series] = {}
    if filled:
        rows = list(zip(*filled.values(), strict=True))
        schema = {name: _ROW_DTYPES[kinds[name]] for name in filled}
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        built = {series.name: series for series in frame.iter_columns()}
    empty: dict[Kind, pl.Series] = {}
    out: list[pl.Series] = []
    for name in names:
        series = built.get(name)
        if series is None:
            kind = kinds[name]
            template = empty.get(kind)
            if template is None:
                template = empty[kind] = pl.Series("", [None] * count, dtype=DTYPES[kind])
            series = template.alias(name)
        out.append(series)
    return pl.DataFrame(out)


def type_series(
    file: str,
    names: Sequence[str],
    columns: Sequence[Sequence[str]],
    line_of: LineOf,
    cache: dict[str, datetime],
) -> pl.DataFrame:
    """Type a mid-sized table column by column with polars Series casts (no query plans)."""
    out: list[pl.Series] = []
    for name, values in zip(names, columns, strict=True):
        kind = column_kind(name)
        first = next((v for v in values if v), None)
        if first is None:
            out.append(pl.Series(name, [None] * len(values), dtype=DTYPES[kind or Kind.STRING]))
            continue
        if kind is Kind.DATETIME or (kind is None and looks_like_timestamp(first)):
            micros = _epoch_micros(values, cache)
            if micros is not None:
                out.append(pl.Series(name, micros, dtype=pl.Int64).cast(pl.Datetime("us")))
                continue
            if kind is Kind.DATETIME:
                bad = _first_bad(values, kind)
                raise _value_error(file, name, kind, values[bad], line_of(bad))
            kind = Kind.STRING
        if kind is Kind.STRING:
            out.append(pl.Series(name, [v or None for v in values], dtype=pl.String))
            continue
        empties = values.count("") if isinstance(values, list) else sum(not v for v in values)
        text = pl.Series(name, values, dtype=pl.String)  # "" casts to null below
        if kind is None:
            floats = text.cast(pl.Float64, strict=False)
            if floats.null_count() != empties:
                out.append(pl.Series(name, [v or None for v in values], dtype=pl.String))
            else:
                out.append(floats)
            continue
        typed = text.cast(DTYPES[kind], strict=False)
        if typed.null_count() != empties:
            converted, bad_index = convert_values(values, kind, cache)
            if bad_index is not None:
                raise _value_error(file, name, kind, values[bad_index], line_of(bad_index))
            typed = pl.Series(name, converted, dtype=DTYPES[kind])
        out.append(typed)
    return pl.DataFrame(out)


_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)


def _epoch_micros(values: Sequence[str], cache: dict[str, datetime]) -> list[int | None] | None:
    """Timestamps as microseconds since 1970 (naive, NEM time), or None if any does not parse."""
    try:
        for text in set(values).difference(cache):
            if text:
                cache[text] = _parse_timestamp(text)
        stamps = {v: cache[v] for v in set(values) if v}
    except ValueError:
        return None
    micros = {v: (stamp - _EPOCH) // _MICRO for v, stamp in stamps.items()}
    get = micros.get
    return [get(v) for v in values]


def _type_text_series(file: str, text: pl.Series, kind: Kind | None, line_of: LineOf) -> pl.Series:
    """Type one text column read by polars' CSV reader (large tables: expressions pay off)."""
    present = text.len() - text.null_count()
    if kind is Kind.STRING or (kind is None and present == 0):
        return text
    if kind is None:
        first = text.drop_nulls()[0]
        if looks_like_timestamp(first):
            parsed = text.str.strptime(pl.Datetime("us"), TIMESTAMP_FORMAT, strict=False)
            return parsed if parsed.null_count() == text.null_count() else text
        floats = text.cast(pl.Float64, strict=False)
        return floats if floats.null_count() == text.null_count() else text
    if kind is Kind.DATETIME:
        typed = text.str.strptime(pl.Datetime("us"), TIMESTAMP_FORMAT, strict=False)
    elif kind is Kind.INT:
        typed = text.cast(pl.Int64, strict=False)
        if typed.null_count() != text.null_count():  # integers written as 1.0
            floats = text.cast(pl.Float64, strict=False)
            if (floats.round(0) == floats).all():
                typed = floats.cast(pl.Int64, strict=False)
    else:
        typed = text.cast(pl.Float64, strict=False)
    if typed.null_count() != text.null_count():
        bad = (typed.is_null() & text.is_not_null()).arg_max()
        assert bad is not None
        raise _value_error(file, text.name, kind, str(text[bad]), line_of(bad))
    return typed


def type_frame(file: str, frame: pl.DataFrame, line_of: LineOf) -> pl.DataFrame:
    """Type a frame that polars' CSV reader produced (catalogued numerics already typed)."""
    columns: list[pl.Series] = []
    changed = False
    for name, dtype in frame.schema.items():
        series = frame.get_column(name)
        if dtype == pl.String:
            typed = _type_text_series(file, series, column_kind(name), line_of)
            changed = changed or typed.dtype != dtype
            columns.append(typed)
        else:
            columns.append(series)
    return pl.DataFrame(columns) if changed else frame


def _value_error(
    file: str, column: str, kind: Kind, value: str, line: int | None
) -> ValueTypeError:
    return ValueTypeError(
        file,
        f"column {column}: {value!r} is not a valid {kind.value}",
        line=line,
        column=column,
        value=value,
    )
