"""Turn columns of MMS text into typed values: strict for catalogued names, inferred otherwise.

Three ways share one set of rules, chosen by table size because fixed costs differ: a table of a
few rows (most tables of a live 5-minute file) is typed value by value in Python and built row-wise
in one call; a table of hundreds of rows column by column with polars Series; a large table read
by polars' CSV reader is typed with polars expressions (its timestamps, where they are all
written the usual way, in the select that checks its structure, each distinct text parsed
once; in a very large one, read as categoricals). All raise the same `ValueTypeError`
naming the first bad line, and all give the same frame for the same rows: Python's conversions
(`float`, `int`, `_parse_timestamp`) are the rules; polars' bulk casts are used only where they
agree with them, and whatever polars does not take is converted by the Python rules.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
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


_OTHER_FORMATS = (TIMESTAMP_FORMAT, "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")
"""Forms accepted besides the usual ``2025/12/27 00:05:00``: unpadded fields, a fraction of a
second, a date alone (midnight), ISO dashes."""

_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # 0001 to 9999
_USUAL = f"^{_YEAR}/[0-9]{{2}}/[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-5][0-9]$"
"""The usual form, as `_parse_timestamp` reads it with ``fromisoformat``: polars' parse of a value
is used only where the value has this form, where the two agree (elsewhere polars is more
lenient: a leading space, a signed year or year 0, second 60 rolled into the next minute)."""


def _parse_timestamp(text: str) -> datetime:
    """The rules for MMS timestamps (every path follows them); ValueError if the text is none."""
    if (
        len(text) == 19
        and text[4] == "/"
        and text[7] == "/"
        and text[10] == " "
        and text[13] == ":"
        and text[16] == ":"
    ):
        return datetime.fromisoformat(text.replace("/", "-"))  # C speed; ASCII digits only
    for fmt in _OTHER_FORMATS:
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


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int64(value: int) -> int:
    """An integer column is Int64: a value outside its range is not a valid integer."""
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(value)
    return value


def _whole(number: float) -> int:
    """An integer written as a float (``1.0``, ``1e3``); ValueError if it is not one."""
    if not number.is_integer():
        raise ValueError(number)
    return _int64(int(number))


def _first_bad(values: Sequence[str], kind: Kind) -> int:
    """Index of the first value that does not parse as `kind` (only called after a failure)."""
    for i, v in enumerate(values):
        if not v:
            continue
        try:
            if kind is Kind.DATETIME:
                _parse_timestamp(v)
            elif kind is Kind.INT:
                _whole(float(v))
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
            return [_int64(int(v)) if v else None for v in values], None
        except (ValueError, OverflowError):  # integers written as 1.0: all read as floats
            return [_whole(float(v)) if v else None for v in values], None
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
                first_bad = _first_bad(values, kind)
                raise _value_error(file, name, kind, values[first_bad], line_of(first_bad))
            kind = Kind.STRING
        if kind is Kind.STRING:
            out.append(pl.Series(name, [v or None for v in values], dtype=pl.String))
            continue
        empties = values.count("") if isinstance(values, list) else sum(not v for v in values)
        typed = pl.Series(name, values, dtype=pl.String).cast(
            DTYPES[kind or Kind.FLOAT], strict=False
        )
        if typed.null_count() == empties:  # "" casts to null: every value is a number
            out.append(typed)
            continue
        text = pl.Series(name, [v or None for v in values], dtype=pl.String)
        typed, bad = _text_numbers(text, kind or Kind.FLOAT)
        if bad is None:
            out.append(typed)
        elif kind is None:
            out.append(text)  # not all numbers: text
        else:
            raise _value_error(file, name, kind, values[bad], line_of(bad))
    return pl.DataFrame(out)


_DATETIME = pl.Datetime("us")
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


def _empty_as_null(text: pl.Series) -> pl.Series:
    """A quoted empty field (``""``) reads as an empty string in polars and as no value on every
    other path: make it null (a cheap check first; most columns have none)."""
    if not (text.str.len_bytes() == 0).any():
        return text
    return pl.select(pl.when(text != "").then(text)).to_series().alias(text.name)


def _with_python(
    text: pl.Series,
    typed: pl.Series,
    missed: pl.Series,
    rule: Callable[[str], Any],
    dtype: pl.DataType,
) -> tuple[pl.Series, pl.Series | None]:
    """Convert the values polars left out (`missed`) by the Python `rule`, once per distinct
    text, into `typed`. Returns the column and a mask of the values the rule rejects (or None)."""
    converted: dict[str, Any] = {}
    rejected: list[str] = []
    for value in text.filter(missed).unique().to_list():
        try:
            converted[value] = rule(value)
        except (ValueError, OverflowError):
            rejected.append(value)
    if converted:
        mapped = text.replace_strict(converted, default=None, return_dtype=dtype)
        typed = mapped.zip_with(missed, typed)
    return typed, (missed & text.is_in(rejected)) if rejected else None


def _first_true(mask: pl.Series | None) -> int | None:
    """Index of the first true value; None for no mask or no true value."""
    if mask is None:
        return None
    index = mask.arg_true()
    return int(index[0]) if index.len() else None


def _text_timestamps(text: pl.Series) -> tuple[pl.Series, int | None]:
    """Timestamps of a text column by `_parse_timestamp`'s rules, in bulk: polars parses the
    values written the usual way (`_USUAL`), Python everything else (a date alone, a fraction of
    a second, anything odd). Returns the column and the index of the first bad value, if any.
    Timestamps repeat (one per region, unit or constraint of an interval): where they do, each
    distinct one is parsed once."""
    distinct = text.drop_nulls().unique()
    if distinct.len() * 2 >= text.len():
        typed, rejected = _timestamps_of(text)
        return typed, _first_true(rejected)
    parsed, rejected = _timestamps_of(distinct)
    typed = text.replace_strict(distinct, parsed, default=None, return_dtype=parsed.dtype)
    if rejected is None:
        return typed, None
    return typed, _first_true(text.is_in(distinct.filter(rejected)))


def _timestamps_of(text: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """`_text_timestamps` of every value: the column, and a mask of the values rejected."""
    dtype = pl.Datetime("us")
    typed = text.str.strptime(dtype, TIMESTAMP_FORMAT, strict=False, cache=False)
    missed = text.is_not_null() & ~(typed.is_not_null() & text.str.contains(_USUAL))
    if not missed.any():
        return typed, None
    return _with_python(text, typed, missed, _parse_timestamp, dtype)


def _text_numbers(text: pl.Series, kind: Kind) -> tuple[pl.Series, int | None]:
    """Numbers of a text column (null = empty) by `convert_values`' rules, in bulk: polars'
    casts, then Python's `float`/`int` for whatever polars does not take (``1_000``, padding).
    Returns the column and the index of the first bad value, if any."""
    nulls = text.null_count()
    floats = text.cast(pl.Float64, strict=False) if kind is Kind.FLOAT else None
    if floats is not None and floats.null_count() == nulls:
        return floats, None
    present = text.is_not_null()
    if kind is Kind.INT:
        ints = text.cast(pl.Int64, strict=False)
        if ints.null_count() == nulls:
            return ints, None
        ints, rejected = _with_python(text, ints, present & ints.is_null(), _python_int, pl.Int64())
        if rejected is None:
            return ints, None
        # integers written as floats (1.0, 1e3): then the whole column is read as floats
        floats = text.cast(pl.Float64, strict=False)
    assert floats is not None
    missed = present & floats.is_null()
    rejected = None
    if missed.any():
        floats, rejected = _with_python(text, floats, missed, float, pl.Float64())
    if kind is Kind.FLOAT:
        return floats, _first_true(rejected)
    whole = floats.cast(pl.Int64, strict=False)
    wrong = present & (whole.is_null() | (whole.cast(pl.Float64) != floats)).fill_null(True)
    return whole, _first_true(wrong)


def _python_int(text: str) -> int:
    return _int64(int(text))


def _type_text_series(
    file: str, text: pl.Series, kind: Kind | None, line_of: LineOf, *, clean: bool = False
) -> pl.Series:
    """Type one text column read by polars' CSV reader (large tables: expressions pay off);
    `clean`: the column is known to hold no empty string."""
    if not clean:
        text = _empty_as_null(text)
    if kind is Kind.STRING or (kind is None and text.null_count() == text.len()):
        return text
    if kind is None:
        first = text.drop_nulls()[0]
        if looks_like_timestamp(first):
            parsed, bad = _text_timestamps(text)
        else:
            parsed, bad = _text_numbers(text, Kind.FLOAT)
        return parsed if bad is None else text
    if kind is Kind.DATETIME:
        typed, bad = _text_timestamps(text)
    else:
        typed, bad = _text_numbers(text, kind)
    if bad is not None:
        raise _value_error(file, text.name, kind, str(text[bad]), line_of(bad))
    return typed


def usual_timestamps_exprs(names: list[str]) -> list[pl.Expr]:
    """Expressions whose output `usual_timestamps` reads: each of the timestamp columns `names`
    parsed (each distinct text once), and whether its distinct texts are all written the usual
    way. Selected with other expressions, polars evaluates them all side by side."""
    dtype = pl.Datetime("us")
    return [
        *(pl.col(n).str.strptime(dtype, TIMESTAMP_FORMAT, strict=False, cache=True) for n in names),
        *(pl.col(n).unique().str.contains(_USUAL).all().alias(f"{n} usual") for n in names),
    ]


def usual_timestamps(
    found: pl.DataFrame, frame: pl.DataFrame, names: list[str]
) -> dict[str, pl.Series]:
    """The timestamp columns (of `names`, selected from `frame` into `found` by
    `usual_timestamps_exprs`) in which polars parsed every value, each of them written the usual
    way: those columns typed. Any other column is left to `_text_timestamps`."""
    return {
        name: found.get_column(name)
        for name in names
        if found.get_column(f"{name} usual")[0]
        and found.get_column(name).null_count() == frame.get_column(name).null_count()
    }


def categorical_timestamps(frame: pl.DataFrame, names: list[str]) -> dict[str, pl.Expr]:
    """The columns (of `names`) that polars' CSV reader read as categoricals with categories of
    their own (only their distinct texts, hashed as they were read) in which polars parses
    every text, each of them written the usual way: for each, an expression that types it
    (each distinct text is parsed here, once, and looked up by its code). Any other column is
    to be typed as text."""
    out: dict[str, pl.Expr] = {}
    schema = frame.schema
    for name in names:
        dtype = schema[name]
        if not isinstance(dtype, pl.Categorical):
            continue
        codes = frame.get_column(name).to_physical()
        highest = codes.max()
        if not isinstance(highest, int):
            continue  # no value at all
        every = pl.int_range(0, highest + 1, eager=True).cast(codes.dtype)
        texts = every.cat.to(dtype, strict=False).cast(pl.String)  # by code
        parsed = texts.str.strptime(_DATETIME, TIMESTAMP_FORMAT, strict=False, cache=False)
        if parsed.null_count() == texts.null_count() and texts.str.contains(_USUAL).all():
            out[name] = pl.lit(parsed).gather(pl.col(name).to_physical()).alias(name)
    return out


def _usual_timestamps(frame: pl.DataFrame, names: list[str]) -> dict[str, pl.Series]:
    """`usual_timestamps` of a frame's text columns `names`, typed in one select."""
    if not names:
        return {}
    return usual_timestamps(frame.select(*usual_timestamps_exprs(names)), frame, names)


def type_frame(
    file: str, frame: pl.DataFrame, line_of: LineOf, clean: Container[str] = ()
) -> pl.DataFrame:
    """Type a frame that polars' CSV reader produced (catalogued numerics already typed, and
    maybe the usual timestamps); `clean` names text columns known to hold no empty string."""
    stamps = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String and column_kind(name) is Kind.DATETIME
    ]
    usual = _usual_timestamps(frame, stamps)
    columns: list[pl.Series] = []
    changed = bool(usual)
    for name, dtype in frame.schema.items():
        series = frame.get_column(name)
        if name in usual:
            columns.append(usual[name])
        elif dtype == pl.String:
            typed = _type_text_series(file, series, column_kind(name), line_of, clean=name in clean)
            changed = changed or typed is not series
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
