"""The result of reading one MMS report: its header, one typed frame per table, and warnings."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import polars as pl

from nemstream_mms._catalog import INTERVAL_COLUMNS
from nemstream_mms._errors import MmsWarning, TableNotFoundError


class TableKey(NamedTuple):
    """An MMS table as the I row names it: ``DISPATCH,PRICE,5`` (sub-type may be empty)."""

    table: str
    subtype: str
    version: int

    @property
    def name(self) -> str:
        """``TABLE,SUBTYPE`` as AEMO writes it (the form `inspect` prints)."""
        return f"{self.table},{self.subtype}"

    def __str__(self) -> str:
        return f"{self.table},{self.subtype},{self.version}"


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """The report's first C row: who made it, which report it is, when, and its id."""

    system: str
    report_type: str
    source: str
    created: datetime | None
    report_id: str
    report_subtype: str

    @classmethod
    def from_fields(cls, fields: list[str]) -> ReportHeader:
        """Read ``C,NEMP.WORLD,DISPATCHIS,AEMO,PUBLIC,2025/12/27,00:00:21,ID,DISPATCHIS,ID``."""
        padded = [*fields, *[""] * (10 - len(fields))]
        created: datetime | None
        try:
            created = datetime.strptime(f"{padded[5]} {padded[6]}", "%Y/%m/%d %H:%M:%S")
        except ValueError:
            created = None
        return cls(
            system=padded[1],
            report_type=padded[2],
            source=padded[3],
            created=created,
            report_id=padded[7],
            report_subtype=padded[8],
        )


@dataclass(slots=True)
class RowLines:
    """Where a table's rows came from, so a row index can be reported as file and line.

    Rows are stored as runs: run *i* starts at row ``starts[i]``, in file ``sources[i]`` at line
    ``lines[i]``, and advances one line per row unless ``exact[i]`` lists every row's line
    (rows that spanned lines, or blank lines skipped).
    """

    starts: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    exact: list[list[int] | None] = field(default_factory=list)
    rows: int = 0

    def add(self, source: str, first_line: int, count: int, exact: list[int] | None = None) -> None:
        """Record the next run of rows."""
        self.starts.append(self.rows)
        self.sources.append(source)
        self.lines.append(first_line)
        self.exact.append(exact)
        self.rows += count

    def extend(self, other: RowLines) -> None:
        """Append another table's runs (one key read from several blocks or zip members)."""
        for start, source, line, exact in zip(
            other.starts, other.sources, other.lines, other.exact, strict=True
        ):
            self.starts.append(self.rows + start)
            self.sources.append(source)
            self.lines.append(line)
            self.exact.append(exact)
        self.rows += other.rows

    def locate(self, row: int) -> tuple[str, int] | None:
        """Return (file, 1-based line) of a row, or None when the row is out of range."""
        if row < 0 or row >= self.rows or not self.starts:
            return None
        run = bisect.bisect_right(self.starts, row) - 1
        offset = row - self.starts[run]
        exact = self.exact[run]
        line = exact[offset] if exact is not None else self.lines[run] + offset
        return self.sources[run], line


TableThunk = Callable[[], pl.DataFrame]
"""Types one block of a table when first asked for (structure was already checked)."""


def _constant(frame: pl.DataFrame) -> TableThunk:
    return lambda: frame


class Tables(Mapping[TableKey, pl.DataFrame]):
    """Tables of a report, typed on first access: a reader that needs three tables of a
    seven-table file pays for three, and a bad value in a table nobody reads loses nothing."""

    __slots__ = ("_done", "_order", "_pending")

    def __init__(self) -> None:
        self._pending: dict[TableKey, list[TableThunk]] = {}
        self._done: dict[TableKey, pl.DataFrame] = {}
        self._order: list[TableKey] = []  # file order, stable while tables are typed

    def add(self, key: TableKey, part: TableThunk | pl.DataFrame) -> None:
        """Append a block (a frame, or a function typing it) to a table."""
        thunk = _constant(part) if isinstance(part, pl.DataFrame) else part
        if key not in self:
            self._order.append(key)
        elif key in self._done:
            self._pending[key] = [_constant(self._done.pop(key))]
        self._pending.setdefault(key, []).append(thunk)

    def extend(self, other: Tables) -> None:
        """Append every table of another report (members of one archive)."""
        for key in other:
            if key in other._done:
                frame = other._done[key]
                self.add(key, frame)
            else:
                for thunk in other._pending[key]:
                    self.add(key, thunk)

    def __getitem__(self, key: TableKey) -> pl.DataFrame:
        frame = self._done.get(key)
        if frame is not None:
            return frame
        parts = [thunk() for thunk in self._pending[key]]
        frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")
        self._done[key] = frame
        del self._pending[key]
        return frame

    def __iter__(self) -> Iterator[TableKey]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._done or key in self._pending


@dataclass(slots=True)
class MmsReport:
    """One report (one CSV, or every CSV of a zip merged) as typed polars frames per table."""

    name: str
    header: ReportHeader | None
    tables: Tables
    warnings: list[MmsWarning] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    row_lines: dict[TableKey, RowLines] = field(default_factory=dict)

    def keys(self, table: str, subtype: str) -> list[TableKey]:
        """Every version of ``table,subtype`` present, oldest version first."""
        return sorted(k for k in self.tables if k.table == table and k.subtype == subtype)

    def table(self, table: str, subtype: str) -> pl.DataFrame:
        """All versions of one table concatenated by column name (missing columns null)."""
        keys = self.keys(table, subtype)
        if not keys:
            raise TableNotFoundError(self.name, f"no {table},{subtype} table in this report")
        frames = [self.tables[k] for k in keys]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")

    def locate(self, key: TableKey, row: int) -> tuple[str, int] | None:
        """The file and line a table row came from (for error messages); None if unknown."""
        lines = self.row_lines.get(key)
        return lines.locate(row) if lines is not None else None

    def interval_range(self, key: TableKey) -> tuple[datetime | None, datetime | None]:
        """First and last value of the table's interval column (e.g. SETTLEMENTDATE)."""
        frame = self.tables[key]
        for column in INTERVAL_COLUMNS:
            if column in frame.columns and frame.schema[column] == pl.Datetime("us"):
                series = frame.get_column(column)
                low, high = series.min(), series.max()
                return (
                    low if isinstance(low, datetime) else None,
                    high if isinstance(high, datetime) else None,
                )
        return None, None
