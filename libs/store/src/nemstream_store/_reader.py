"""The read side of the store: a table's current files, as its manifest lists them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from nemstream_store._manifest import MANIFEST, Manifest


class TableReader:
    """Read side: the files of a table as its manifest lists them right now."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(
        self, table: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        """Absolute paths of the parts that may hold intervals in [start, end]."""
        folder = self.root / table
        manifest = Manifest.load(folder)
        return [str(folder / p.file) for p in manifest.parts if p.overlaps(start, end)]

    def version(self, table: str) -> int:
        """Changes whenever the table changes (for caches)."""
        try:
            return int((self.root / table / MANIFEST).stat().st_mtime_ns)
        except FileNotFoundError:
            return 0
