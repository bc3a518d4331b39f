"""Typed errors and warnings: every problem names the file and, where it has one, the line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MmsError(Exception):
    """Base of every error the reader raises, so callers can quarantine a file with one except."""

    def __init__(self, file: str, message: str, *, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class CorruptContainerError(MmsError):
    """A zip that cannot be opened or read: truncated, corrupt, bad CRC, or over the size cap."""


class EmptyReportError(MmsError):
    """A file (or zip) that holds no MMS rows at all."""


class TruncatedReportError(MmsError):
    """A report cut short: a row cut mid-way, an unterminated quote, or no END OF REPORT footer."""


class MalformedRowError(MmsError):
    """A row that breaks the C/I/D structure: wrong field count, D row without its I row, junk."""


class ValueTypeError(MmsError):
    """A value that does not parse as its column's type (text in a numeric column, a bad date)."""

    def __init__(
        self, file: str, message: str, *, line: int | None, column: str, value: str
    ) -> None:
        self.column = column
        self.value = value
        super().__init__(file, message, line=line)


class TableNotFoundError(MmsError):
    """A typed view was asked of a report that does not carry any of the view's source tables."""


class MissingColumnError(MmsError):
    """A table lacks a column that a typed view cannot do without (matched by name)."""


class WarningCode(StrEnum):
    """Kinds of recoverable problems: the data is still returned, the warning says what to check."""

    FOOTER_MISMATCH = "footer_mismatch"
    MISSING_FOOTER = "missing_footer"
    UNKNOWN_TABLE = "unknown_table"
    UNKNOWN_VERSION = "unknown_version"
    ENCODING_FALLBACK = "encoding_fallback"
    TRAILING_CONTENT = "trailing_content"
    BLANK_LINES = "blank_lines"
    NOT_MMS = "not_mms"


@dataclass(frozen=True, slots=True)
class MmsWarning:
    """A recoverable problem found while reading; logged and counted by callers, never dropped."""

    code: WarningCode
    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"
