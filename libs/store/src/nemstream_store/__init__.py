"""The parquet store: tables (`TABLES`), a single writer (`Store`) that keeps keys unique, drops
duplicates and applies corrections with atomic parts and manifests, compaction, the daily
rollup, and the read side (`TableReader`) that lists a table's current files."""

from nemstream_store._manifest import MANIFEST, Manifest, Part
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
    StoreLocked,
    TableReader,
    Unit,
    WriteResult,
    digest,
    trading_day,
    unit_from_message,
)
from nemstream_store._tables import (
    BY_SUBJECT,
    TABLES,
    TableSpec,
    message_frame,
    month_of,
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
    "MANIFEST",
    "SOURCES",
    "TABLES",
    "Manifest",
    "Part",
    "Store",
    "StoreLocked",
    "TableReader",
    "TableSpec",
    "Unit",
    "WriteResult",
    "digest",
    "message_frame",
    "month_of",
    "rebuild_daily",
    "stale_months",
    "trading_day",
    "unit_from_message",
    "unit_name",
]
