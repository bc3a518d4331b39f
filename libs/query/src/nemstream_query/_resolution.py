"""Which resolution answers a range, and which of its intervals are missing.

A range is (start, end], intervals ending in it. Up to `five_minute_max` it is read at 5
minutes, up to `thirty_minute_max` at 30 minutes, beyond that daily. The chosen resolution
is complete when it holds every interval from the range's start to the store's newest
interval (the live edge is not a gap); when more than `threshold` of them are missing, the
other resolution fills exactly the missing half-hours, so no half-hour is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import polars as pl

HALF_HOUR = timedelta(minutes=30)


class Resolution(StrEnum):
    """Interval length of an answer."""

    FIVE = "5min"
    THIRTY = "30min"
    DAILY = "daily"

    @property
    def minutes(self) -> int:
        """Interval length in minutes."""
        return {"5min": 5, "30min": 30, "daily": 1440}[self.value]


@dataclass(frozen=True, slots=True)
class Policy:
    """Thresholds for choosing and completing a resolution."""

    five_minute_max: timedelta = timedelta(hours=48)
    thirty_minute_max: timedelta = timedelta(days=92)
    threshold: float = 0.10

    def choose(self, start: datetime, end: datetime) -> Resolution:
        """The resolution for a range, from its length."""
        span = end - start
        if span <= self.five_minute_max:
            return Resolution.FIVE
        if span <= self.thirty_minute_max:
            return Resolution.THIRTY
        return Resolution.DAILY


def expected(start: datetime, end: datetime, minutes: int) -> pl.Series:
    """Interval endings in (start, end] on the `minutes` grid."""
    step = timedelta(minutes=minutes)
    first = align_up(start + timedelta(microseconds=1), minutes)
    if first > end:
        return pl.Series("interval", [], pl.Datetime("us"))
    return pl.datetime_range(first, end, step, eager=True).alias("interval")


def align_up(moment: datetime, minutes: int) -> datetime:
    """The first interval ending on the `minutes` grid at or after `moment`."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = moment - day
    step = timedelta(minutes=minutes)
    whole = -(-elapsed // step)
    return day + whole * step


def align_down(moment: datetime, minutes: int) -> datetime:
    """The last interval ending on the `minutes` grid at or before `moment`."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + ((moment - day) // timedelta(minutes=minutes)) * timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Gaps:
    """The intervals a resolution lacks in a range."""

    expected: int
    missing: pl.Series  # interval endings

    @property
    def coverage(self) -> float:
        """Share of expected intervals present (1.0 when nothing was expected)."""
        return 1.0 if self.expected == 0 else 1 - len(self.missing) / self.expected


def gaps(present: pl.Series, start: datetime, end: datetime, minutes: int) -> Gaps:
    """Missing intervals of a resolution in (start, end] given those present."""
    want = expected(start, end, minutes)
    missing = want.filter(~want.is_in(present.implode()))
    return Gaps(len(want), missing)


def missing_half_hours(present5: pl.Series, start: datetime, end: datetime) -> pl.Series:
    """Half-hours in (start, end] with no 5-minute interval at all."""
    have = (present5.dt.offset_by("-5m").dt.truncate("30m").dt.offset_by("30m")).unique()
    want = expected(start, end, 30)
    return want.filter(~want.is_in(have.implode()))


def runs(moments: pl.Series, minutes: int, *, limit: int = 24) -> list[tuple[datetime, datetime]]:
    """Consecutive interval endings as (start, end] ranges, at most `limit` (merged if more)."""
    values = moments.sort().to_list()
    if not values:
        return []
    step = timedelta(minutes=minutes)
    out: list[tuple[datetime, datetime]] = [(values[0] - step, values[0])]
    for value in values[1:]:
        if value - out[-1][1] <= step:
            out[-1] = (out[-1][0], value)
        else:
            out.append((value - step, value))
    if len(out) > limit:
        return [(out[0][0], out[-1][1])]
    return out
