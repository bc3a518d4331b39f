"""Read one MMS CSV (C/I/D rows) into a typed frame per table, fast, with errors naming lines.

The file is cut into blocks at its I and C rows with byte searches. Each block of D rows is
parsed by the cheapest path that can prove it well formed: split in Python (small blocks, as in
a live 5-minute file) or polars' CSV reader (large blocks, as in a monthly archive). Whenever a
fast path cannot prove a block well formed it hands the block to a careful row-by-row reader,
which either recovers (blank lines, rows spanning lines) or raises an error naming the line.
"""

from __future__ import annotations

import csv
import re
from typing import NoReturn

from nemstream_mms._blocks import Block, Context, decode, parse_block
from nemstream_mms._catalog import KNOWN_TABLES
from nemstream_mms._errors import (
    EmptyReportError,
    MalformedRowError,
    MmsWarning,
    TruncatedReportError,
    WarningCode,
)
from nemstream_mms._report import MmsReport, ReportHeader, RowLines, TableKey, Tables


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
    blocks: list[Block] = []
    lines = _marker_lines(data, markers)
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
    context = Context(name, warnings, {}, last_line, footer is not None)
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
    name: str, header: ReportHeader | None, blocks: list[Block], context: Context
) -> MmsReport:
    tables = Tables()
    row_lines: dict[TableKey, RowLines] = {}
    for block in blocks:
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
    return Block(key, fields[3], columns, data, start, stop, line, line_count)


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


__all__ = ["read_csv_bytes"]
