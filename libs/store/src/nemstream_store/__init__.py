"""The parquet store: tables (`TABLES`), a single writer (`Store`) that keeps keys unique, drops
duplicates and applies corrections with atomic parts and manifests, compaction, the daily
rollup, and the read side (`TableReader`) that lists a table's current files."""

from nemstream_store._faults import StoreUnwritable, storage_cause, unwritable_as_such
from nemstream_store._lock import LOCK_FILE, StoreLocked, lock_holder
from nemstream_store._manifest import MANIFEST, Manifest, Part
from nemstream_store._reader import TableReader
from nemstream_store._rollup import (
    DAILY,
    DAILY_ROOFTOP,
    DAILY_ROOFTOP_SCHEMA,
    DAILY_SCHEMA,
    SOURCES,
    rebuild_daily,
    stale_months,
)
from nemstream_store._store import (
    CLOSED_LEVEL,
    GRACE_S,
    Store,
    Unit,
    WriteResult,
    digest,
    trading_day,
    unit_from_message,
)
from nemstream_store._tables import (
    BY_SUBJECT,
    TABLES,
    SchemaMismatch,
    TableSpec,
    derive_schema,
    message_frame,
    month_of,
    polars_type,
    read_rows,
    scan_rows,
    unit_name,
)

__all__ = [
    "BY_SUBJECT",
    "CLOSED_LEVEL",
    "DAILY",
    "DAILY_ROOFTOP",
    "DAILY_ROOFTOP_SCHEMA",
    "DAILY_SCHEMA",
    "GRACE_S",
    "LOCK_FILE",
    "MANIFEST",
    "SOURCES",
    "TABLES",
    "Manifest",
    "Part",
    "SchemaMismatch",
    "Store",
    "StoreLocked",
    "StoreUnwritable",
    "TableReader",
    "TableSpec",
    "Unit",
    "WriteResult",
    "derive_schema",
    "digest",
    "lock_holder",
    "message_frame",
    "month_of",
    "polars_type",
    "read_rows",
    "rebuild_daily",
    "scan_rows",
    "stale_months",
    "storage_cause",
    "trading_day",
    "unit_from_message",
    "unit_name",
    "unwritable_as_such",
]
