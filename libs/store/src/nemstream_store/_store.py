"""The parquet store: one writer, any number of readers.

``<data dir>/store/<table>/month=YYYY-MM/part-*.parquet`` plus ``<table>/_manifest.json``. A
write turns a batch of units (one message each) into at most one new part per month, after
dropping duplicates (same unit, same values) and rewriting the parts that held units being
corrected; the manifest swap makes it visible at once. Compaction merges a month's small parts
the same way. Every step is a temporary file then a rename, so a crash leaves only stray
temporary files (removed at start) and unacknowledged messages (redelivered).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
from prometheus_client import Counter

from nemstream_contracts import Message
from nemstream_market import naive_nem
from nemstream_runtime import crash_point, get_logger
from nemstream_store._faults import unwritable_as_such
from nemstream_store._index import UnitIndex
from nemstream_store._lock import LOCK_FILE, take_lock
from nemstream_store._manifest import Manifest, Part
from nemstream_store._tables import (
    BY_SUBJECT,
    TABLES,
    TableSpec,
    message_frame,
    month_of,
    read_rows,
    unit_name,
)

log = get_logger(__name__)

UNITS = Counter("nemstream_store_units", "Units offered to the store", ["table", "outcome"])
REPEATED = Counter(
    "nemstream_store_rows_repeated", "Exact repeats of a row within one message, dropped", ["table"]
)
PARTS = Counter("nemstream_store_parts_written", "Parquet parts written", ["table", "reason"])

GRACE_S = 120.0
"""How long a replaced part stays on disk for readers that listed it just before."""


CLOSED_LEVEL = 9
"""Level of the single part a month becomes once it is over."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One message's rows for one table, ready to store (`repeated`: exact repeats of a row
    the message carried, dropped)."""

    table: TableSpec
    name: str
    interval: datetime
    frame: pl.DataFrame
    digest: str
    repeated: int = 0

    @property
    def month(self) -> str:
        """Partition the unit belongs to."""
        return month_of(self.interval)


def trading_day(interval: datetime) -> date:
    """The trading day an interval (ending) belongs to: the date it starts on."""
    return (interval - timedelta(microseconds=1)).date()


def digest(frame: pl.DataFrame) -> str:
    """Fingerprint of a unit's values (not where they came from): equal means duplicate."""
    values = frame.drop("source_file") if "source_file" in frame.columns else frame
    return hashlib.blake2b(values.write_csv().encode(), digest_size=16).hexdigest()


def unit_from_message(subject: str, message: Message) -> Unit:
    """The unit a message fills in its subject's table."""
    table = BY_SUBJECT[subject]
    frame = message_frame(table, message)
    return Unit(
        table,
        unit_name(table, message),
        naive_nem(message.interval),
        frame,
        digest(frame),
        message.unique_rows()[1],
    )


def _unit_names(table: TableSpec) -> pl.Expr:
    """`unit_name` over a frame of the table's rows."""
    stamp = pl.col(table.time).dt.strftime("%Y-%m-%dT%H:%M:%S")
    parts = [stamp, *(pl.col(column).cast(pl.String) for column in table.unit[1:])]
    return pl.concat_str(parts, separator="|") if len(parts) > 1 else stamp


@dataclass(slots=True)
class WriteResult:
    """What one `Store.write` did."""

    stored: int = 0
    duplicates: int = 0
    repeated_rows: int = 0
    corrected: int = 0
    parts: int = 0
    months: set[tuple[str, str]] = field(default_factory=set)  # (table, month) changed
    days: set[tuple[str, date]] = field(default_factory=set)  # (table, trading day) changed


class Store:
    """The writer's handle on the store (readers use `TableReader`)."""

    def __init__(self, root: Path, *, lock: bool = True) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock_file = None
        if lock:
            self._lock_file = take_lock(root / LOCK_FILE)
        self.index = UnitIndex(root / "_index.sqlite")
        self.manifests: dict[str, Manifest] = {}
        self._trash: list[tuple[Path, float]] = []
        self._interrupted = False  # a write failed part-way: recover before the next

    def folder(self, table: str) -> Path:
        """A table's folder."""
        return self.root / table

    def manifest(self, table: str) -> Manifest:
        """A table's current manifest (cached; this process is the only writer)."""
        if table not in self.manifests:
            self.manifests[table] = Manifest.load(self.folder(table))
        return self.manifests[table]

    # --- start-up ---------------------------------------------------------------------------

    def recover(self, tables: list[str] | None = None) -> dict[str, int]:
        """Clean up after a crash: drop temporary files and parts no manifest lists, and make
        the index agree with the manifests. Returns the number of units re-indexed."""
        reindexed = {}
        for name in tables or [*TABLES, "daily_unit", "daily_rooftop"]:
            folder = self.folder(name)
            if not folder.is_dir():
                if folder.exists():  # writes to it will fail, and say so, until it is fixed
                    log.error("store_table_not_a_folder", table=name, path=str(folder))
                continue
            manifest = self.manifest(name)
            listed = {p.file for p in manifest.parts}
            for path in folder.rglob("*"):
                relative = str(path.relative_to(folder))
                if path.is_file() and (
                    path.name.endswith(".tmp")
                    or (path.suffix == ".parquet" and relative not in listed)
                ):
                    if path.name.endswith(".tmp") or time.time() - path.stat().st_mtime > GRACE_S:
                        path.unlink(missing_ok=True)
                    else:
                        self._trash.append((path, time.time() + GRACE_S))
            if name not in TABLES:
                continue
            known = self.index.parts(name)
            self.index.drop_parts(name, known - listed)
            missing = [p for p in manifest.parts if p.file not in known]
            count = 0
            for part in missing:
                frame = read_rows([folder / part.file], TABLES[name].schema)
                count += self._index_frame(TABLES[name], part.file, frame)
            reindexed[name] = count
            if count:
                log.warning("store_reindexed", table=name, units=count, parts=len(missing))
        return reindexed

    def _index_frame(self, table: TableSpec, file: str, frame: pl.DataFrame) -> int:
        named = frame.with_columns(_unit_names(table).alias("_unit"))
        upserts = [
            (str(unit), file, digest(group.drop("_unit")))
            for (unit,), group in named.group_by("_unit", maintain_order=True)
        ]
        self.index.apply(table.name, upserts, {})
        return len(upserts)

    # --- writing ----------------------------------------------------------------------------

    def _write_part(
        self, table: str, month: str, frame: pl.DataFrame, *, level: int, time_column: str
    ) -> Part:
        folder = self.folder(table) / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:8]}.parquet"
        temporary = folder / f".{name}.tmp"
        try:
            frame.write_parquet(
                temporary, compression="zstd", statistics=True, row_group_size=256_000
            )
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)  # a failed write leaves nothing behind
            raise
        times = frame.get_column(time_column)
        first, last = times.min(), times.max()
        assert isinstance(first, date) and isinstance(last, date)  # datetimes, or dates (rollup)
        return Part(
            f"month={month}/{name}",
            month,
            frame.height,
            first.isoformat(),
            last.isoformat(),
            level,
        )

    def _swap(self, table: str, removed: set[str], added: list[Part]) -> None:
        manifest = self.manifest(table).replaced(removed, added)
        manifest.save(self.folder(table))
        self.manifests[table] = manifest
        due = time.time() + GRACE_S
        self._trash.extend((self.folder(table) / f, due) for f in removed)

    def write(self, units: list[Unit]) -> WriteResult:
        """Store units: new ones appended, duplicates dropped, corrections replacing. Returns
        only after the parts and manifests are on disk (safe to acknowledge the messages);
        `StoreUnwritable` when the disk refuses (full, read-only, no permission)."""
        with unwritable_as_such("write"):
            if self._interrupted:
                # a failed write may have swapped a manifest without indexing its parts: make
                # the index agree with the manifests first, or a retry would store units twice
                self.recover()
                self._interrupted = False
            try:
                return self._write(units)
            except BaseException:
                self._interrupted = True
                raise

    def _write(self, units: list[Unit]) -> WriteResult:
        result = WriteResult()
        by_table: dict[str, dict[str, Unit]] = defaultdict(dict)
        for unit in units:
            by_table[unit.table.name][unit.name] = unit  # the last of two copies wins
            if unit.repeated:
                result.repeated_rows += unit.repeated
                REPEATED.labels(unit.table.name).inc(unit.repeated)
                log.warning(
                    "rows_repeated",
                    table=unit.table.name,
                    interval=unit.interval.isoformat(),
                    dropped=unit.repeated,
                )
        for name, named in by_table.items():
            table = TABLES[name]
            existing = self.index.lookup(name, named)
            by_month: dict[str, list[Unit]] = defaultdict(list)
            for unit in named.values():
                stored = existing.get(unit.name)
                if stored is not None and stored[1] == unit.digest:
                    result.duplicates += 1
                    UNITS.labels(name, "duplicate").inc()
                    continue
                by_month[unit.month].append(unit)
            for month, fresh in sorted(by_month.items()):
                self._write_month(table, month, fresh, existing, result)
        return result

    def _write_month(
        self,
        table: TableSpec,
        month: str,
        fresh: list[Unit],
        existing: dict[str, tuple[str, str]],
        result: WriteResult,
    ) -> None:
        frame = pl.concat([u.frame for u in fresh]).sort(list(table.key))
        corrections: dict[str, set[str]] = defaultdict(set)
        for unit in fresh:
            if unit.name in existing:
                corrections[existing[unit.name][0]].add(unit.name)
        listed = {p.file: p for p in self.manifest(table.name).parts}
        rewritten: dict[str, Part | None] = {}
        written: list[Part] = []
        try:
            new_part = self._write_part(table.name, month, frame, level=0, time_column=table.time)
            written.append(new_part)
            for old_file, names in corrections.items():
                old = listed.get(old_file)
                if old is None:
                    continue  # already gone (a previous correction in this process)
                kept = (
                    read_rows([self.folder(table.name) / old_file], table.schema)
                    .with_columns(_unit_names(table).alias("_unit"))
                    .filter(~pl.col("_unit").is_in(list(names)))
                    .drop("_unit")
                )
                rewritten[old_file] = (
                    self._write_part(
                        table.name, old.month, kept, level=old.level, time_column=table.time
                    )
                    if kept.height
                    else None
                )
                if (part := rewritten[old_file]) is not None:
                    written.append(part)
                PARTS.labels(table.name, "correction").inc()
            added = [new_part, *(p for p in rewritten.values() if p is not None)]
            crash_point("part_written")
            self._swap(table.name, set(rewritten), added)
        except BaseException:
            for part in written:  # not listed by any manifest: nothing may keep them
                (self.folder(table.name) / part.file).unlink(missing_ok=True)
            raise
        crash_point("manifest_swapped")
        self.index.apply(
            table.name,
            [(u.name, new_part.file, u.digest) for u in fresh],
            {old: new.file for old, new in rewritten.items() if new is not None},
        )
        PARTS.labels(table.name, "write").inc()
        corrected = sum(len(n) for n in corrections.values())
        UNITS.labels(table.name, "corrected").inc(corrected)
        UNITS.labels(table.name, "stored").inc(len(fresh) - corrected)
        result.stored += len(fresh) - corrected
        result.corrected += corrected
        result.parts += 1
        result.months.add((table.name, month))
        result.days |= {(table.name, trading_day(u.interval)) for u in fresh}

    def add_part(self, table: str, frame: pl.DataFrame, *, level: int = CLOSED_LEVEL) -> Part:
        """Add one month's rows as one part (bulk history loads that build a store from scratch,
        and the scale benchmark). Keys are not checked, so only for units the store does not
        hold. The units are indexed without a digest: a later message for one of them is stored
        as a correction (replacing the rows), never as a second copy."""
        spec = TABLES.get(table)
        time_column = spec.time if spec else "date"
        stamp = pl.col(time_column)
        start = stamp.dt.offset_by("-1m") if spec else stamp  # rollup dates are days already
        months = frame.select(start.dt.strftime("%Y-%m"))
        (month,) = months.to_series().unique().to_list()
        part = self._write_part(table, month, frame, level=level, time_column=time_column)
        self._swap(table, set(), [part])
        if spec is not None:
            units = frame.select(_unit_names(spec).unique()).to_series().to_list()
            self.index.apply(table, [(str(u), part.file, "") for u in units], {})
        return part

    # --- compaction and housekeeping ------------------------------------------------------------

    def compact(self, table: str, *, min_parts: int = 12, current_month: str | None = None) -> int:
        """Merge parts in levels: `min_parts` parts of one level become one part of the next, so
        a write is merged O(log n) times and a merge reads a bounded share of the month; a month
        that is over (before `current_month`) becomes one part. Readers switch over by one
        manifest swap. Returns the merges made."""
        spec = TABLES.get(table)
        time_column = spec.time if spec else "date"
        key = list(spec.key) if spec else ["date", "duid"]
        by_month: dict[str, list[Part]] = defaultdict(list)
        for part in self.manifest(table).parts:
            by_month[part.month].append(part)
        merged = 0
        for month, parts in sorted(by_month.items()):
            if current_month is not None and month < current_month:
                groups = [(parts, CLOSED_LEVEL)] if len(parts) > 1 else []
            else:
                by_level: dict[int, list[Part]] = defaultdict(list)
                for part in parts:
                    by_level[part.level].append(part)
                groups = [
                    (group[i : i + min_parts], level + 1)
                    for level, group in sorted(by_level.items())
                    if level < CLOSED_LEVEL
                    for i in range(0, len(group) - min_parts + 1, min_parts)
                ]
            for group, level in groups:
                paths = [self.folder(table) / p.file for p in group]
                frame = (
                    read_rows(paths, spec.schema)
                    if spec is not None
                    else pl.concat([pl.read_parquet(p) for p in paths], how="vertical_relaxed")
                ).sort(key)
                part = self._write_part(table, month, frame, level=level, time_column=time_column)
                self._swap(table, {p.file for p in group}, [part])
                if spec is not None:
                    self.index.apply(table, [], {p.file: part.file for p in group})
                PARTS.labels(table, "compaction").inc()
                log.info(
                    "store_compacted",
                    table=table,
                    month=month,
                    parts=len(group),
                    level=level,
                    rows=frame.height,
                )
                merged += 1
        return merged

    def collect_garbage(self, *, now: float | None = None) -> int:
        """Delete replaced parts whose grace period is over."""
        now = time.time() if now is None else now
        due = [(p, t) for p, t in self._trash if t <= now]
        self._trash = [(p, t) for p, t in self._trash if t > now]
        for path, _ in due:
            path.unlink(missing_ok=True)
        return len(due)

    def close(self) -> None:
        """Release the index and the writer lock."""
        self.index.close()
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
