"""Parse one block of D rows (the rows under one I row) by the cheapest path that can prove it
well formed, falling back to a careful row-by-row reader that recovers or names the bad line.

* small blocks (a live 5-minute file): split in Python, typed value by value or by Series;
* large blocks (monthly archives): read in place by polars with a sniffed schema (from a file
  on disk, by polars itself); a large block that only the file's closing C rows follow is read
  to the end of the file without counting its lines first (`parse_last_block`). Its checks and
  the typing of its usual timestamps run in one select;
* anything a fast path cannot prove well formed: the careful reader (`csv` module).
"""

from __future__ import annotations

import csv
import io
import mmap
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import polars as pl

from nemstream_mms._catalog import Kind, column_kind
from nemstream_mms._errors import (
    MalformedRowError,
    MmsWarning,
    TruncatedReportError,
    WarningCode,
)
from nemstream_mms._report import RowLines, TableKey, TableThunk
from nemstream_mms._typing import (
    DTYPES,
    categorical_timestamps,
    looks_like_timestamp,
    type_frame,
    type_rows,
    type_series,
    usual_timestamps,
    usual_timestamps_exprs,
)

POLARS_MIN_BYTES = 192 * 1024
"""Blocks at least this big go to polars' CSV reader; smaller ones are split in Python, where
the reader's fixed cost per call (about a millisecond) would dominate."""

SNIFF_ROWS = 200
"""Rows looked at to guess the type of a column nemstream does not catalogue in a block read by
polars; a guess that later rows contradict is caught and the block re-read as text."""

CATEGORICAL_MIN_BYTES = 24 * 1024**2
"""Blocks at least this big are read with their catalogued timestamp columns as categoricals,
each distinct text hashed as polars reads it and parsed once afterwards; below it, the fixed
cost of that (about 2 ms a block) is more than it saves, and they are read as text."""

PYTHON_MAX_CELLS = 1_500
"""Split blocks with at most this many values are typed value by value in Python; bigger ones
column by column in polars, whose fixed cost per column is then repaid."""

_QUOTED_COMMA = re.compile(rb',"[^"]*,')
_NOT_SPACE = re.compile(rb"\S")
_PREFIX = ("_row", "_table", "_subtype", "_version")


Buffer = bytes | mmap.mmap
"""A file's bytes: read into memory, or a plain file on disk mapped read-only (its big last
block is then read by polars from the file itself, never copied)."""


class _Fallback(Exception):
    """A fast path could not prove its block well formed; the careful reader takes over."""


def count_of(data: Buffer, sub: bytes, start: int, stop: int) -> int:
    """`bytes.count` over `data[start:stop]`. A mapped file has no `count`: the range is copied
    (short ranges, but for a row short of fields a whole block)."""
    if isinstance(data, bytes):
        return data.count(sub, start, stop)
    return data[start:stop].count(sub)


@dataclass(slots=True)
class Block:
    """The D rows under one I row: where they are in the file and what the I row declared."""

    key: TableKey
    version_token: str
    columns: list[str]
    data: Buffer  # the whole file: a big block at its end is read in place, never copied
    start: int  # offset of the first D row
    stop: int  # offset just past the last D row
    i_line: int  # line of the I row; D rows start on the next line
    line_count: int  # physical lines between the I row and the next I/C row
    file: str | None = None  # the plain file `data` maps (absolute path), if it maps one

    @property
    def body(self) -> bytes:
        """The block's D rows (a copy: for small blocks, blocks followed by others, the careful
        reader)."""
        return self.data[self.start : self.stop]

    @property
    def size(self) -> int:
        """Bytes of D rows."""
        return self.stop - self.start


@dataclass(slots=True)
class Context:
    """What every block of one file shares: its name, warnings, timestamp cache, ending."""

    name: str
    warnings: list[MmsWarning]
    cache: dict[str, datetime]
    last_line: int  # the file's last non-empty line
    has_footer: bool


def decode(raw: bytes, name: str, warnings: list[MmsWarning], line: int) -> str:
    """UTF-8, else Windows-1252 with a warning (older AEMO files were written on Windows)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(
            MmsWarning(
                WarningCode.ENCODING_FALLBACK,
                name,
                "text is not UTF-8; read as Windows-1252",
                line,
            )
        )
        return raw.decode("cp1252", errors="replace")


def parse_block(block: Block, context: Context) -> tuple[TableThunk, RowLines]:
    """Check a block's structure now; return a function that types its values when asked."""
    lines = RowLines()
    first = block.i_line + 1
    if _NOT_SPACE.search(block.data, block.start, block.stop) is None:  # no copy of the block
        lines.add(context.name, first, 0)
        empty = _empty_frame(block.columns)
        return lambda: empty, lines
    try:
        if block.size < POLARS_MIN_BYTES:
            thunk, count = _fast_python(block, context)
        else:
            thunk, count = _fast_polars(block, context)
        lines.add(context.name, first, count)
        return thunk, lines
    except _Fallback:
        pass
    thunk, exact = _careful(block, context)
    lines.add(context.name, first, len(exact), exact)
    return thunk, lines


def _empty_frame(columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={c: DTYPES[column_kind(c) or Kind.STRING] for c in columns})


def _fast_python(block: Block, context: Context) -> tuple[TableThunk, int]:
    body = block.body
    if b'""' in body:
        raise _Fallback  # escaped quotes: the careful reader keeps them
    try:
        pieces = body.decode("utf-8").split('"')
    except UnicodeDecodeError:
        raise _Fallback from None
    # odd pieces are the insides of quoted fields: with no comma or line break inside any of
    # them (and the quotes balanced), dropping the quotes leaves a plain comma-split file
    inside = "".join(pieces[1::2])
    if len(pieces) % 2 == 0 or "," in inside or "\n" in inside or "\r" in inside:
        raise _Fallback
    rows = "".join(pieces).splitlines()
    count = len(rows)
    width = 4 + len(block.columns)
    flat = ",".join(rows).split(",")
    key = block.key
    if (
        len(flat) != count * width
        or flat[0::width].count("D") != count
        or flat[1::width].count(key.table) != count
        or flat[2::width].count(key.subtype) != count
        or flat[3::width].count(block.version_token) != count
    ):
        raise _Fallback
    first = block.i_line + 1
    columns = [flat[j::width] for j in range(4, width)]
    typer = type_rows if count * len(columns) <= PYTHON_MAX_CELLS else type_series
    name, names, cache = context.name, block.columns, context.cache
    return (lambda: typer(name, names, columns, lambda row: first + row, cache)), count


def parse_last_block(
    block: Block, closing: list[str | None], context: Context
) -> tuple[TableThunk, RowLines] | None:
    """Check a large block that only the file's closing lines follow without counting its lines
    (a scan of the whole block) first: polars reads from its I row to the end of the file, and
    the block is well formed when its rows are D rows of its table, one line each (no line
    break inside a field), followed by exactly the closing lines (`closing`: each one's first
    field, None for an empty line). Its line count is then its row count. None when any of that
    does not hold: the caller counts the block's lines and parses it as any other block."""
    try:
        thunk, count = _fast_polars(block, context, closing)
    except _Fallback:
        return None
    lines = RowLines()
    lines.add(context.name, block.i_line + 1, count)
    return thunk, lines


def _fast_polars(
    block: Block, context: Context, closing: list[str | None] | None = None
) -> tuple[TableThunk, int]:
    """Read a big block in place with polars and prove it well formed without a second parse:
    every row is a D row of this table, as many rows as lines, no row short of fields. With
    `closing`, the block is read to the end of the file (see `parse_last_block`).

    The checks and the typing of the timestamp columns written the usual way run in one select
    (polars evaluates them side by side); the other values are typed, and a bad value reported
    with its line, when the table is asked for."""
    if closing is None:
        count = block.line_count
        raw = _read_block(block, count)
    else:
        raw = _read_block(block, None, retry=False)
        count = raw.height - len(closing)
        if count < 1 or raw.get_column("_row").slice(count).to_list() != closing:
            raise _Fallback
        raw = raw.head(count)
    if raw.height != count or count < 1:
        raise _Fallback  # a blank line, a row spanning lines: the careful reader
    key = block.key
    subtype = pl.col("_subtype") if key.subtype else pl.col("_subtype").fill_null("")
    checks = [  # a null (an empty field) is no match: its row is not one of this table's
        (pl.col("_row") == "D").all(ignore_nulls=False),
        (pl.col("_table") == key.table).all(ignore_nulls=False),
        (subtype == key.subtype).all(ignore_nulls=False),
        (pl.col("_version") == block.version_token).all(ignore_nulls=False),
    ]
    typed = categorical_timestamps(raw, block.columns)
    schema = raw.schema
    unusual = [c for c, t in schema.items() if isinstance(t, pl.Categorical) and c not in typed]
    if unusual:  # timestamps not all written the usual way: text, as if read without the schema
        raw = raw.with_columns(pl.col(c).cast(pl.String) for c in unusual)
        schema = raw.schema
    texts = [c for c, dtype in schema.items() if dtype == pl.String and c not in _PREFIX]
    stamps = [c for c in texts if column_kind(c) is Kind.DATETIME]
    others = [c for c in texts if c not in stamps]
    # lines were not counted when `closing` is given: a line break inside a (quoted) field
    # would make one row of two lines. A timestamp column written the usual way has none (its
    # parse proves it); every other text column is searched for one
    unproven = closing is not None
    if unproven:
        checks += [~_has_line_break(c) for c in others]
    found = raw.select(
        *(check.alias(f"check {n}") for n, check in enumerate(checks)),
        pl.col(block.columns[-1]).null_count().alias("short"),
        *typed.values(),
        *usual_timestamps_exprs(stamps),
        *((pl.col(c) == "").any().alias(f"{c} empty") for c in others),
    )
    if not all(found.get_column(f"check {n}")[0] for n in range(len(checks))):
        raise _Fallback  # a foreign row, a line break in a field: the careful reader
    usual = {c: found.get_column(c) for c in typed} | usual_timestamps(found, raw, stamps)
    odd = [c for c in stamps if c not in usual]
    if unproven and odd and raw.select(pl.any_horizontal(_has_line_break(c) for c in odd)).item():
        raise _Fallback
    if found.get_column("short")[0]:
        # polars fills a short row's missing fields with nulls, and a short row always leaves
        # the last column empty: where that column has empties, count the fields instead
        commas = count_of(block.data, b",", block.start, block.stop)
        expected = count * (len(block.columns) + 3)
        if commas < expected or (
            commas > expected and _QUOTED_COMMA.search(block.data, block.start, block.stop)
        ):
            raise _Fallback
    first = block.i_line + 1
    name = context.name
    values = pl.DataFrame([usual.get(c, raw.get_column(c)) for c in block.columns])
    clean = {c for c in others if not found.get_column(f"{c} empty")[0]}
    return (lambda: type_frame(name, values, lambda row: first + row, clean)), count


def _has_line_break(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Binary).bin.contains(b"\n").any()  # faster than as text


def _read_block(block: Block, count: int | None, *, retry: bool = True) -> pl.DataFrame:
    """Read a large block with polars (`count` rows; None: to the end of the file). Column types
    come from the catalogue, else from the first rows (`_sniff`); if a later row contradicts a
    guess, the block is re-read as text and typed afterwards, where a bad value in a catalogued
    column is reported with its line (without `retry`, the caller takes the block elsewhere)."""
    names = [*_PREFIX, *block.columns]
    schemas = [_sniff(block)] + ([{name: pl.String() for name in names}] if retry else [])
    source: str | bytes
    if count is not None and block.stop != len(block.data):
        # polars parses every row it is given (past `n_rows` too): only the block's
        source, skip = block.body, 0
    elif block.file is not None:  # the block runs to the end: read in place, from the file
        source, skip = block.file, block.i_line
    else:
        assert isinstance(block.data, bytes)  # a mapped file always comes with its path
        source, skip = block.data, block.i_line
    for schema in schemas:
        try:
            return pl.read_csv(
                source,
                has_header=False,
                schema=schema,
                skip_lines=skip,
                n_rows=count,
                raise_if_empty=False,
                glob=False,  # a path is the file's own, whatever characters it holds
            )
        except (pl.exceptions.PolarsError, ValueError, OverflowError):
            continue
    raise _Fallback


def _sniff(block: Block) -> dict[str, pl.DataType]:
    """Read schema for a block: catalogued types, numbers guessed from the first rows as
    floats, catalogued timestamps of a very large block as categoricals (typed by
    `categorical_timestamps`), everything else (timestamps typed later) as text."""
    data, end = block.data, block.start
    for _ in range(SNIFF_ROWS):
        found = data.find(b"\n", end, block.stop)
        if found < 0:
            break
        end = found + 1
    text = data[block.start : end].decode("utf-8", errors="replace")
    rows = text.replace('"', "").splitlines()
    width = 4 + len(block.columns)
    flat = ",".join(rows).split(",")
    if len(flat) != len(rows) * width:
        flat = [""] * width  # odd rows near the top: read as text, typed later
    schema: dict[str, pl.DataType] = {name: pl.String() for name in _PREFIX}
    for offset, name in enumerate(block.columns, start=4):
        kind = column_kind(name)
        if kind is None:
            values = flat[offset::width]
            kind = Kind.STRING
            if any(values) and not looks_like_timestamp(next(v for v in values if v)):
                try:
                    for v in values:
                        if v:
                            float(v)
                    kind = Kind.FLOAT
                except ValueError:
                    pass
        if kind is not Kind.DATETIME:
            schema[name] = DTYPES[kind]
        elif block.size >= CATEGORICAL_MIN_BYTES:  # categories of its own: only its texts
            schema[name] = pl.Categorical(pl.Categories.random())
        else:
            schema[name] = pl.String()
    return schema


def _careful(block: Block, context: Context) -> tuple[TableThunk, list[int]]:
    """Row-by-row reader: recovers what can be recovered, else raises naming the line."""
    name, key = context.name, block.key
    text = decode(block.body, name, context.warnings, block.i_line + 1)
    width = 4 + len(block.columns)
    expected = (key.table, key.subtype, block.version_token)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    consumed = 0
    blank_lines: list[int] = []
    while True:
        start = block.i_line + 1 + consumed
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            _raise_bad_row(context, start, f"cannot split row ({exc})", cut=True)
        consumed = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            blank_lines.append(start)
            continue
        if row[0] != "D":
            _raise_bad_row(context, start, f"unexpected {row[0][:20]!r} row among D rows")
        if len(row) >= 4 and (row[1], row[2], row[3]) != expected:
            _raise_bad_row(
                context,
                start,
                f"D row for {row[1]},{row[2]},{row[3]} under the I row of {key} (line "
                f"{block.i_line}): a D row must follow its own table's I row",
            )
        if len(row) != width:
            _raise_bad_row(
                context,
                start,
                f"expected {width} fields for {key} (declared by its I row at line "
                f"{block.i_line}), found {len(row)}",
                cut=len(row) < width,
            )
        rows.append(row)
        lines.append(start)
    if blank_lines:
        context.warnings.append(
            MmsWarning(
                WarningCode.BLANK_LINES,
                name,
                f"{len(blank_lines)} blank line(s) among {key} rows skipped",
                blank_lines[0],
            )
        )
    columns = [[row[j] for row in rows] for j in range(4, width)]
    typer = type_rows if len(rows) * width <= PYTHON_MAX_CELLS else type_series
    names, cache = block.columns, context.cache
    return (lambda: typer(name, names, columns, lambda row: lines[row], cache)), lines


def _raise_bad_row(context: Context, line: int, message: str, *, cut: bool = False) -> NoReturn:
    if cut and not context.has_footer and line >= context.last_line:
        raise TruncatedReportError(context.name, f"report cut mid-row: {message}", line=line)
    raise MalformedRowError(context.name, message, line=line)
