"""Forecast runs: ``nem.p5min.price.v1`` and ``nem.predispatch.price.v1``, one message per run.

A run's ``interval`` is the run's time, which is also the first interval it forecasts (ending);
each row carries the interval it forecasts (``interval_datetime``, NEM time), never before the
run and on the run's grid (5 minutes for P5MIN, 30 for pre-dispatch). Both runs of a dispatch
intervention are kept, keyed by ``intervention`` (0: the pricing run)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from nemstream_contracts._models import Finite, Message, NemTime, Region, _Row, measure
from nemstream_market import on_grid


class _ForecastRun(Message):
    """A forecast run: its ``interval`` is the run's time (its first forecast interval, ending),
    its rows every region's forecast for each interval ending at or after it, on its grid."""

    row_key: ClassVar[tuple[str, ...]] = ("interval_datetime", "regionid", "intervention")

    @model_validator(mode="after")
    def _rows_ahead_on_grid(self) -> _ForecastRun:
        grid = self.interval_grid()
        for row in getattr(self, "rows", []):
            when: datetime = row.interval_datetime
            if when < self.interval or not on_grid(when, grid):
                raise ValueError(
                    f"forecast interval {when.isoformat()} is before the run "
                    f"({self.interval.isoformat()}) or off the {grid}-minute grid"
                )
        return self


class P5minPriceRow(_Row):
    """One region's 5-minute pre-dispatch forecast for one interval of the run."""

    interval_datetime: NemTime = Field(description="forecast interval ending, NEM time (+10:00)")
    regionid: Region
    intervention: Literal[0, 1] = Field(description="0 = pricing run (use for prices)")
    rrp: Finite = measure("$/MWh", "forecast regional reference price")
    totaldemand: Finite = measure("MW", "forecast demand")
    availablegeneration: Finite | None = measure("MW", default=None)
    dispatchablegeneration: Finite | None = measure("MW", default=None)
    netinterchange: Finite | None = measure("MW", "positive = export", default=None)


class P5minPrice(_ForecastRun):
    """``nem.p5min.price.v1``: one 5-minute pre-dispatch run (``interval`` = RUN_DATETIME), every
    region's forecast price and demand for the next hour."""

    rows: list[P5minPriceRow] = Field(min_length=1)


class PredispatchPriceRow(_Row):
    """One region's 30-minute pre-dispatch forecast price for one half hour of the run."""

    interval_datetime: NemTime = Field(description="forecast half hour ending, NEM time (+10:00)")
    regionid: Region
    intervention: Literal[0, 1] = Field(description="0 = pricing run (use for prices)")
    rrp: Finite = measure("$/MWh", "forecast regional reference price")
    predispatchseqno: int | None = Field(None, description="AEMO's run id: YYYYMMDDPP")
    periodid: int | None = Field(None, description="the half hour's number within the run")


class PredispatchPrice(_ForecastRun):
    """``nem.predispatch.price.v1``: one 30-minute pre-dispatch run (``interval`` = the run's
    time, from PREDISPATCHSEQNO), every region's forecast price to the end of the next trading
    day."""

    grid_minutes: ClassVar[int] = 30
    rows: list[PredispatchPriceRow] = Field(min_length=1)
