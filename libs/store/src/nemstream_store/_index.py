"""The writer's private index of stored units: which part holds each unit, and a digest of its
values, so a duplicate is recognised without reading parquet and a correction finds the part
it replaces. SQLite (WAL), one file beside the tables; rebuilt from the parts if it disagrees
with the manifests after a crash."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
create table if not exists units (
    tbl text not null,
    unit text not null,
    part text not null,
    digest text not null,
    primary key (tbl, unit)
) without rowid;
create index if not exists units_part on units (tbl, part);
"""


class UnitIndex:
    """(table, unit) -> (part, digest)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # used from worker threads one at a time (the writer serialises store calls)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.executescript(_SCHEMA)

    def lookup(self, table: str, units: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The stored part and digest of each unit that is stored."""
        rows = self.db.execute(
            "select unit, part, digest from units "
            "where tbl = ? and unit in (select value from json_each(?))",
            (table, json.dumps(list(units))),
        )
        return {unit: (part, digest) for unit, part, digest in rows}

    def apply(
        self,
        table: str,
        upserts: list[tuple[str, str, str]],
        moved: dict[str, str],
        removed_units: list[str] | None = None,
    ) -> None:
        """In one transaction: store (unit, part, digest) rows, move units between parts."""
        self.db.execute("begin")
        try:
            for old, new in moved.items():
                self.db.execute(
                    "update units set part = ? where tbl = ? and part = ?", (new, table, old)
                )
            if removed_units:
                self.db.executemany(
                    "delete from units where tbl = ? and unit = ?",
                    [(table, u) for u in removed_units],
                )
            self.db.executemany(
                "insert into units (tbl, unit, part, digest) values (?, ?, ?, ?) "
                "on conflict (tbl, unit) do update set part = excluded.part, "
                "digest = excluded.digest",
                [(table, unit, part, digest) for unit, part, digest in upserts],
            )
            self.db.execute("commit")
        except BaseException:
            self.db.execute("rollback")
            raise

    def parts(self, table: str) -> set[str]:
        """Parts the index knows for a table."""
        return {
            p for (p,) in self.db.execute("select distinct part from units where tbl = ?", (table,))
        }

    def drop_parts(self, table: str, parts: Iterable[str]) -> None:
        """Forget every unit of parts that are no longer in the manifest."""
        self.db.executemany(
            "delete from units where tbl = ? and part = ?", [(table, p) for p in parts]
        )

    def close(self) -> None:
        """Close the database."""
        self.db.close()
