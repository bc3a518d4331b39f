"""What the mirror serves: every file of a flat folder placed at its NEMWeb path.

A file is placed by its name (see `nemstream_nemweb.nemweb_folder`). NEMWeb serves reports as
zips, so a plain-CSV report is zipped in memory and served under its ``.zip`` name; a plain CSV
whose name says nothing (``sample_dispatchis.csv``) is named from its own content: the report
type and id of its header row and the interval its rows carry. Other files (registration
lists, ``stations.json``) are served flat under ``/files/``. Anything else is skipped, and said.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nemstream_mms import MmsError, read_report
from nemstream_nemweb import (
    ALL_FOLDERS,
    Area,
    FileNameError,
    NemwebFile,
    Period,
    nemweb_folder,
    parse_filename,
    report_name,
)
from nemstream_runtime import get_logger

log = get_logger(__name__)

NEM_TIME = timedelta(hours=10)
"""NEM time is UTC+10 all year."""

EXTRA_FOLDER = "/files/"
"""Where files that are not NEMWeb reports (registration lists, stations.json) are served."""

_EXTRA_SUFFIXES = {".xls", ".xlsx", ".json"}
_INTERVAL_COLUMNS = ("SETTLEMENTDATE", "INTERVAL_DATETIME")


@dataclass(slots=True)
class MirrorFile:
    """One served file: where it lives, its bytes, and when it appeared."""

    name: str
    folder: str  # URL path of the folder, e.g. /Reports/CURRENT/DispatchIS_Reports/
    content: bytes
    source: Path
    modified: datetime  # UTC, naive
    parsed: NemwebFile | None = None
    released: bool = True

    @property
    def path(self) -> str:
        """URL path of the file."""
        return f"{self.folder}{self.name}"

    @property
    def releasable(self) -> bool:
        """Interval reports appear one by one in release mode; history is there from the start."""
        return (
            self.parsed is not None
            and self.parsed.period is Period.INTERVAL
            and "/CURRENT/" in self.folder
        )


@dataclass(slots=True)
class Catalog:
    """Every file the mirror knows, by lower-case URL path (IIS paths ignore case)."""

    files: dict[str, MirrorFile] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, item: MirrorFile) -> None:
        """Place a file; a second file at the same path is skipped and said."""
        key = item.path.lower()
        if key in self.files:
            log.warning("mirror_duplicate_path", path=item.path, kept=str(self.files[key].source))
            self.skipped.append(item.source.name)
            return
        self.files[key] = item

    def folders(self) -> set[str]:
        """Every folder path (lower case): the feeds' folders, as on NEMWeb even when empty,
        and every folder holding a file, with all their ancestors."""
        return set(self.folder_names())

    def folder_names(self) -> dict[str, str]:
        """Folder paths in their original case, keyed by lower case."""
        names = {"/": "/"}
        leaves = [feed.path(area) for feed in ALL_FOLDERS for area in Area]
        leaves += [item.folder for item in self.files.values()]
        for leaf in leaves:
            parts = leaf.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                path = "/" + "/".join(parts[:depth]) + "/"
                names.setdefault(path.lower(), path)
        return names


def _zip(inner_name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(inner_name, content)
    return buffer.getvalue()


def _name_from_content(path: Path, content: bytes) -> NemwebFile | None:
    """Name an unnamed plain-CSV report as NEMWeb did, from its header and its intervals."""
    try:
        report = read_report(content, name=path.name, strict=False)
    except MmsError:
        return None
    header = report.header
    if header is None or not header.report_id.isdigit():
        return None
    stamps = []
    for key in report.tables:
        frame = report.tables[key]
        for column in _INTERVAL_COLUMNS:
            if column in frame.columns:
                value = frame.get_column(column).max()
                if isinstance(value, datetime):
                    stamps.append(value)
    if not stamps:
        return None
    try:
        return parse_filename(report_name(header.report_type, max(stamps), header.report_id))
    except FileNameError:
        return None


def _place(path: Path) -> MirrorFile | None:
    content = path.read_bytes()
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    if path.suffix.lower() in _EXTRA_SUFFIXES:
        return MirrorFile(path.name, EXTRA_FOLDER, content, path, modified)
    try:
        parsed: NemwebFile | None = parse_filename(path.name)
    except FileNameError:
        parsed = None
        if path.suffix.lower() == ".csv":
            parsed = _name_from_content(path, content)
            if parsed is not None:
                log.info("mirror_named_from_content", file=path.name, served_as=parsed.name)
    if parsed is None:
        return None
    folder = nemweb_folder(parsed)
    if folder is None:
        return None
    if parsed.is_mmsdm or content.startswith(b"PK"):
        name = parsed.name if parsed.is_mmsdm else parsed.zip_name
        return MirrorFile(name, folder, content, path, modified, parsed)
    inner = parsed.name.rsplit(".", 1)[0] + ".CSV"
    return MirrorFile(parsed.zip_name, folder, _zip(inner, content), path, modified, parsed)


def build_catalog(directory: Path) -> Catalog:
    """Place every file of a flat folder at its NEMWeb path."""
    catalog = Catalog()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        item = _place(path)
        if item is None:
            log.warning("mirror_skipped_file", file=path.name, reason="not a NEMWeb file name")
            catalog.skipped.append(path.name)
        else:
            catalog.add(item)
    return catalog
