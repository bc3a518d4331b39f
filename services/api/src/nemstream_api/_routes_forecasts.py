"""Price forecasts: the latest forecast (P5MIN for the next hour, pre-dispatch beyond), how one
interval's forecast evolved with lead time, and forecast accuracy by lead.

Same conventions as every history endpoint (`_history`, `_respond`): json pages, csv and
parquet, ``interval_start``/``interval_end`` on every row, an ``ETag`` from the tables'
versions, 422 for a bad parameter. A forecast row's interval is the interval it forecasts
(5 minutes for P5MIN, 30 for pre-dispatch); an accuracy row's interval is the whole range it
summarises. The measures are defined in `nemstream_query._forecasts` and docs/forecasts.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import Field

from nemstream_api._history import ERRORS, FORMATS, History, RegionsParam, regions_of
from nemstream_api._models import Interval, Page
from nemstream_api._params import (
    CursorParam,
    Format,
    FormatParam,
    LimitParam,
    Paged,
    Step,
    Window,
    invalid,
    parse_moment,
)
from nemstream_api._respond import ISO, NEM_ZONE, Rows
from nemstream_query import SOURCES, Source

FORECASTS = ("p5min", "predispatch")
ACTUALS = ("prices5", "prices30")


class SourceParam(StrEnum):
    """Which forecast."""

    P5MIN = "p5min"
    PREDISPATCH = "predispatch"
    BOTH = "both"


def sources_of(source: SourceParam) -> tuple[Source, ...]:
    """The forecast tables a ``source`` parameter names."""
    return SOURCES if source is SourceParam.BOTH else (source.value,)  # type: ignore[return-value]


class ForecastRow(Interval):
    """One region's forecast price for one interval, from one run."""

    region: str = Field(description="NEM region")
    source: str = Field(description="p5min (5-minute pre-dispatch) | predispatch (30-minute)")
    run: str = Field(description="when the run was made (its first interval ending), +10:00")
    lead_minutes: int = Field(description="interval_end - run, minutes")
    rrp: float | None = Field(description="forecast RRP, $/MWh, pricing run (INTERVENTION = 0)")
    demand_mw: float | None = Field(None, description="P5MIN forecast TOTALDEMAND, MW")


class EvolutionRow(ForecastRow):
    """A run's forecast of the interval asked, with the price that came."""

    actual: float | None = Field(
        description="$/MWh: the dispatch price (p5min) or the half hour's mean of its six "
        "dispatch prices (predispatch); null until known"
    )
    error: float | None = Field(description="rrp - actual, $/MWh")


class AccuracyRow(Interval):
    """How good one source's forecasts were at one lead, in one region, over the range."""

    region: str = Field(description="NEM region")
    source: str = Field(description="p5min | predispatch")
    lead_minutes: int = Field(description="interval - run, minutes")
    count: int = Field(description="(run, interval) pairs with a forecast and an actual")
    mae: float | None = Field(description="mean |forecast - actual|, $/MWh")
    bias: float | None = Field(description="mean (forecast - actual), $/MWh; > 0: too high")
    spikes_300: int = Field(description="pairs whose actual was >= $300/MWh")
    hits_300: int = Field(description="of those, forecast >= $300 too")
    hit_rate_300: float | None = Field(description="hits_300 / spikes_300 (null: no spike)")
    false_alarms_300: int = Field(description="pairs forecast >= $300 whose actual was < $300")
    false_alarm_rate_300: float | None = Field(
        description="false_alarms_300 / pairs forecast >= $300 (null: none forecast)"
    )
    spikes_1000: int = Field(description="as spikes_300, at $1,000/MWh")
    hits_1000: int = Field(description="as hits_300, at $1,000/MWh")
    hit_rate_1000: float | None = Field(description="as hit_rate_300, at $1,000/MWh")
    false_alarms_1000: int = Field(description="as false_alarms_300, at $1,000/MWh")
    false_alarm_rate_1000: float | None = Field(description="as false_alarm_rate_300, $1,000")


SourceQuery = Annotated[
    SourceParam, Query(description="p5min | predispatch | both (P5MIN first, pre-dispatch beyond)")
]


def _runs_as(frame: pl.DataFrame, format_: Format) -> pl.DataFrame:
    """``run`` in the response's time convention: ISO +10:00 text, NEM-time timestamps in
    parquet."""
    if format_ is Format.PARQUET:
        return frame.with_columns(pl.col("run").dt.replace_time_zone(NEM_ZONE))
    return frame.with_columns(pl.col("run").dt.strftime(ISO))


def _paged(format_: Format, cursor: str | None, limit: int | None) -> Paged:
    return Paged(None, None, format_, cursor, limit)


def _over(start: datetime, end: datetime, resolution: str) -> dict[str, object]:
    """The meta of an answer whose range is its own (not the window's default)."""
    return {"start": start.strftime(ISO), "end": end.strftime(ISO), "resolution": resolution}


def router(history: History) -> APIRouter:
    """The routes of this module."""
    api = APIRouter(tags=["history"])
    store = history.store

    @api.get(
        "/v1/forecasts/prices",
        summary="The latest price forecast: P5MIN for the next hour, pre-dispatch beyond",
        response_model=Page[ForecastRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def forecast_prices(
        request: Request,
        run: Annotated[
            str | None,
            Query(
                description="as of this time (ISO 8601, NEM time when no offset): the newest run "
                "of each source made at or before it; default: the newest run stored",
                examples=["2026-11-30T16:00+10:00"],
            ),
        ] = None,
        hours: Annotated[
            float, Query(gt=0, le=72, description="how far ahead of the run, hours")
        ] = 24.0,
        region: RegionsParam = None,
        source: SourceQuery = SourceParam.BOTH,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
    ) -> Response:
        """Forecast RRP per region for the intervals ending in [run, run + hours]: from the
        newest P5MIN run for its 12 five-minute intervals, then from the newest pre-dispatch
        run for the half hours ending after P5MIN's last interval. Each row names its
        ``source`` and ``run`` and its ``lead_minutes``; ``minutes`` is 5 or 30."""
        at = parse_moment("run", run)
        regions = regions_of(region)
        sources = sources_of(source)

        def compute(_: Window) -> Rows:
            moment = at or store.newest_forecast_run(sources)
            frame = store.latest_forecast(moment, hours=hours, regions=regions, sources=sources)
            meta: dict[str, object] = {"source": source.value, "hours": hours}
            if moment is not None:
                meta |= _over(moment, moment + timedelta(hours=hours), "5min+30min")
            newest = frame.group_by("source").agg(pl.col("run").max())
            meta["runs"] = {s: r.strftime(ISO) for s, r in newest.iter_rows()}
            return Rows(
                _runs_as(frame, format).select(_FORECAST_COLUMNS),
                ("region", "source"),
                "forecast_prices",
                {"rrp": "$/MWh", "demand_mw": "MW"},
                meta,
            )

        return await history.answer(
            request,
            _paged(format, cursor, limit),
            tables=FORECASTS,
            compute=compute,
            resolution=Step.FIVE,
        )

    @api.get(
        "/v1/forecasts/evolution",
        summary="Every run's forecast of one interval, by lead time, with the actual price",
        response_model=Page[EvolutionRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def forecast_evolution(
        request: Request,
        interval: Annotated[
            str,
            Query(
                description="the interval (ending; ISO 8601, NEM time when no offset)",
                examples=["2026-11-30T18:00+10:00"],
            ),
        ],
        region: RegionsParam = None,
        source: SourceQuery = SourceParam.BOTH,
        format: FormatParam = Format.JSON,
        cursor: CursorParam = None,
        limit: LimitParam = None,
    ) -> Response:
        """Every P5MIN run's forecast of the 5-minute interval and every pre-dispatch run's
        forecast of the half hour holding it, each with ``lead_minutes``, the ``actual`` price
        (dispatch price; for pre-dispatch the half hour's mean) and ``error`` = rrp - actual."""
        target = parse_moment("interval", interval)
        if target is None:
            invalid("interval", "an interval is needed", interval)
        regions = regions_of(region)
        sources = sources_of(source)

        def compute(_: Window) -> Rows:
            frame = store.forecast_evolution(target, regions=regions, sources=sources)
            return Rows(
                _runs_as(frame, format).select(*_FORECAST_COLUMNS, "actual", "error"),
                ("source", "region", "lead_minutes"),
                "forecast_evolution",
                {"rrp": "$/MWh", "actual": "$/MWh", "error": "$/MWh", "demand_mw": "MW"},
                {"source": source.value, **_over(target, target, "5min+30min")},
            )

        return await history.answer(
            request,
            _paged(format, cursor, limit),
            tables=(*FORECASTS, *ACTUALS),
            compute=compute,
            resolution=Step.FIVE,
        )

    @api.get(
        "/v1/forecasts/accuracy",
        summary="Forecast error by lead time per region: MAE, bias, spike hit rates",
        response_model=Page[AccuracyRow],
        responses={**ERRORS, 200: FORMATS},
    )
    async def forecast_accuracy(
        request: Request,
        paged: Annotated[Paged, Depends()],
        region: RegionsParam = None,
        source: SourceQuery = SourceParam.P5MIN,
    ) -> Response:
        """Over the forecast intervals ending in (start, end] (default: the day up to the
        newest data), per region and lead: ``count`` of (run, interval) pairs with an actual,
        ``mae`` and ``bias`` ($/MWh), and at $300 and $1,000: ``spikes`` (actual ≥ X),
        ``hits`` (also forecast ≥ X), ``hit_rate`` = hits / spikes, ``false_alarms``
        (forecast ≥ X, actual < X) and ``false_alarm_rate`` = false alarms / forecasts ≥ X.
        P5MIN is compared with the 5-minute dispatch price, pre-dispatch with the half hour's
        mean of its six dispatch prices. Every row's interval is the whole range."""
        regions = regions_of(region)
        sources = sources_of(source)

        def compute(asked: Window) -> Rows:
            frame = _accuracy(asked.start, asked.end, regions, sources)
            span = int((asked.end - asked.start).total_seconds() // 60)
            frame = frame.with_columns(
                pl.lit(asked.end).alias("interval"), pl.lit(span, pl.Int64).alias("minutes")
            )
            return Rows(
                frame.select("interval", "minutes", *(c for c in frame.columns if c not in _RANGE)),
                ("region", "source", "lead_minutes"),
                "forecast_accuracy",
                {"mae": "$/MWh", "bias": "$/MWh"},
                {"source": source.value, "resolution": "range", "minutes": span},
            )

        def _accuracy(
            start: datetime, end: datetime, regions: list[str], sources: Sequence[Source]
        ) -> pl.DataFrame:
            frames = [
                store.forecast_accuracy(start, end, source=s, regions=regions) for s in sources
            ]
            return pl.concat(frames)

        return await history.answer(
            request,
            paged,
            tables=(*FORECASTS, *ACTUALS),
            compute=compute,
            resolution=Step.DAY,
        )

    return api


_RANGE = ("interval", "minutes")
_FORECAST_COLUMNS = [
    "interval",
    "minutes",
    "region",
    "source",
    "run",
    "lead_minutes",
    "rrp",
    "demand_mw",
]
