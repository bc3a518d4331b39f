"""DuckDB over the store's current files, with parameterised SQL only.

A table is read through its manifest (`TableReader.files`), never by globbing the folder: a
glob would also see parts a compaction just replaced (kept a little while for readers still
using them), which would count rows twice. File lists and every value are bound parameters;
SQL text is constant. A table with no files in range is read from an empty parquet file of
its schema, so the same SQL works on an empty store.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from nemstream_store import (
    DAILY,
    DAILY_ROOFTOP,
    DAILY_ROOFTOP_SCHEMA,
    DAILY_SCHEMA,
    TABLES,
    Manifest,
    TableReader,
)

UNIT_COLUMNS = {
    "duid": pl.String(),
    "station_name": pl.String(),
    "region": pl.String(),
    "fuel": pl.String(),
    "dispatch_type": pl.String(),
    "capacity_mw": pl.Float64(),
}
"""Registry columns the queries join on (`units` in SQL)."""


class Engine:
    """One DuckDB database over one store; `cursor()` gives each thread its own handle."""

    def __init__(
        self,
        store_dir: Path,
        units: pl.DataFrame | None = None,
        *,
        threads: int = 0,
        memory_limit: str = "1GB",
    ) -> None:
        self.store_dir = store_dir
        self.reader = TableReader(store_dir)
        self._conn = duckdb.connect(":memory:")
        self._conn.execute("SET memory_limit = $limit", {"limit": memory_limit})
        if threads:
            self._conn.execute("SET threads = $threads", {"threads": threads})
        self._conn.execute("SET parquet_metadata_cache = true")
        self._empty_dir = tempfile.TemporaryDirectory(prefix="nemstream-query-")
        self._empty: dict[str, str] = {}
        schemas = {name: dict(spec.schema) for name, spec in TABLES.items()}
        schemas[DAILY] = dict(DAILY_SCHEMA)
        schemas[DAILY_ROOFTOP] = dict(DAILY_ROOFTOP_SCHEMA)
        for name, schema in schemas.items():
            path = Path(self._empty_dir.name) / f"{name}.parquet"
            pl.DataFrame(schema=schema).write_parquet(path)
            self._empty[name] = str(path)
        self._lock = threading.Lock()
        self.set_units(units)

    def set_units(self, units: pl.DataFrame | None) -> None:
        """Replace the registry the queries join on (DUID → station, region, fuel)."""
        frame = pl.DataFrame(schema=UNIT_COLUMNS) if units is None else units
        frame = frame.select(
            [
                pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                for c, t in UNIT_COLUMNS.items()
            ]
        ).unique("duid", keep="first")
        with self._lock:
            self._conn.register("units_frame", frame.to_arrow())
            self._conn.execute("CREATE OR REPLACE TABLE units AS SELECT * FROM units_frame")
            self._conn.unregister("units_frame")
        self.units_version = frame.height, hash(tuple(frame["duid"].to_list()))

    def files(
        self, table: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        """The table's current parts that may hold (start, end] (an empty stand-in if none)."""
        return self.reader.files(table, start, end) or [self._empty[table]]

    def empty(self, table: str) -> list[str]:
        """The empty stand-in of a table (read nothing, same SQL)."""
        return [self._empty[table]]

    def latest(self, table: str) -> datetime | None:
        """The newest interval the table holds (from its manifest, no data read)."""
        parts = Manifest.load(self.store_dir / table).parts
        return datetime.fromisoformat(max(p.last for p in parts)) if parts else None

    def version(self, *tables: str) -> tuple[int, ...]:
        """Changes whenever one of the tables changes (cache keys)."""
        return tuple(self.reader.version(t) for t in tables)

    def frame(self, sql: str, params: dict[str, Any]) -> pl.DataFrame:
        """Run constant SQL with bound parameters on this thread's cursor."""
        with self._lock:
            cursor = self._conn.cursor()
        try:
            result: pl.DataFrame = cursor.sql(sql, params=params).pl()
            return result
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the database and remove the stand-in files."""
        self._conn.close()
        self._empty_dir.cleanup()
