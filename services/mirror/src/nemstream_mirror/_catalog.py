"""What the mirror serves: every file of a flat folder placed at its NEMWeb path.

A file is placed by its name (see `nemstream_nemweb.nemweb_folder`). NEMWeb serves reports as
zips, so a plain-CSV report (a ``.csv``/``.CSV`` name) is zipped in memory and served under its
``.zip`` name (except the CO2EII generator lists: NEMWeb's CDEII folder serves them as plain
``.CSV``, and so does the mirror); a plain CSV whose name says nothing (``sample_dispatchis.csv``)
is named from its own content: the report type and id of its header row and the interval its
rows carry. A file whose name ends in ``.zip`` is served byte for byte as it is on disk,
whatever its bytes: an empty, truncated or corrupt zip is served as such, so that a bad download
from NEMWeb can be simulated (nothing is sniffed from the content); MMSDM monthly files are
served as they are, under their own names. Other files (registration lists, ``stations.json``)
are served flat under ``/files/``. Anything else is skipped, and said.

The folder is not only read at start: `Catalog.rescan` picks up files added to it since the
last look and drops those deleted (a file rewritten in place is placed again). It is cheap: one
directory scan comparing each entry's modification and change times and size with the last;
only new or changed files are read (and zipped), the rest are kept as they are.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

EXTRA_FOLDER = "/files/"
"""Where files that are not NEMWeb reports (registration lists, stations.json) are served."""

_EXTRA_SUFFIXES = {".xls", ".xlsx", ".json"}
_PLAIN_PREFIX = "CO2EII_"
"""Reports NEMWeb serves as plain CSV, not zipped (the CDEII folder's generator lists)."""
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


_Signature = tuple[int, int, int]
"""What tells a folder entry changed without reading it: its mtime and ctime (ns), its size."""


@dataclass(slots=True)
class Change:
    """What one rescan of the folder changed: files placed anew, and files no longer served."""

    added: list[MirrorFile] = field(default_factory=list)
    removed: list[MirrorFile] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(slots=True)
class Catalog:
    """Every file the mirror knows, by lower-case URL path (IIS paths ignore case)."""

    files: dict[str, MirrorFile] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    directory: Path | None = None
    _seen: dict[str, _Signature] = field(default_factory=dict, repr=False)
    _placed: dict[str, MirrorFile | None] = field(default_factory=dict, repr=False)

    def add(self, item: MirrorFile) -> None:
        """Place a file; a second file at the same path is skipped and said."""
        key = item.path.lower()
        if key in self.files:
            log.warning("mirror_duplicate_path", path=item.path, kept=str(self.files[key].source))
            self.skipped.append(item.source.name)
            return
        self.files[key] = item

    def rescan(self) -> Change:
        """Catch up with the folder (files added, deleted or rewritten since the last scan), so
        files dropped in while the mirror runs are served; unchanged files are not read again."""
        if self.directory is None:
            return Change()
        found = _entries(self.directory)
        if found == self._seen:
            return Change()
        fresh: set[str] = set()
        for name in [n for n, sig in self._seen.items() if found.get(n) != sig]:
            del self._seen[name]
            self._placed.pop(name, None)
        for name, sig in sorted(found.items()):
            if name in self._seen:
                continue
            self._seen[name] = sig
            try:
                self._placed[name] = _place(self.directory / name)
            except OSError as exc:  # gone since the scan, or unreadable until it changes
                log.warning("mirror_unreadable_file", file=name, error=str(exc))
                self._placed[name] = None
            else:
                fresh.add(name)
        before = self.files
        self._index(fresh)
        return Change(
            added=[item for key, item in self.files.items() if before.get(key) is not item],
            removed=[item for key, item in before.items() if self.files.get(key) is not item],
        )

    def _index(self, fresh: set[str]) -> None:
        """Rebuild the served files from the placed ones: a file already served keeps its path
        against a newcomer, else the first by name wins. Say why a file is skipped only when it
        is new, not on every rescan."""
        self.files, self.skipped = {}, []
        for name in sorted(self._placed, key=lambda n: (n in fresh, n)):
            item = self._placed[name]
            if item is None:
                if name in fresh:
                    log.warning("mirror_skipped_file", file=name, reason="not a NEMWeb file name")
                self.skipped.append(name)
            elif name in fresh or item.path.lower() not in self.files:
                self.add(item)
            else:
                self.skipped.append(name)  # a known duplicate, said when it was new
        self.skipped.sort()

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


def _entries(directory: Path) -> dict[str, _Signature]:
    """The folder's regular files (symlinks followed) and their signatures, from one scan."""
    found: dict[str, _Signature] = {}
    with os.scandir(directory) as scan:
        for entry in scan:
            try:
                if entry.is_file():
                    stat = entry.stat()
                    found[entry.name] = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
            except OSError:  # deleted between listing and stat (or a broken link)
                continue
    return found


def _place(path: Path) -> MirrorFile | None:
    """Where (and as what bytes) one file of the folder is served; None if it is not ours."""
    content = path.read_bytes()
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    suffix = path.suffix.lower()
    if suffix in _EXTRA_SUFFIXES:
        return MirrorFile(path.name, EXTRA_FOLDER, content, path, modified)
    try:
        parsed: NemwebFile | None = parse_filename(path.name)
    except FileNameError:
        parsed = None
        if suffix == ".csv":
            parsed = _name_from_content(path, content)
            if parsed is not None:
                log.info("mirror_named_from_content", file=path.name, served_as=parsed.name)
    if parsed is None:
        return None
    folder = nemweb_folder(parsed)
    if folder is None:
        return None
    if suffix == ".zip" and not content.startswith(b"PK"):
        log.info("mirror_serving_bad_zip", file=path.name, size=len(content))
    if suffix == ".csv" and parsed.kind.startswith(_PLAIN_PREFIX):  # plain on NEMWeb too
        return MirrorFile(parsed.name, folder, content, path, modified, parsed)
    if parsed.is_mmsdm or suffix == ".zip":  # byte for byte, whatever the bytes
        name = parsed.name if parsed.is_mmsdm else parsed.zip_name
        return MirrorFile(name, folder, content, path, modified, parsed)
    inner = parsed.name.rsplit(".", 1)[0] + ".CSV"
    return MirrorFile(parsed.zip_name, folder, _zip(inner, content), path, modified, parsed)


def build_catalog(directory: Path) -> Catalog:
    """Place every file of a flat folder at its NEMWeb path (`Catalog.rescan` catches up later)."""
    catalog = Catalog(directory=directory)
    catalog.rescan()
    return catalog
