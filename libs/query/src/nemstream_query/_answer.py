"""What a query returns: rows, the resolution they are at, and how complete they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from nemstream_query._resolution import (
    HALF_HOUR,
    Gaps,
    Resolution,
    align_down,
    gaps,
    missing_half_hours,
    runs,
)


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


@dataclass(frozen=True, slots=True)
class Filled:
    """Rows of the chosen resolution, completed where it had gaps."""

    frame: pl.DataFrame
    coverage: float
    filled: int
    sources: list[str]


def complete(
    frame: pl.DataFrame,
    resolution: Resolution,
    start: datetime,
    end: datetime,
    newest: datetime | None,
    threshold: float,
    sources: tuple[str, str],
    fill: Callable[[pl.Series], pl.DataFrame],
) -> Filled:
    """Measure the gaps of `frame` (at `resolution`, up to the newest data) and, above the
    threshold, add the half-hours `fill` gives for exactly the missing ones: a 5-minute series
    takes half-hours with no 5-minute interval at all, a 30-minute one its missing half-hours."""
    primary, other = sources
    if newest is None:
        return Filled(frame, 1.0, 0, [primary])
    edge = align_down(min(end, newest), resolution.minutes)
    present = frame["interval"].unique()
    found = gaps(present, start, edge, resolution.minutes)
    if not needs_fill(found, threshold):
        return Filled(frame, found.coverage, 0, [primary])
    halves = (
        missing_half_hours(present, start, edge) if resolution is Resolution.FIVE else found.missing
    )
    extra = fill(halves)
    if extra.is_empty():
        return Filled(frame, found.coverage, 0, [primary])
    merged = pl.concat([frame, extra])
    return Filled(merged, found.coverage, extra["interval"].n_unique(), [primary, other])
