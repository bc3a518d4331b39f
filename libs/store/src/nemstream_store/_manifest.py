"""Which parquet parts make up a table right now: a small JSON manifest, replaced atomically.

Readers list a table's files from its manifest, never by globbing: a part appears (written to
a temporary name, renamed, then listed) or is replaced (by a compaction or a correction) in one
atomic rename of the manifest, so a reader never sees half a write or rows twice. Parts that
leave the manifest are deleted after a grace period, so a reader still holding the previous
manifest can finish.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

MANIFEST = "_manifest.json"


@dataclass(slots=True)
class Part:
    """One parquet file of a table."""

    file: str  # relative to the table folder: month=YYYY-MM/part-....parquet
    month: str
    rows: int
    first: str  # ISO of the earliest interval in the part
    last: str  # ISO of the latest
    level: int = 0  # 0: as the writer wrote it; n: merged from parts of level n - 1

    @property
    def compacted(self) -> bool:
        """Whether the part came out of a compaction (or a rollup rebuild)."""
        return self.level > 0

    def overlaps(self, start: datetime | None, end: datetime | None) -> bool:
        """Whether the part may hold intervals in [start, end]. A rollup part's bounds are
        trading days: the day ``d`` holds intervals up to ``d + 1`` 00:00."""
        last = self.last
        if "T" not in last:  # a date
            last = (date.fromisoformat(last) + timedelta(days=1)).isoformat() + "T00:00:00"
        if start is not None and last < start.isoformat():
            return False
        return not (end is not None and self.first > end.isoformat())


@dataclass(slots=True)
class Manifest:
    """The parts of one table and a version number that changes with every replacement."""

    version: int = 0
    parts: list[Part] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """Read a table's manifest (an empty one if the table is new)."""
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls()
        parts = []
        for part in raw["parts"]:
            if "compacted" in part:  # manifests written before levels
                part["level"] = int(part.pop("compacted"))
            parts.append(Part(**part))
        return cls(raw["version"], parts)

    def save(self, folder: Path) -> None:
        """Write the manifest atomically (temporary file, fsync, rename)."""
        folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": self.version, "parts": [asdict(p) for p in self.parts]})
        handle, temporary = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, folder / MANIFEST)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def replaced(self, removed: set[str], added: list[Part]) -> Manifest:
        """A new manifest: `removed` files gone, `added` parts in, version bumped."""
        kept = [p for p in self.parts if p.file not in removed]
        return Manifest(self.version + 1, sorted([*kept, *added], key=lambda p: (p.month, p.file)))
