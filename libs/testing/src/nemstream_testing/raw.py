"""An independent reader of real MMS reports for tests: the csv module alone, no nemstream code,
so that what nemstream's readers, stores and queries give can be checked against the files."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path


def _texts(path: Path) -> Iterator[str]:
    """The CSV text of a report: the file itself, or each member of a zip."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield archive.read(member).decode("utf-8")
    else:
        yield path.read_text("utf-8")


def mms_records(path: Path, wanted: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(``TABLE,SUBTYPE``, row by its I row's column names) of every D row of the `wanted`
    tables (``DISPATCH,PRICE``: table and sub-type together), in file order."""
    for text in _texts(path):
        headers: dict[str, list[str]] = {}
        for row in csv.reader(io.StringIO(text)):
            if len(row) < 4:
                continue
            table = f"{row[1]},{row[2]}"
            if table not in wanted:
                continue
            if row[0] == "I":
                headers[table] = row[4:]
            elif row[0] == "D":
                yield table, dict(zip(headers[table], row[4:], strict=True))


def mms_rows(path: Path, table: str) -> list[dict[str, str]]:
    """The D rows of one table (``P5MIN,REGIONSOLUTION``) of a report, by column name."""
    return [row for _, row in mms_records(path, {table})]


def aemo_time(text: str) -> datetime:
    """An MMS timestamp (``2019/05/16 00:35:00``) as naive NEM time."""
    return datetime.strptime(text.strip('"'), "%Y/%m/%d %H:%M:%S")
