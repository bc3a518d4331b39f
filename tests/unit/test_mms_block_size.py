"""Block size must not change results: the same real rows give the same frame on every path.

The reader sends a block of D rows down one of five paths by its size: split and typed value by
value in Python (a few rows), split in Python and typed column by column (hundreds of rows),
read by polars' CSV reader (blocks of 192 KB and more; from 24 MB with the timestamp columns
read as categoricals), or the careful row-by-row reader (any block a fast path cannot prove
well formed). These tests take real rows from the NEMWeb samples,
force each path on the same rows, and require equal frames and equal row lines.

No sample has a date-only or a fractional-second timestamp in a D row: every one of the
3.5 million timestamps in their D rows is written ``YYYY/MM/DD HH:MM:SS`` (the "dates" of the
DVD registration files are midnight timestamps, ``"1998/10/26 00:00:00"``), and no sample quotes
an empty field (their ``""`` are escaped quotes inside names). So, besides the rows as AEMO wrote
them, the tests read variants of the real rows that edit only how values are written: a midnight
timestamp written as its date alone (``"1998/10/26"``), seconds given a fraction
(``00:30:00.250``), and empty fields written as ``""``. Every other byte is AEMO's.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from nemstream_mms import (
    MmsError,
    MmsReport,
    TableKey,
    ValueTypeError,
    WarningCode,
    _blocks,
    _reader,
    read_csv_bytes,
)
from nemstream_testing import SampleSet, names

SOURCES = [
    names.DVD_DUDETAILSUMMARY,  # dates, empty trailing fields
    names.DVD_DUDETAIL,  # dates, integers, text
    names.DVD_STATION,  # escaped quotes, commas inside quotes
    names.DVD_TRADINGINTERCONNECT,
    names.DISPATCHIS_2025,  # 7 tables of a live file
    names.DISPATCHIS_2020,
    "forecasts/PUBLIC_P5MIN_201905160000_20190515235537.zip",  # uncatalogued timestamps
    names.TRADINGREGIONSUM_2017,  # many inferred numeric columns
    names.CO2EII_GENERATORS,  # an unknown table
]
LARGE = [  # single-table files over the polars threshold as a whole
    names.DVD_DUDETAILSUMMARY,
    names.DVD_DUDETAIL,
    names.DVD_TRADINGINTERCONNECT,
]
PATHS = ("python rows", "python series", "polars", "polars categorical", "careful")
STYLES = ("as written", "date only", "fraction", "mixed", "quoted empties")
FRACTIONS = ("0", "5", "250", "000", "123456")

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Source:
    """A real report cut into its lines: header, then each I row with its D rows, footer."""

    header: bytes
    blocks: tuple[tuple[bytes, tuple[bytes, ...]], ...]
    newline: bytes


@cache
def _source(root: str, name: str) -> Source:
    data = (Path(root) / name).read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read(archive.namelist()[0])
    newline = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.split(newline)
    blocks: list[tuple[bytes, list[bytes]]] = []
    for line in lines[1:]:
        if line.startswith(b"I,"):
            blocks.append((line, []))
        elif line.startswith(b"D,"):
            blocks[-1][1].append(line)
    return Source(lines[0], tuple((i, tuple(rows)) for i, rows in blocks), newline)


def _load(samples: SampleSet, name: str) -> Source:
    samples.path(name)  # skips when the folder in use lacks the file
    return _source(str(samples.root), name)


_TIMESTAMP = re.compile(rb'^("?)(\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d)("?)$')


def _fields(row: bytes) -> list[bytes]:
    """Split a row at the commas outside quotes, keeping each field exactly as written."""
    fields, start, quoted = [], 0, False
    for index, byte in enumerate(row):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x2C and not quoted:  # ,
            fields.append(row[start:index])
            start = index + 1
    fields.append(row[start:])
    return fields


def _restyle(row: bytes, style: str, fraction: bytes, flip: bool) -> bytes:
    """Rewrite only how a row's timestamps (or empty fields) are written."""
    if style == "as written" or (style == "mixed" and not flip):
        return row
    out = []
    for field in _fields(row):
        match = _TIMESTAMP.match(field)
        if style == "quoted empties":
            if field == b"":
                field = b'""'
        elif match:
            quote, day, clock, end = match.groups()
            if style in ("date only", "mixed") and clock == b"00:00:00":
                field = quote + day + end
            elif style in ("fraction", "mixed"):
                field = quote + day + b" " + clock + b"." + fraction + end
        out.append(field)
    return b",".join(out)


def _report(source: Source, picks: list[tuple[int, int, int]], style: str, seed: int) -> bytes:
    """A report of the header, the picked rows of the picked blocks (restyled), and a footer
    whose line count is right."""
    lines = [source.header]
    for block, start, count in picks:
        i_row, rows = source.blocks[block]
        lines.append(i_row)
        for offset, row in enumerate(rows[start : start + count]):
            flip = (seed >> (offset % 31)) & 1 == 1
            fraction = FRACTIONS[(seed + offset) % len(FRACTIONS)].encode()
            lines.append(_restyle(row, style, fraction, flip))
    lines.append(b'C,"END OF REPORT",' + str(len(lines) + 1).encode())
    return source.newline.join(lines) + source.newline


def _refuse(*_: Any) -> NoReturn:
    raise _blocks._Fallback


@contextmanager
def _path(label: str) -> Iterator[None]:
    """Force every block of a read down one path."""
    if label == "careful":
        with (
            mock.patch.object(_blocks, "_fast_python", _refuse),
            mock.patch.object(_blocks, "_fast_polars", _refuse),
        ):
            yield
        return
    polars_min, python_max, categorical_min = {
        "python rows": (1 << 40, 1 << 40, 1 << 40),
        "python series": (1 << 40, 0, 1 << 40),
        "polars": (0, 0, 1 << 40),
        "polars categorical": (0, 0, 0),
    }[label]
    with (
        mock.patch.object(_blocks, "POLARS_MIN_BYTES", polars_min),
        mock.patch.object(_blocks, "PYTHON_MAX_CELLS", python_max),
        mock.patch.object(_blocks, "CATEGORICAL_MIN_BYTES", categorical_min),
    ):
        yield


def _read(data: bytes, label: str) -> tuple[MmsReport, dict[TableKey, pl.DataFrame]]:
    with _path(label):
        report = read_csv_bytes(data, "picked.csv")
        return report, {key: report.tables[key] for key in report.tables}


def _assert_same(data: bytes) -> dict[TableKey, pl.DataFrame]:
    reference, frames = _read(data, PATHS[0])
    for label in PATHS[1:]:
        report, other = _read(data, label)
        assert list(other) == list(frames), label
        for key, frame in frames.items():
            try:
                assert_frame_equal(other[key], frame, check_exact=True)
            except AssertionError as exc:
                raise AssertionError(f"{key} on the {label} path: {exc}") from None
            lines = [report.locate(key, row) for row in range(frame.height)]
            assert lines == [reference.locate(key, row) for row in range(frame.height)], label
        assert [w.code for w in report.warnings] == [w.code for w in reference.warnings], label
    return frames


@st.composite
def _picks(draw: st.DrawFn, source: Source) -> list[tuple[int, int, int]]:
    """One run of consecutive real rows from each of some of the source's blocks."""
    blocks = list(range(len(source.blocks)))
    chosen = draw(st.lists(st.sampled_from(blocks), min_size=1, max_size=4, unique=True))
    picks = []
    for block in sorted(chosen):
        rows = len(source.blocks[block][1])
        start = draw(st.integers(0, max(0, rows - 1)), label="first row")
        count = draw(st.integers(1, max(1, min(rows - start, 700))), label="rows")
        picks.append((block, start, count))
    return picks


@SETTINGS
@given(data=st.data())
def test_every_path_gives_the_same_frames_for_the_same_real_rows(
    samples: SampleSet, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(SOURCES), label="sample")
    source = _load(samples, name)
    picks = data.draw(_picks(source), label="picks")
    style = data.draw(st.sampled_from(STYLES), label="style")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    frames = _assert_same(_report(source, picks, style, seed))
    for key, frame in frames.items():  # timestamps are typed, whatever their form
        for column in ("SETTLEMENTDATE", "EFFECTIVEDATE", "START_DATE", "RUN_DATETIME"):
            if column in frame.columns:
                assert frame.schema[column] == pl.Datetime("us"), (key, column)


@pytest.mark.parametrize("style", ["as written", "date only", "fraction", "mixed"])
@pytest.mark.parametrize("name", LARGE)
def test_a_large_block_reads_like_the_same_rows_in_small_blocks(
    samples: SampleSet, name: str, style: str
) -> None:
    """With the reader's own thresholds: the whole table as one block (over 192 KB: polars's
    path) against the same rows read 100 at a time (each block far under it: Python's path).

    A column empty in all of a block's 100 rows has no values to infer a type from (it is text
    there); it is compared by value."""
    source = _load(samples, name)
    ((i_row, rows),) = source.blocks
    restyled = [
        _restyle(row, style, FRACTIONS[n % 5].encode(), n % 2 == 0) for n, row in enumerate(rows)
    ]
    assert sum(len(row) + 2 for row in restyled) >= _blocks.POLARS_MIN_BYTES

    def read(rows: list[bytes]) -> pl.DataFrame:
        lines = [source.header, i_row, *rows]
        lines.append(b'C,"END OF REPORT",' + str(len(lines) + 1).encode())
        report = read_csv_bytes(source.newline.join(lines) + source.newline, name)
        assert [w.code for w in report.warnings] in ([], [WarningCode.UNKNOWN_TABLE])
        (key,) = report.tables
        return report.tables[key]

    whole = read(restyled)
    assert whole.height == len(rows)
    for start in range(0, len(restyled), 100):
        part = read(restyled[start : start + 100])
        empty = [c for c in part.columns if part[c].null_count() == part.height]
        part = part.with_columns(pl.col(c).cast(whole.schema[c]) for c in empty)
        assert_frame_equal(part, whole.slice(start, 100), check_exact=True)
    if style == "date only":  # the dates AEMO wrote at midnight came back as datetimes
        for column in ("EFFECTIVEDATE", "START_DATE"):
            if column in whole.columns:
                assert whole.schema[column] == pl.Datetime("us")
                assert whole[column].null_count() == 0


def _edits(i_row: bytes, rows: list[bytes]) -> dict[str, Any]:
    """Ways a large last block can be damaged; each maps a file's lines to the edited lines.
    Lines: 0 the header, 1 the I row, then the D rows, then the footer (last)."""
    middle = len(rows) // 2
    other = [b"I,PARTICIPANT_REGISTRATION,OTHER,1,A,B", b"D,PARTICIPANT_REGISTRATION,OTHER,1,x,y"]

    def at(row: int, new: list[bytes]) -> Any:
        return lambda lines: [*lines[:row], *new, *lines[row + 1 :]]

    def footer(text: bytes) -> Any:
        return lambda lines: [*lines[:-1], text]

    return {
        "as written": lambda lines: lines,
        "blank line": at(middle, [b"", rows[middle - 2]]),
        "line break in a field": at(middle, [_broken(rows[middle - 2])]),
        "line break in a timestamp": at(middle, [_broken(rows[middle - 2], timestamp=True)]),
        "short row": at(middle, [rows[middle - 2].rsplit(b",", 1)[0]]),
        "long row": at(middle, [rows[middle - 2] + b",extra"]),
        "foreign row": at(middle, [rows[middle - 2].replace(b",", b",OTHER", 2)]),
        "row without its table": at(middle, [b"D,," + rows[middle - 2].split(b",", 2)[2]]),
        "another table between": at(middle, [*other, i_row, rows[middle - 2]]),
        "empty line before the footer": lambda lines: [*lines[:-1], b"", lines[-1]],
        "lines after the footer": lambda lines: [*lines, b"", b"C,more", b""],
        "footer without count": footer(b'C,"END OF REPORT"'),
        "no footer": lambda lines: lines[:-1],
        "cut mid-row": lambda lines: [*lines[:-2], lines[-2][:25]],
    }


def _broken(row: bytes, *, timestamp: bool = False) -> bytes:
    """The row with a line break inside its first text field, or between the date and the time
    of its first timestamp (quoted, as a CSV writer would)."""
    fields = _fields(row)
    if timestamp:
        index = next(i for i, f in enumerate(fields) if i > 3 and _TIMESTAMP.match(f))
        day, clock = fields[index].strip(b'"').split(b" ")
        fields[index] = b'"' + day + b"\r\n" + clock + b'"'
    else:
        index = next(i for i, f in enumerate(fields) if i > 3 and f[:1].isalpha())
        fields[index] = b'"' + fields[index][:2] + b"\r\n" + fields[index][2:] + b'"'
    return b",".join(fields)


def _outcome(data: bytes, name: str, strict: bool) -> tuple[Any, ...]:
    try:
        report = read_csv_bytes(data, name, strict=strict)
        frames = {str(key): report.tables[key] for key in report.tables}
    except MmsError as exc:
        return ("error", type(exc).__name__, exc.line, str(exc))
    lines = {
        str(key): [report.locate(key, row) for row in range(0, report.tables[key].height, 97)]
        for key in report.tables
    }
    warnings = [(w.code, w.line, w.message) for w in report.warnings]
    return ("read", {k: f.to_dicts() for k, f in frames.items()}, lines, warnings)


def _outcome_on_disk(data: bytes, name: str, strict: bool, folder: Path) -> tuple[Any, ...]:
    """`_outcome` of the same bytes written to a file and read from there: in place (mapped, the
    block read by polars from the file) where the file allows it, else read into memory."""
    path = folder / name
    path.write_bytes(data)
    try:
        report = _reader.read_csv_file(path, name, strict=strict)
    except MmsError as exc:
        return ("error", type(exc).__name__, exc.line, str(exc))
    frames = {str(key): report.tables[key] for key in report.tables}
    lines = {
        str(key): [report.locate(key, row) for row in range(0, report.tables[key].height, 97)]
        for key in report.tables
    }
    warnings = [(w.code, w.line, w.message) for w in report.warnings]
    return ("read", {k: f.to_dicts() for k, f in frames.items()}, lines, warnings)


@pytest.mark.parametrize("categorical", [False, True], ids=["text", "categorical"])
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize("name", LARGE[::2])
def test_a_large_last_block_reads_as_a_line_by_line_scan_reads_it(
    samples: SampleSet,
    name: str,
    strict: bool,
    categorical: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large block that only the footer follows is read by polars to the end of the file
    without first counting its lines. Whatever is wrong with it, the outcome (frames, lines,
    warnings, or the error and its line) is the one of the ordinary scan line by line; and the
    same file on disk, read in place where it can be, gives the same outcome too. (Timestamps
    read as text, or as categoricals as in a block of 24 MB and more.)"""
    if categorical:
        monkeypatch.setattr(_blocks, "CATEGORICAL_MIN_BYTES", 0)
    source = _load(samples, name)
    ((i_row, rows),) = source.blocks
    original = [source.header, i_row, *rows, b'C,"END OF REPORT",' + str(len(rows) + 3).encode()]
    for label, edit in _edits(i_row, list(rows)).items():
        data = source.newline.join(edit(original)) + source.newline
        used = _reader._structure(data, name)[2] is not None
        expected_use = label in (
            "as written",
            "another table between",  # the second half, after the other table
            "footer without count",
            "lines after the footer",
        )
        assert used is expected_use, label
        fast = _outcome(data, name, strict)
        with mock.patch.object(_reader, "_last_block", lambda *_: None):
            assert _reader._structure(data, name)[2] is None
            scanned = _outcome(data, name, strict)
        assert fast == scanned, label
        with mock.patch.object(
            _reader, "read_csv_bytes", wraps=_reader.read_csv_bytes
        ) as into_memory:
            assert _outcome_on_disk(data, name, strict, tmp_path) == scanned, label
        # in place unless another table comes first (a mapped file is never scanned whole)
        assert into_memory.called is (not expected_use or label == "another table between")


ODD_TIMESTAMPS = [
    "2017/06/01 00:00:60",  # second 60: polars would roll it into the next minute
    " 2017/06/01 00:00:00",  # a leading space
    "+017/06/01 00:00:00",  # a signed year
    "0000/06/01 00:00:00",  # year 0
    "2017/06/01  0:00:00",  # a space-padded hour
    "2017/06/01 00:00+10",  # an offset where the seconds should be
    "2017/6/1 0:00:00",  # unpadded fields
    "2017-06-01 00:00:00",  # dashes
    "2017/06/01 00:00:00.1234567",  # more digits than microseconds
]


@pytest.mark.parametrize("odd", ODD_TIMESTAMPS)
def test_odd_timestamps_read_alike_on_every_path(samples: SampleSet, odd: str) -> None:
    """Timestamps polars and Python might read differently: one in a real block (its other
    rows as AEMO wrote them) is read, or rejected with the same line, on every path."""
    source = _load(samples, names.DVD_DUDETAIL)
    ((i_row, rows),) = source.blocks
    picked = list(rows[:300])
    fields = _fields(picked[150])
    assert _TIMESTAMP.match(fields[4])  # EFFECTIVEDATE
    fields[4] = b'"' + odd.encode() + b'"'
    picked[150] = b",".join(fields)
    lines = [source.header, i_row, *picked, b'C,"END OF REPORT",' + str(len(picked) + 3).encode()]
    data = source.newline.join(lines) + source.newline
    outcomes = []
    for label in PATHS:
        try:
            frames = _read(data, label)[1]
        except ValueTypeError as exc:
            outcomes.append((exc.line, exc.column, exc.value))
        else:
            (frame,) = frames.values()
            outcomes.append(frame["EFFECTIVEDATE"][150])
    assert outcomes == [outcomes[0]] * len(PATHS), odd
