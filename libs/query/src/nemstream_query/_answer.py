"""What a query returns: rows, the resolution they are at, and how complete they are.

Completeness is said twice: for the answer (``coverage``: the share of intervals the chosen
resolution had before filling) and for every row that averages (``intervals``: how many
5-minute values the row stands on; ``complete``: whether that is every one its length holds,
``intervals >= minutes / 5`` - 1 of 1 at 5 minutes, 6 of 6 for a half-hour, 288 of 288 for a
trading day). A half-hour the aggregator averaged from four 5-minute prices is 4, not complete.
"""

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

FIVE_MINUTES = 5
"""Minutes of the finest interval: a row of ``minutes`` stands for ``minutes / 5`` of them."""


def with_complete(frame: pl.DataFrame) -> pl.DataFrame:
    """Add (or replace) ``complete``: the row has every 5-minute value its length holds."""
    return frame.with_columns(
        (pl.col("intervals") >= pl.col("minutes") // FIVE_MINUTES)
        .fill_null(False)
        .alias("complete")
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows of one query. ``coverage`` is the chosen resolution's share of expected intervals
    before filling; ``filled`` counts intervals taken from the other resolution. Rows carry
    ``minutes`` (their length), ``intervals`` (5-minute values they stand on) and ``complete``
    (``intervals >= minutes / 5``)."""

    frame: pl.DataFrame
    resolution: Resolution
    coverage: float = 1.0
    filled: int = 0
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def partial(self) -> int:
        """Rows built from fewer 5-minute values than their length holds."""
        if "complete" not in self.frame.columns:
            return 0
        return int(self.frame.height - self.frame["complete"].sum())


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
