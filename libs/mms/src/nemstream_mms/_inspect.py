"""Summaries of what a report holds: the data behind `nemstream inspect`."""

from __future__ import annotations

from typing import Any

from nemstream_mms._container import Source, read_report
from nemstream_mms._errors import MmsWarning


def summarise(
    source: Source, *, name: str | None = None
) -> tuple[list[dict[str, Any]], list[MmsWarning]]:
    """One JSON-ready record per table (rows, columns, interval range) plus the warnings."""
    report = read_report(source, name=name)
    records: list[dict[str, Any]] = []
    for key in report.tables:
        frame = report.tables[key]
        first, last = report.interval_range(key)
        records.append(
            {
                "file": name or report.name,
                "table": key.name,
                "version": key.version,
                "rows": frame.height,
                "columns": frame.columns,
                "first": first.isoformat() if first else None,
                "last": last.isoformat() if last else None,
            }
        )
    return records, report.warnings
