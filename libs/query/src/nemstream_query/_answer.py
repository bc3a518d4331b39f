"""What a query returns: rows, the resolution they are at, and how complete they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from nemstream_query._resolution import HALF_HOUR, Gaps, Resolution, runs


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows of one query. ``coverage`` is the chosen resolution's share of expected intervals
    before filling; ``filled`` counts intervals taken from the other resolution."""

    frame: pl.DataFrame
    resolution: Resolution
    coverage: float = 1.0
    filled: int = 0
    sources: tuple[str, ...] = field(default_factory=tuple)


def fill_ranges(missing_halves: pl.Series) -> list[tuple[datetime, datetime]]:
    """(start, end] ranges covering the missing half-hours, few enough to query one by one."""
    return runs(missing_halves, int(HALF_HOUR.total_seconds() // 60))


def needs_fill(found: Gaps, threshold: float) -> bool:
    """Whether the chosen resolution misses more than the threshold allows."""
    return found.expected > 0 and (1 - found.coverage) > threshold
