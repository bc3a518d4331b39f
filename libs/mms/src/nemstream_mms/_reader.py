"""Read one MMS CSV (C/I/D rows) into a typed frame per table, fast, with errors naming lines.

The file is cut into blocks at its I and C rows with byte searches. Each block of D rows is
parsed by the cheapest path that can prove it well formed: split in Python (small blocks, as in
a live 5-minute file) or polars' CSV reader (large blocks, as in a monthly archive). Whenever a
fast path cannot prove a block well formed it hands the block to a careful row-by-row reader,
which either recovers (blank lines, rows spanning lines) or raises an error naming the line.

A large block that only the file's closing C rows follow (a monthly archive: one table, then
the footer) is not scanned for markers and line breaks at all: polars reads it to the end of
the file, and the checks of `parse_last_block` prove it is one block of one row per line. Such a
file on disk is not even read into memory (`read_csv_file`): it is mapped for the few lines
Python looks at, and polars reads the block from the file itself.
"""

from __future__ import annotations

import csv
import mmap
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn

from nemstream_mms import _blocks
from nemstream_mms._blocks import (
    Block,
    Buffer,
    Context,
    count_of,
    decode,
    parse_block,
    parse_last_block,
)
from nemstream_mms._catalog import KNOWN_TABLES
from nemstream_mms._errors import (
    EmptyReportError,
    MalformedRowError,
    MmsError,
    MmsWarning,
    TruncatedReportError,
    WarningCode,
)
from nemstream_mms._report import MmsReport, ReportHeader, RowLines, TableKey, Tables, TableThunk

_BOM = b"\xef\xbb\xbf"


class _NotInPlace(Exception):
    """A mapped file is not one that can be read in place: read it into memory instead."""


def read_csv_bytes(data: bytes, name: str, *, strict: bool = True) -> MmsReport:
    """Parse one MMS CSV held in memory; `strict` makes a missing footer an error, not a warning."""
    if data.startswith(_BOM):
        data = data[3:]
    return _read(data, name, strict, None)


def read_csv_file(path: str | os.PathLike[str], name: str, *, strict: bool = True) -> MmsReport:
    """Parse one plain MMS CSV on disk, as `read_csv_bytes` parses its bytes. A file whose rows
    are one large block (a monthly archive: one table, then the footer) is not read into memory:
    it is mapped for the few lines Python looks at (header, I row, probes, closing rows) and
    polars reads the block from the file. Any other file is read into memory.
    Raises OSError if the file cannot be read."""
    with Path(path).open("rb") as file:
        info = os.fstat(file.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size >= _blocks.POLARS_MIN_BYTES:
            report = _read_in_place(file, info, name, strict, os.path.abspath(path))
            if report is not None:
                return report
            file.seek(0)
        data = file.read()
    return read_csv_bytes(data, name, strict=strict)


def _read_in_place(
    file: BinaryIO, info: os.stat_result, name: str, strict: bool, path: str
) -> MmsReport | None:
    """`read_csv_file` of a file mapped in memory; None where that cannot be done: its rows are
    not one large block, it cannot be mapped, or the file at `path` (which polars opens) is no
    longer the one open (replaced or changed while it was read)."""
    try:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    with mapped:
        if mapped[:3] == _BOM:
            return None
        try:
            report = _read(mapped, name, strict, path)
        except _NotInPlace:
            return None
        except MmsError:
            if _unchanged(path, info):
                raise
            return None
    return report if _unchanged(path, info) else None


def _unchanged(path: str, info: os.stat_result) -> bool:
    """Whether the file at `path` is still the open file `info` describes, as it was."""
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) == (
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
    )


def _read(data: Buffer, name: str, strict: bool, file: str | None) -> MmsReport:
    """`read_csv_bytes`; `data` maps `file` when it is given (raises `_NotInPlace` unless its
    rows are one large block that the closing rows alone follow)."""
    if _blank(data):
        raise EmptyReportError(name, "empty file: no MMS rows")
    warnings: list[MmsWarning] = []
    markers, lines, early = _structure(data, name, file)
    if not markers or markers[0][0] != 0:
        _reject_start(data, name)
    header: ReportHeader | None = None
    footer: tuple[int, str] | None = None  # (line, the line count it declares, as written)
    blocks: list[Block] = []
    for index, (offset, kind) in enumerate(markers):
        line = lines[index]
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        row_text = decode(data[offset:end], name, warnings, line).rstrip("\r")
        last = index + 1 == len(markers)
        next_offset = len(data) if last else markers[index + 1][0]
        start = min(end + 1, next_offset)
        if kind == b"I":
            if last:
                tail = count_of(data, b"\n", start, next_offset)
                line_count = tail + (0 if data[-1:] == b"\n" or start == next_offset else 1)
            else:
                line_count = lines[index + 1] - line - 1
            blocks.append(
                _i_block(row_text, data, start, next_offset, line, line_count, name, file)
            )
            continue
        fields = _split_row(row_text, name, line)
        if len(fields) > 1 and fields[1] == "END OF REPORT":
            footer = (line, fields[2].strip() if len(fields) > 2 else "")
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
    last_line = line + count_of(data, b"\n", previous, _content_end(data))
    context = Context(name, warnings, {}, last_line, footer is not None)
    report = _assemble(name, header, blocks, context, early)  # a cut row is reported first
    if footer is None:
        message = "no END OF REPORT footer: the report is incomplete (truncated?)"
        if strict:
            raise TruncatedReportError(name, message, line=last_line)
        warnings.append(MmsWarning(WarningCode.MISSING_FOOTER, name, message, last_line))
    else:
        _check_footer(footer[0], footer[1], name, warnings)
    return report


def _assemble(
    name: str,
    header: ReportHeader | None,
    blocks: list[Block],
    context: Context,
    early: _Early | None,
) -> MmsReport:
    tables = Tables()
    row_lines: dict[TableKey, RowLines] = {}
    for block in blocks:
        if early is not None and block.start == early.start:
            thunk, lines = early.parsed
        else:
            thunk, lines = parse_block(block, context)
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


def _blank(data: Buffer) -> bool:
    """True for empty or whitespace-only bytes, without copying them."""
    if isinstance(data, bytes):
        return not data or data.isspace()
    return _NOT_SPACE.search(data) is None


def _content_end(data: Buffer) -> int:
    """Offset just past the last non-whitespace byte (trailing whitespace is short)."""
    end = len(data)
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    return end


_MARKER = re.compile(rb"\n([IC]),")
_NOT_SPACE = re.compile(rb"\S")  # the bytes `bytes.isspace` does not count as space
_CLOSING_LINES = 64  # the most closing lines looked at from the end of a file
_PROBES = 16  # lines of a large last block looked at before polars reads it


@dataclass(slots=True)
class _Early:
    """A large last block, parsed while the file's structure was being found."""

    start: int  # offset of its first D row
    rows: int
    parsed: tuple[TableThunk, RowLines]


def _structure(
    data: Buffer, name: str, file: str | None = None
) -> tuple[list[tuple[int, bytes]], list[int], _Early | None]:
    """Offset and kind of every line that starts an I or C row, its 1-based line, in file order:
    one pass of byte searches and newline counts. But a large block that only the file's closing
    C rows follow is not scanned: `parse_last_block` reads it, and its row count is its line
    count (the lines of the closing rows follow from it). A mapped file (`file`) with no such
    block raises `_NotInPlace`, before any full scan."""
    markers = [(0, data[:1])] if data[:2] in (b"I,", b"C,") else []
    big = bool(markers) and len(data) >= _blocks.POLARS_MIN_BYTES  # else no block is large
    closing = _closing(data) if big else None
    if closing is None:
        if not isinstance(data, bytes):
            raise _NotInPlace
        markers.extend(_markers_from(data, 0))
        return markers, _marker_lines(data, markers), None
    lines = [1]
    while True:
        offset, kind = markers[-1]
        end = data.find(b"\n", offset)
        if end < 0:
            break
        if kind == b"I":
            early = _last_block(data, name, offset, end + 1, lines[-1], closing, file)
            if early is not None:
                first = lines[-1] + 1 + early.rows  # line of the first closing row
                tail = list(_markers_from(data, closing[0] - 1))
                markers.extend(tail)
                lines.extend(first + count_of(data, b"\n", closing[0], at) for at, _ in tail)
                return markers, lines, early
            if not isinstance(data, bytes):
                raise _NotInPlace  # the rest would be scanned
        found = _MARKER.search(data, end)
        if found is None:
            break
        markers.append((found.start() + 1, found.group(1)))
        lines.append(lines[-1] + count_of(data, b"\n", offset, found.start() + 1))
    if not isinstance(data, bytes):
        raise _NotInPlace
    return markers, lines, None


def _markers_from(data: Buffer, start: int) -> Iterator[tuple[int, bytes]]:
    """Offset and kind of every I or C row after `start` (at a line break)."""
    return ((match.start() + 1, match.group(1)) for match in _MARKER.finditer(data, start))


def _marker_lines(data: bytes, markers: list[tuple[int, bytes]]) -> list[int]:
    """1-based line number of each marker (one pass of newline counting)."""
    lines: list[int] = []
    line, previous = 1, 0
    for offset, _ in markers:
        line += data.count(b"\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def _closing(data: Buffer) -> tuple[int, list[str | None]] | None:
    """The file's closing lines, read back from its end to its last D row: their offset and,
    for each, the first field polars reads from it ("C", None for an empty line). None unless
    they are all C rows or empty lines and the first of them is a C row (a footer)."""
    end = len(data) - 1 if data[-1:] == b"\n" else len(data)  # end of the last line
    firsts: list[str | None] = []
    for _ in range(_CLOSING_LINES):
        newline = data.rfind(b"\n", 0, end)
        line = data[newline + 1 : end].rstrip(b"\r")
        if line.startswith(b"D,"):
            if not firsts or firsts[-1] != "C":
                return None  # no closing rows, or an empty line before them
            firsts.reverse()
            return end + 1, firsts
        if line.startswith(b"C,"):
            firsts.append("C")
        elif not line:
            firsts.append(None)
        else:
            return None
        if newline < 0:
            return None
        end = newline
    return None


def _last_block(
    data: Buffer,
    name: str,
    i_offset: int,
    start: int,
    i_line: int,
    closing: tuple[int, list[str | None]],
    file: str | None = None,
) -> _Early | None:
    """Parse the block under the I row at `i_offset` as a large last block, if it looks like
    one: big enough for polars, and its first, last and a few lines between begin with its
    table's D row prefix. None (nothing parsed) otherwise or if its checks fail."""
    stop, firsts = closing
    if stop - start < _blocks.POLARS_MIN_BYTES:
        return None
    row = data[i_offset:start].rstrip(b"\r\n")
    fields = row.split(b",", 4)
    if len(fields) < 5 or not _lines_start_with(
        data, b"D," + b",".join(fields[1:4]) + b",", start, stop
    ):
        return None
    try:
        block = _i_block(row.decode("utf-8"), data, start, stop, i_line, 0, name, file)
    except (UnicodeDecodeError, MmsError):
        return None  # the ordinary pass reports it in its place
    parsed = parse_last_block(block, firsts, Context(name, [], {}, 0, True))
    return None if parsed is None else _Early(start, parsed[1].rows, parsed)


def _lines_start_with(data: Buffer, prefix: bytes, start: int, stop: int) -> bool:
    """Probe the block [start, stop): its first line, its last and some between."""

    def starts(at: int) -> bool:
        return data[at : at + len(prefix)] == prefix

    last = data.rfind(b"\n", start, stop - 1) + 1
    if not (starts(start) and starts(max(last, start))):
        return False
    step = (stop - start) // _PROBES
    for probe in range(1, _PROBES):
        newline = data.find(b"\n", start + probe * step, stop)
        if newline + 1 < stop and not starts(newline + 1):
            return False
    return True


def _reject_start(data: Buffer, name: str) -> NoReturn:
    found = _NOT_SPACE.search(data)
    at = len(data) if found is None else found.start()
    first = data[at : at + 40].split(b"\n", 1)[0].decode("latin-1").rstrip("\r")
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


def _split_row(text: str, name: str, line: int) -> list[str]:
    if '"' not in text:
        return text.split(",")
    try:
        return next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise MalformedRowError(name, f"cannot split row: {exc}", line=line) from exc


def _check_footer(line: int, declared: str, name: str, warnings: list[MmsWarning]) -> None:
    """Compare the line count an END OF REPORT row declares with its own line number. A wrong,
    missing or unreadable count is one warning (the data is all kept), never an error."""
    if declared.isascii() and declared.isdigit():
        if int(declared) == line:
            return
        message = f"footer declares {int(declared)} lines but the report has {line}"
    elif declared:
        message = (
            f"footer line count {declared[:20]!r} is not a number; the report has {line} lines"
        )
    else:
        message = f"footer declares no line count; the report has {line} lines"
    warnings.append(MmsWarning(WarningCode.FOOTER_MISMATCH, name, message, line))


def _i_block(
    text: str,
    data: Buffer,
    start: int,
    stop: int,
    line: int,
    line_count: int,
    name: str,
    file: str | None = None,
) -> Block:
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
    return Block(key, fields[3], columns, data, start, stop, line, line_count, file)


def _warn_if_unknown(block: Block, context: Context) -> None:
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


__all__ = ["read_csv_bytes", "read_csv_file"]
