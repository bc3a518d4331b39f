"""Read one MMS CSV (C/I/D rows) into a typed frame per table, fast, with errors naming lines.

The file is cut into blocks at its I and C rows with byte searches. Each block of D rows is
parsed by the cheapest path that can prove it well formed: split in Python (small blocks, as in
a live 5-minute file) or polars' CSV reader (large blocks, as in a monthly archive). Whenever a
fast path cannot prove a block well formed it hands the block to a careful row-by-row reader,
which either recovers (blank lines, rows spanning lines) or raises an error naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import polars as pl

from nemstream_mms._catalog import KNOWN_TABLES, Kind, column_kind
from nemstream_mms._errors import (
    EmptyReportError,
    MalformedRowError,
    MmsError,
    MmsWarning,
    TruncatedReportError,
    WarningCode,
)
from nemstream_mms._report import MmsReport, ReportHeader, RowLines, TableKey, Tables, TableThunk
from nemstream_mms._typing import DTYPES, type_frame, type_rows, type_series

POLARS_MIN_BYTES = 192 * 1024
"""Blocks at least this big go to polars' CSV reader; smaller ones are split in Python, where
the reader's fixed cost per call (about a millisecond) would dominate."""

PYTHON_MAX_CELLS = 1_500
"""Split blocks with at most this many values are typed value by value in Python; bigger ones
column by column in polars, whose fixed cost per column is then repaid."""

_QUOTED_COMMA = re.compile(rb',"[^"]*,')
_PREFIX = ("_row", "_table", "_subtype", "_version")


class _Fallback(Exception):
    """A fast path could not prove its block well formed; the careful reader takes over."""


@dataclass(slots=True)
class _Block:
    key: TableKey
    version_token: str
    columns: list[str]
    body: bytes
    i_line: int  # line of the I row; D rows start on the next line


@dataclass(slots=True)
class _Context:
    name: str
    warnings: list[MmsWarning]
    cache: dict[str, datetime]
    last_line: int  # the file's last non-empty line
    has_footer: bool


def read_csv_bytes(data: bytes, name: str, *, strict: bool = True) -> MmsReport:
    """Parse one MMS CSV held in memory; `strict` makes a missing footer an error, not a warning."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise EmptyReportError(name, "empty file: no MMS rows")
    warnings: list[MmsWarning] = []
    markers = _markers(data)
    if not markers or markers[0][0] != 0:
        _reject_start(data, name)
    header: ReportHeader | None = None
    footer: tuple[int, int] | None = None  # (line, declared line count)
    blocks: list[_Block] = []
    line = 1
    previous = 0
    for index, (offset, kind) in enumerate(markers):
        line += data.count(b"\n", previous, offset)
        previous = offset
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        row_text = _decode(data[offset:end], name, warnings, line).rstrip("\r")
        next_offset = markers[index + 1][0] if index + 1 < len(markers) else len(data)
        body = data[end + 1 : next_offset]
        if kind == b"I":
            blocks.append(_i_block(row_text, body, line, name))
            continue
        fields = _split_row(row_text, name, line)
        if len(fields) > 1 and fields[1] == "END OF REPORT":
            footer = (line, _footer_count(fields, name, line))
        elif header is None:
            header = ReportHeader.from_fields(fields)
        if body.strip():
            _reject_orphans(body, line, name, after_footer=footer is not None, warnings=warnings)
    last_line = line + data.count(b"\n", previous, len(data.rstrip()))
    context = _Context(name, warnings, {}, last_line, footer is not None)
    report = _assemble(name, header, blocks, context)  # a row cut mid-way is reported first
    if footer is None:
        message = "no END OF REPORT footer: the report is incomplete (truncated?)"
        if strict:
            raise TruncatedReportError(name, message, line=last_line)
        warnings.append(MmsWarning(WarningCode.MISSING_FOOTER, name, message, last_line))
    elif footer[1] != footer[0]:
        warnings.append(
            MmsWarning(
                WarningCode.FOOTER_MISMATCH,
                name,
                f"footer declares {footer[1]} lines but the report has {footer[0]}",
                footer[0],
            )
        )
    return report


def _assemble(
    name: str, header: ReportHeader | None, blocks: list[_Block], context: _Context
) -> MmsReport:
    tables = Tables()
    row_lines: dict[TableKey, RowLines] = {}
    for block in blocks:
        thunk, lines = _parse_block(block, context)
        if block.key in row_lines:
            row_lines[block.key].extend(lines)
        else:
            row_lines[block.key] = lines
            _warn_if_unknown(block, context)
        tables.add(block.key, thunk)
    return MmsReport(
        name=name,
        header=header,
        tables=tables,
        warnings=context.warnings,
        members=[name],
        row_lines=row_lines,
    )


def _markers(data: bytes) -> list[tuple[int, bytes]]:
    """Offsets of every line that starts an I or C row, in file order."""
    found: list[tuple[int, bytes]] = []
    for kind in (b"I", b"C"):
        if data.startswith(kind + b","):
            found.append((0, kind))
        needle = b"\n" + kind + b","
        position = data.find(needle)
        while position >= 0:
            found.append((position + 1, kind))
            position = data.find(needle, position + 1)
    found.sort()
    return found


def _reject_start(data: bytes, name: str) -> NoReturn:
    first = data.lstrip()[:40].split(b"\n", 1)[0].decode("latin-1").rstrip("\r")
    if first.startswith("D,"):
        raise MalformedRowError(name, "D row before any I row declares its columns", line=1)
    raise MalformedRowError(name, f"not an MMS CSV report: first line is {first!r}", line=1)


def _reject_orphans(
    body: bytes, c_line: int, name: str, *, after_footer: bool, warnings: list[MmsWarning]
) -> None:
    """Content between a C row and the next I row: D rows there have no columns to go by."""
    for offset, raw in enumerate(body.split(b"\n"), start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith(b"D,"):
            raise MalformedRowError(
                name, "D row before any I row declares its columns", line=c_line + offset
            )
        if after_footer:
            warnings.append(
                MmsWarning(
                    WarningCode.TRAILING_CONTENT,
                    name,
                    "content after END OF REPORT ignored",
                    c_line + offset,
                )
            )
            return
        raise MalformedRowError(
            name, f"unexpected row {text[:40].decode('latin-1')!r}", line=c_line + offset
        )


def _decode(raw: bytes, name: str, warnings: list[MmsWarning], line: int) -> str:
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


def _split_row(text: str, name: str, line: int) -> list[str]:
    if '"' not in text:
        return text.split(",")
    try:
        return next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise MalformedRowError(name, f"cannot split row: {exc}", line=line) from exc


def _footer_count(fields: list[str], name: str, line: int) -> int:
    try:
        return int(fields[2])
    except (IndexError, ValueError):
        raise MalformedRowError(name, f"bad END OF REPORT row {fields!r}", line=line) from None


def _i_block(text: str, body: bytes, line: int, name: str) -> _Block:
    fields = _split_row(text, name, line)
    if len(fields) < 5:
        raise MalformedRowError(name, f"I row declares no columns: {text[:80]!r}", line=line)
    try:
        version = int(fields[3])
    except ValueError:
        raise MalformedRowError(
            name, f"I row version {fields[3]!r} is not a number", line=line
        ) from None
    columns = [c.strip() for c in fields[4:]]
    if len(set(columns)) != len(columns) or not all(columns):
        raise MalformedRowError(name, "I row has empty or repeated column names", line=line)
    key = TableKey(fields[1], fields[2], version)
    return _Block(key, fields[3], columns, body, line)


def _warn_if_unknown(block: _Block, context: _Context) -> None:
    known = KNOWN_TABLES.get((block.key.table, block.key.subtype))
    if known is None:
        code, message = WarningCode.UNKNOWN_TABLE, f"table {block.key.name} is not one nemstream "
        message += "has been checked against; read with inferred column types"
    elif block.key.version not in known:
        versions = ", ".join(str(v) for v in sorted(known))
        code = WarningCode.UNKNOWN_VERSION
        message = (
            f"{block.key.name} version {block.key.version} is not one nemstream has been checked "
            f"against (known: {versions}); columns matched by name"
        )
    else:
        return
    context.warnings.append(MmsWarning(code, context.name, message, block.i_line))


def _parse_block(block: _Block, context: _Context) -> tuple[TableThunk, RowLines]:
    """Check a block's structure now; return a function that types its values when asked."""
    lines = RowLines()
    body = block.body
    first = block.i_line + 1
    if not body.strip():
        lines.add(context.name, first, 0)
        empty = _empty_frame(block.columns)
        return lambda: empty, lines
    try:
        if len(body) < POLARS_MIN_BYTES:
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


def _fast_python(block: _Block, context: _Context) -> tuple[TableThunk, int]:
    body = block.body
    if b'""' in body or _QUOTED_COMMA.search(body):
        raise _Fallback
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Fallback from None
    rows = text.replace('"', "").splitlines()
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


def _fast_polars(block: _Block, context: _Context) -> tuple[TableThunk, int]:
    body = block.body
    width = 4 + len(block.columns)
    count = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    commas = body.count(b",")
    if commas < count * (width - 1) or b"\n\n" in body or b"\n\r\n" in body:
        raise _Fallback  # a short row or a blank line: the careful reader says which
    if commas > count * (width - 1) and _QUOTED_COMMA.search(body):
        raise _Fallback  # commas inside quotes: counting cannot prove the field counts
    overrides: dict[str, pl.DataType] = {name: pl.String() for name in _PREFIX}
    for name in block.columns:
        kind = column_kind(name)
        if kind is not None:
            overrides[name] = pl.String() if kind is Kind.DATETIME else DTYPES[kind]
    try:
        raw = pl.read_csv(
            body,
            has_header=False,
            new_columns=[*_PREFIX, *block.columns],
            schema_overrides=overrides,
            infer_schema_length=None,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, ValueError, OverflowError):
        raise _Fallback from None
    key = block.key
    checks = raw.select(
        (pl.col("_row") == "D").all(),
        (pl.col("_table") == key.table).all(),
        (pl.col("_subtype").fill_null("") == key.subtype).all(),
        (pl.col("_version") == block.version_token).all(),
    ).row(0)
    if raw.height != count or not all(checks):
        raise _Fallback
    first = block.i_line + 1
    name, text = context.name, raw.drop(_PREFIX)
    return (lambda: type_frame(name, text, lambda row: first + row)), count


def _careful(block: _Block, context: _Context) -> tuple[TableThunk, list[int]]:
    """Row-by-row reader: recovers what can be recovered, else raises naming the line."""
    name, key = context.name, block.key
    text = _decode(block.body, name, context.warnings, block.i_line + 1)
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


def _raise_bad_row(context: _Context, line: int, message: str, *, cut: bool = False) -> NoReturn:
    if cut and not context.has_footer and line >= context.last_line:
        raise TruncatedReportError(context.name, f"report cut mid-row: {message}", line=line)
    raise MalformedRowError(context.name, message, line=line)


__all__ = ["POLARS_MIN_BYTES", "MmsError", "read_csv_bytes"]
