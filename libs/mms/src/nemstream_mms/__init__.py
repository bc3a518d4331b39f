"""Read AEMO's MMS CSV reports (NEMWeb, MMSDM) into typed polars frames, one per table.

>>> from nemstream_mms import read_report, views
>>> report = read_report("PUBLIC_DISPATCHIS_202001131410_0000000317693747.csv")
>>> prices = views.dispatch_price(report)
"""

from nemstream_mms import views
from nemstream_mms._catalog import KNOWN_TABLES, TIMESTAMP_FORMAT, Kind, column_kind
from nemstream_mms._container import (
    MAX_UNCOMPRESSED_BYTES,
    Source,
    iter_members,
    iter_reports,
    merge_reports,
    read_report,
)
from nemstream_mms._errors import (
    CorruptContainerError,
    EmptyReportError,
    MalformedRowError,
    MissingColumnError,
    MmsError,
    MmsWarning,
    TableNotFoundError,
    TruncatedReportError,
    ValueTypeError,
    WarningCode,
)
from nemstream_mms._inspect import summarise
from nemstream_mms._reader import read_csv_bytes
from nemstream_mms._report import MmsReport, ReportHeader, RowLines, TableKey, Tables

__all__ = [
    "KNOWN_TABLES",
    "MAX_UNCOMPRESSED_BYTES",
    "TIMESTAMP_FORMAT",
    "CorruptContainerError",
    "EmptyReportError",
    "Kind",
    "MalformedRowError",
    "MissingColumnError",
    "MmsError",
    "MmsReport",
    "MmsWarning",
    "ReportHeader",
    "RowLines",
    "Source",
    "TableKey",
    "TableNotFoundError",
    "Tables",
    "TruncatedReportError",
    "ValueTypeError",
    "WarningCode",
    "column_kind",
    "iter_members",
    "iter_reports",
    "merge_reports",
    "read_csv_bytes",
    "read_report",
    "summarise",
    "views",
]
