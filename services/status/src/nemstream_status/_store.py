"""What the status page reads from the store, through the query layer's engine (the manifests'
current parts, DuckDB, bound parameters): rows and newest interval per table from its manifest,
the intervals a table holds in a range, its gaps at its own cadence, and keys held twice.

Gaps are counted up to the table's newest interval: what comes after it is the feed's age (its
card), not a hole. A table with no data at all has no gaps, only an empty card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from nemstream_contracts import SUBJECTS
from nemstream_market import FIVE_MINUTE_SETTLEMENT_START, naive_nem
from nemstream_query import Engine, gaps, read_parts, runs
from nemstream_store import TABLES, Manifest, TableSpec

FEEDS: tuple[str, ...] = tuple(dict.fromkeys(s.feed for s in SUBJECTS.values() if s.feed))
"""Every fetcher feed, in catalog order (dispatch, trading, scada, rooftop)."""

_PARTS = read_parts("files")


def _present_sql(spec: TableSpec) -> str:
    """Distinct interval endings of a table in (start, end]; identifiers from `TABLES` only."""
    time = spec.time
    return (
        f"SELECT DISTINCT {time} AS interval FROM {_PARTS} "  # sql-ok  # noqa: S608
        f"WHERE {time} > $start AND {time} <= $end"  # sql-ok: declared column, bound values
    )


def _duplicates_sql(spec: TableSpec) -> str:
    """Keys held by more than one row in (start, end]; identifiers from `TABLES` only."""
    time, key = spec.time, ", ".join(spec.key)
    return (
        "SELECT count(*) AS keys, coalesce(sum(n), 0) AS rows FROM ("  # noqa: S608
        f"SELECT count(*) AS n FROM {_PARTS} WHERE {time} > $start AND {time} <= $end "  # sql-ok
        f"GROUP BY {key} HAVING count(*) > 1)"  # sql-ok: declared key columns
    )


PRESENT_SQL = {name: _present_sql(spec) for name, spec in TABLES.items()}
DUPLICATES_SQL = {name: _duplicates_sql(spec) for name, spec in TABLES.items()}
"""Constant SQL per table, built once from the table declarations; every value is bound."""


def table_feed(table: str) -> str | None:
    """The fetcher feed whose data fills a table (a 30-minute table: that of what it averages;
    a computed one, such as emissions: that of what it is computed from)."""
    subject = SUBJECTS[TABLES[table].subject]
    if subject.feed is None and subject.mean is not None:
        subject = SUBJECTS[subject.mean.source]
    elif subject.feed is None and subject.derived_from is not None:
        subject = SUBJECTS[subject.derived_from]
    return subject.feed


def feed_tables(feed: str) -> list[str]:
    """The tables a feed's own subjects fill (not the 30-minute means made from them)."""
    return [name for name, spec in TABLES.items() if SUBJECTS[spec.subject].feed == feed]


def segments(table: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
    """(start, end, minutes) pieces of a range at the table's cadence: trading prices were
    half-hourly before 5-minute settlement (the interval ending 2021-10-01 00:05)."""
    minutes = TABLES[table].interval_minutes
    if table != "trading_prices":
        return [(start, end, minutes)] if start < end else []
    switch = FIVE_MINUTE_SETTLEMENT_START - timedelta(minutes=5)
    pieces = [(start, min(end, switch), 30), (max(start, switch), end, 5)]
    return [p for p in pieces if p[0] < p[1]]


def rows_and_latest(engine: Engine, table: str) -> tuple[int, datetime | None]:
    """A table's rows and newest interval, from its manifest (no data read)."""
    parts = Manifest.load(engine.store_dir / table).parts
    latest = datetime.fromisoformat(max(p.last for p in parts)) if parts else None
    return sum(p.rows for p in parts), latest


@dataclass(slots=True)
class TableGaps:
    """A table's gaps in a range: how many intervals it should hold and lacks, and where."""

    table: str
    minutes: int
    expected: int = 0
    missing: int = 0
    runs: list[tuple[datetime, datetime, int]] = field(default_factory=list)  # start, end, step

    def days(self, index: int) -> tuple[date, date]:
        """Trading days of a gap (the date each interval starts on): what a backfill covers."""
        start, end, step = self.runs[index]
        return start.date(), (end - timedelta(minutes=step)).date()


def present(engine: Engine, table: str, start: datetime, end: datetime) -> pl.Series:
    """Distinct interval endings a table holds in (start, end] (naive NEM time)."""
    frame = engine.frame(
        PRESENT_SQL[table],
        {"files": engine.files(table, start, end), "start": start, "end": end},
    )
    return frame.get_column("interval") if frame.height else pl.Series("interval", [])


def table_gaps(
    engine: Engine, table: str, start: datetime, end: datetime, latest: datetime | None
) -> TableGaps:
    """Missing intervals of a table in (start, end], counted up to its newest (`latest`)."""
    start, end = naive_nem(start), naive_nem(end)
    out = TableGaps(table, TABLES[table].interval_minutes)
    if latest is None:
        return out
    until = min(end, latest)
    pieces = segments(table, start, until)
    if not pieces:
        return out
    have = present(engine, table, start, until).cast(pl.Datetime("us"))
    for first, last, minutes in pieces:
        found = gaps(have, first, last, minutes)
        out.expected += found.expected
        out.missing += len(found.missing)
        out.runs += [(a, b, minutes) for a, b in runs(found.missing, minutes, limit=1 << 30)]
        out.minutes = minutes
    return out


def duplicate_keys(engine: Engine, table: str, start: datetime, end: datetime) -> int:
    """Keys of a table held by more than one row in (start, end] (must always be 0)."""
    start, end = naive_nem(start), naive_nem(end)
    frame = engine.frame(
        DUPLICATES_SQL[table],
        {"files": engine.files(table, start, end), "start": start, "end": end},
    )
    return int(frame.item(0, "keys")) if frame.height else 0
