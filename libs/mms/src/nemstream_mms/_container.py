"""Open what NEMWeb serves: plain CSV, a zip of one CSV, or an ARCHIVE zip of zips, any case."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from nemstream_mms._errors import CorruptContainerError, EmptyReportError, MmsError
from nemstream_mms._reader import read_csv_bytes, read_csv_file
from nemstream_mms._report import MmsReport, RowLines, TableKey, Tables

Source = bytes | bytearray | memoryview | str | os.PathLike[str]
"""A report to read: its bytes, or a path to it."""

MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
"""Largest member a zip may inflate to before it is refused (a zip bomb guard)."""

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _unreadable(display: str, exc: OSError) -> MmsError:
    return MmsError(display, f"cannot read file: {exc.strerror or exc}")


def _zipped(path: Path, display: str) -> bool:
    """Whether the file is a zip (by its first bytes, not its name)."""
    try:
        with path.open("rb") as file:
            return file.read(4) in _ZIP_MAGIC
    except OSError as exc:
        raise _unreadable(display, exc) from exc


def iter_members(
    source: Source, *, name: str | None = None, max_bytes: int = MAX_UNCOMPRESSED_BYTES
) -> Iterator[tuple[str, bytes]]:
    """Yield (display name, CSV bytes) for every report inside, unzipping nested zips."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield from _members(bytes(source), name or "<bytes>", max_bytes)
        return
    path = Path(source)
    display = name or path.name
    if _zipped(path, display):
        yield from _members(path, display, max_bytes)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(display, exc) from exc
    yield display, data


def _members(data: bytes | Path, display: str, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    """The members of a zip (its bytes, or its path: a zip on disk is not read into memory
    first), or the CSV bytes themselves."""
    if isinstance(data, bytes) and not data.startswith(_ZIP_MAGIC):
        yield display, data
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        OSError,
    ) as exc:
        raise CorruptContainerError(display, f"not a readable zip: {exc}") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if not infos:
            raise EmptyReportError(display, "zip holds no files")
        for info in sorted(infos, key=lambda i: i.filename):
            member = f"{display}!{info.filename}"
            if info.file_size > max_bytes:
                raise CorruptContainerError(
                    member,
                    f"member inflates to {info.file_size} bytes, over the {max_bytes}-byte cap",
                )
            try:
                content = archive.read(info)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                NotImplementedError,
                RuntimeError,
                ValueError,
            ) as exc:
                raise CorruptContainerError(member, f"cannot inflate member: {exc}") from exc
            if content.startswith(_ZIP_MAGIC):
                yield from _members(content, member, max_bytes)
            else:
                yield member, content


def iter_reports(
    source: Source, *, name: str | None = None, strict: bool = True
) -> Iterator[MmsReport]:
    """Yield one report per CSV inside (an ARCHIVE day zip yields its 288 5-minute reports).

    A path is not read into memory whole: a zip is read from disk, each member inflated once,
    and a plain CSV goes to `read_csv_file` (which reads a monthly archive in place)."""
    if not isinstance(source, bytes | bytearray | memoryview):
        path = Path(source)
        display = name or path.name
        if not _zipped(path, display):
            try:
                report = read_csv_file(path, display, strict=strict)
            except OSError as exc:
                raise _unreadable(display, exc) from exc
            yield report
            return
    for member, content in iter_members(source, name=name):
        yield read_csv_bytes(content, member, strict=strict)


def read_report(source: Source, *, name: str | None = None, strict: bool = True) -> MmsReport:
    """Read everything inside into one report: tables of the same key concatenated by name."""
    reports = iter_reports(source, name=name, strict=strict)
    first = next(reports, None)
    if first is None:  # pragma: no cover - iter_members always yields or raises
        raise EmptyReportError(name or "<source>", "nothing to read")
    rest = list(reports)
    if not rest:
        return first
    return merge_reports(name or first.name.split("!", 1)[0], [first, *rest])


def merge_reports(name: str, reports: list[MmsReport]) -> MmsReport:
    """Combine reports (members of one archive) into one, keeping every row's file and line."""
    tables = Tables()
    row_lines: dict[TableKey, RowLines] = {}
    warnings = []
    members: list[str] = []
    for report in reports:
        warnings.extend(report.warnings)
        members.extend(report.members)
        tables.extend(report.tables)
        for key in report.tables:
            lines = row_lines.setdefault(key, RowLines())
            lines.extend(report.row_lines.get(key) or RowLines())
    return MmsReport(
        name=name,
        header=reports[0].header,
        tables=tables,
        warnings=warnings,
        members=members,
        row_lines=row_lines,
    )
