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
from nemstream_mms._typing import (
    DTYPES,
    looks_like_timestamp,
    type_frame,
    type_rows,
    type_series,
)

POLARS_MIN_BYTES = 192 * 1024
"""Blocks at least this big go to polars' CSV reader; smaller ones are split in Python, where
the reader's fixed cost per call (about a millisecond) would dominate."""

SNIFF_ROWS = 200
"""Rows looked at to guess the type of a column nemstream does not catalogue in a block read by
polars; a guess that later rows contradict is caught and the block re-read as text."""

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
    data: bytes  # the whole file: big blocks are read in place, never copied
    start: int  # offset of the first D row
    stop: int  # offset just past the last D row
    i_line: int  # line of the I row; D rows start on the next line
    line_count: int  # physical lines between the I row and the next I/C row

    @property
    def body(self) -> bytes:
        """The block's D rows (a copy: used for small blocks and the careful reader)."""
        return self.data[self.start : self.stop]

    @property
    def size(self) -> int:
        """Bytes of D rows."""
        return self.stop - self.start


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
    if _blank(data):
        raise EmptyReportError(name, "empty file: no MMS rows")
    warnings: list[MmsWarning] = []
    markers = _markers(data)
    if not markers or markers[0][0] != 0:
        _reject_start(data, name)
    header: ReportHeader | None = None
    footer: tuple[int, int] | None = None  # (line, declared line count)
    blocks: list[_Block] = []
    lines = _marker_lines(data, markers)
    for index, (offset, kind) in enumerate(markers):
        line = lines[index]
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        row_text = _decode(data[offset:end], name, warnings, line).rstrip("\r")
        last = index + 1 == len(markers)
        next_offset = len(data) if last else markers[index + 1][0]
        start = min(end + 1, next_offset)
        if kind == b"I":
            if last:
                tail = data.count(b"\n", start, next_offset)
                line_count = tail + (0 if data.endswith(b"\n") or start == next_offset else 1)
            else:
                line_count = lines[index + 1] - line - 1
            blocks.append(_i_block(row_text, data, start, next_offset, line, line_count, name))
            continue
        fields = _split_row(row_text, name, line)
        if len(fields) > 1 and fields[1] == "END OF REPORT":
            footer = (line, _footer_count(fields, name, line))
        elif header is None:
            header = ReportHeader.from_fields(fields)
        if not _blank(data[start:next_offset]):
            _reject_orphans(
                data[start:next_offset],
                line,
                name,
                after_footer=footer is not None,
                warnings=warnings,
            )
    previous, line = markers[-1][0], lines[-1]
    last_line = line + data.count(b"\n", previous, _content_end(data))
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


def _blank(data: bytes) -> bool:
    """True for empty or whitespace-only bytes, without copying them."""
    return not data or data.isspace()


def _content_end(data: bytes) -> int:
    """Offset just past the last non-whitespace byte (trailing whitespace is short)."""
    end = len(data)
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    return end


_MARKER = re.compile(rb"\n([IC]),")


def _markers(data: bytes) -> list[tuple[int, bytes]]:
    """Offsets of every line that starts an I or C row, in file order (one pass)."""
    found = [(0, data[:1])] if data[:2] in (b"I,", b"C,") else []
    found.extend((match.start() + 1, match.group(1)) for match in _MARKER.finditer(data))
    return found


def _marker_lines(data: bytes, markers: list[tuple[int, bytes]]) -> list[int]:
    """1-based line number of each marker (one pass of newline counting)."""
    lines: list[int] = []
    line, previous = 1, 0
    for offset, _ in markers:
        line += data.count(b"\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


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


def _i_block(
    text: str, data: bytes, start: int, stop: int, line: int, line_count: int, name: str
) -> _Block:
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
    return _Block(key, fields[3], columns, data, start, stop, line, line_count)


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
    first = block.i_line + 1
    if block.size == 0 or (block.size < 64 and _blank(block.body)):
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


def _fast_python(block: _Block, context: _Context) -> tuple[TableThunk, int]:
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


def _fast_polars(block: _Block, context: _Context) -> tuple[TableThunk, int]:
    """Read a big block in place with polars and prove it well formed without a second parse:
    every row is a D row of this table, as many rows as lines, no row short of fields."""
    count = block.line_count
    raw = _read_block(block, count)
    key = block.key
    last = block.columns[-1]
    checks = raw.select(
        (pl.col("_row") == "D").all(),
        (pl.col("_table") == key.table).all(),
        (pl.col("_subtype").fill_null("") == key.subtype).all(),
        (pl.col("_version") == block.version_token).all(),
        pl.col(last).null_count(),
    ).row(0)
    if raw.height != count or not all(checks[:4]):
        raise _Fallback  # a blank line, a row spanning lines, a foreign row: careful reader
    if checks[4]:
        # polars fills a short row's missing fields with nulls, and a short row always leaves
        # the last column empty: where that column has empties, count the fields instead
        commas = block.data.count(b",", block.start, block.stop)
        expected = count * (len(block.columns) + 3)
        if commas < expected or (
            commas > expected and _QUOTED_COMMA.search(block.data, block.start, block.stop)
        ):
            raise _Fallback
    first = block.i_line + 1
    name, text = context.name, raw.drop(_PREFIX)
    return (lambda: type_frame(name, text, lambda row: first + row)), count


def _read_block(block: _Block, count: int) -> pl.DataFrame:
    """Read a large block with polars. Column types come from the catalogue, else from the
    first rows (`_sniff`); if a later row contradicts a guess, the block is re-read as text and
    typed afterwards, where a bad value in a catalogued column is reported with its line."""
    names = [*_PREFIX, *block.columns]
    for schema in (_sniff(block), {name: pl.String() for name in names}):
        try:
            return pl.read_csv(
                block.data,
                has_header=False,
                schema=schema,
                skip_lines=block.i_line,
                n_rows=count,
                raise_if_empty=False,
            )
        except (pl.exceptions.PolarsError, ValueError, OverflowError):
            continue
    raise _Fallback


def _sniff(block: _Block) -> dict[str, pl.DataType]:
    """Read schema for a block: catalogued types, numbers guessed from the first rows as
    floats, everything else (timestamps included, typed later) as text."""
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
        schema[name] = pl.String() if kind is Kind.DATETIME else DTYPES[kind]
    return schema


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
