"""The forecast queries as methods `Query` inherits, each cached like the others and keyed by
the versions of the tables it reads (a new run or a new price is never hidden by a cached
answer). The work, and the definition of every measure, is in `_forecasts`."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

import polars as pl

from nemstream_query import _forecasts
from nemstream_query._engine import Engine
from nemstream_query._forecasts import SOURCES, Source
from nemstream_query._records import MonthMemo

T = TypeVar("T")

FORECAST_TABLES = ("p5min", "predispatch")
ACTUAL_TABLES = ("prices5", "prices30")


class ForecastQueries:
    """Forecast queries over `engine`, cached through `_cached` (`Query` provides both)."""

    engine: Engine

    def _cached(self, view: str, tables: Sequence[str], key: Hashable, run: Callable[[], T]) -> T:
        raise NotImplementedError

    def _months(self) -> MonthMemo:
        """Each whole month's error sums, kept by the parts read (made on first use)."""
        memo: MonthMemo | None = getattr(self, "_accuracy_months", None)
        if memo is None:
            memo = self._accuracy_months = MonthMemo(size=512)
        return memo

    def warm_forecast_accuracy(self, months: int = 12) -> int:
        """Read the error sums of the last `months` whole months before the newest run's, both
        sources and every region, into the month memo (in the background at a service's start),
        so the first year of accuracy asked after a start is not a cold read; returns the
        months read."""
        newest = self.newest_forecast_run()
        if newest is None or months <= 0:
            return 0
        end = datetime(newest.year, newest.month, 1)
        start = _months_before(end, months)
        for source in SOURCES:
            _forecasts.forecast_accuracy(
                self.engine, start, end, source=source, memo=self._months()
            )
        return months

    def newest_forecast_run(self, sources: Sequence[Source] = SOURCES) -> datetime | None:
        """The newest run stored of any of `sources`: what "the latest forecast" means."""
        return _forecasts.newest_run(self.engine, sources)

    def latest_forecast(
        self,
        at: datetime | None = None,
        *,
        hours: float = 24.0,
        regions: Sequence[str] = (),
        sources: Sequence[Source] = SOURCES,
    ) -> pl.DataFrame:
        """The forecast as it stood at `at` (default: the newest run) for the next `hours`:
        P5MIN for its hour, pre-dispatch beyond; source, run, interval, region, minutes,
        lead_minutes, rrp, demand_mw."""
        return self._cached(
            "forecast_latest",
            FORECAST_TABLES,
            (at, hours, tuple(regions), tuple(sources)),
            lambda: _forecasts.latest_forecast(
                self.engine, at, hours=hours, regions=regions, sources=sources
            ),
        )

    def forecast_band(
        self,
        start: datetime,
        end: datetime,
        *,
        made: datetime | None = None,
        regions: Sequence[str] = (),
    ) -> pl.DataFrame:
        """Per interval and region the lowest, highest and newest forecast of the runs made by
        `made`, to draw forecasts as a band behind the actual prices."""
        return self._cached(
            "forecast_band",
            FORECAST_TABLES,
            (start, end, made, tuple(regions)),
            lambda: _forecasts.forecast_band(self.engine, start, end, made=made, regions=regions),
        )

    def forecast_evolution(
        self,
        interval: datetime,
        *,
        regions: Sequence[str] = (),
        sources: Sequence[Source] = SOURCES,
    ) -> pl.DataFrame:
        """Every run's forecast of one interval with its lead, the actual price and the error,
        to see how a forecast changed as the interval came closer."""
        return self._cached(
            "forecast_evolution",
            FORECAST_TABLES + ACTUAL_TABLES,
            (interval, tuple(regions), tuple(sources)),
            lambda: _forecasts.forecast_evolution(
                self.engine, interval, regions=regions, sources=sources
            ),
        )

    def forecast_accuracy(
        self,
        start: datetime,
        end: datetime,
        *,
        source: Source = "p5min",
        regions: Sequence[str] = (),
    ) -> pl.DataFrame:
        """Error by region and lead of one source over (start, end]: count, MAE, bias, spike
        hit and false-alarm rates at $300 and $1,000, to judge how far to trust a forecast."""
        return self._cached(
            "forecast_accuracy",
            (source, *ACTUAL_TABLES),
            (start, end, source, tuple(regions)),
            lambda: _forecasts.forecast_accuracy(
                self.engine, start, end, source=source, regions=regions, memo=self._months()
            ),
        )


def _months_before(first: datetime, months: int) -> datetime:
    """The first of the month `months` calendar months before `first` (a first of a month)."""
    index = first.year * 12 + first.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1)
