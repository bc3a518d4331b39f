"""Half-hour windows: which 5-minute values fall in which half-hour, and their means.

A 30-minute value at T is the mean of the six 5-minute values in (T - 30 min, T] (interval
ending), and says how many it used. Only the pricing run (INTERVENTION = 0) enters price and
flow means.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nemstream_contracts import SUBJECTS, MeanRow, Message, ThirtyMinute
from nemstream_market import NEM_TZ, PRICING_RUN

HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Series:
    """One aggregated series: source subject, output subject, key and measure."""

    name: str  # e.g. scada.unit
    source: str
    target: str
    key: str
    measure: str
    pricing_run_only: bool


SERIES: dict[str, Series] = {
    subject.mean.source: Series(
        subject.table,
        subject.mean.source,
        subject.name,
        subject.mean.key,
        subject.mean.measure,
        subject.mean.pricing_run_only,
    )
    for subject in SUBJECTS.values()
    if subject.mean is not None
}
"""Aggregated series by the subject they read: every 30-minute subject of the contracts."""


def window_end(interval: datetime) -> datetime:
    """The half-hour (ending) a 5-minute interval (ending) belongs to: (T - 30 min, T]."""
    naive = interval.replace(tzinfo=None)
    start = naive - timedelta(microseconds=1)
    floored = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
    return floored + HALF_HOUR


def values_of(series: Series, message: Message) -> dict[str, float]:
    """key -> value of one 5-minute message (pricing run only where that matters)."""
    out: dict[str, float] = {}
    for row in message.rows:  # type: ignore[attr-defined]
        if series.pricing_run_only and getattr(row, "intervention", PRICING_RUN) != PRICING_RUN:
            continue
        value = getattr(row, series.measure)
        if value is not None:
            out[str(getattr(row, series.key))] = float(value)
    return out


@dataclass(slots=True)
class Window:
    """One series' half-hour: the 5-minute values seen so far, and what was last emitted."""

    series: str
    end: datetime  # naive NEM time
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)  # HHMM -> key -> value
    emitted: str | None = None  # digest of the last emitted aggregate
    sources: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """5-minute intervals seen."""
        return len(self.intervals)

    @property
    def complete(self) -> bool:
        """All six intervals are in."""
        return self.count >= 6

    def add(self, interval: datetime, values: dict[str, float], source: str) -> bool:
        """Record an interval's values; returns whether anything changed."""
        slot = interval.replace(tzinfo=None).strftime("%H%M")
        if self.intervals.get(slot) == values:
            return False
        self.intervals[slot] = values
        if source not in self.sources:
            self.sources.append(source)
        return True

    def rows(self) -> list[MeanRow]:
        """Mean per key over the intervals seen, with the number used."""
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for values in self.intervals.values():
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
        return [MeanRow(key=k, mean=sums[k] / counts[k], intervals=counts[k]) for k in sorted(sums)]

    def digest(self) -> str:
        """Fingerprint of the aggregate (a changed one is re-emitted as a correction)."""
        body = json.dumps(self.intervals, sort_keys=True)
        return hashlib.blake2b(body.encode(), digest_size=12).hexdigest()

    def message(self, series: Series) -> ThirtyMinute:
        """The 30-minute event of this window."""
        rows = self.rows()
        return ThirtyMinute(
            feed="aggregator",
            source_file=f"{self.count} x 5-minute: " + ", ".join(self.sources[-6:]),
            interval=self.end.replace(tzinfo=NEM_TZ),
            table=series.name,
            measure=series.measure,
            complete=self.complete and all(r.intervals == 6 for r in rows),
            rows=rows,
        )

    def dump(self) -> bytes:
        """JSON for KV."""
        return json.dumps(
            {
                "series": self.series,
                "end": self.end.isoformat(),
                "intervals": self.intervals,
                "emitted": self.emitted,
                "sources": self.sources,
            }
        ).encode()

    @classmethod
    def load(cls, raw: bytes) -> Window:
        """From KV."""
        data: dict[str, Any] = json.loads(raw)
        return cls(
            data["series"],
            datetime.fromisoformat(data["end"]),
            data["intervals"],
            data.get("emitted"),
            data.get("sources", []),
        )
